import { memo } from "react";
import type { InboxItem } from "../api";
import { exactTime, relativeTime } from "../format";

interface Props {
  item: InboxItem | undefined;
  now: number;
  highlighted: boolean;
  onOpen(item: InboxItem): void;
}

/** A small glyph per kind of notification; unknown kinds get the generic bell. */
function KindIcon({ kind }: { kind: string }) {
  const path =
    kind === "file.stored"
      ? "M7 3h7l5 5v13H7zM14 3v5h5M10 14l2 2 4-4"
      : kind === "file.deleted"
        ? "M5 7h14M10 7V4h4v3M7 7l1 14h8l1-14"
        : kind.startsWith("storage.")
          ? "M12 4 2.5 20h19zM12 10v4M12 17v.5"
          : "M6 16V11a6 6 0 1 1 12 0v5l1.5 2h-15zM10 20a2 2 0 0 0 4 0";
  return (
    <svg className="kind-icon" data-kind={kind} viewBox="0 0 24 24" aria-hidden="true">
      <path d={path} />
    </svg>
  );
}

/** One notification: unread dot and bold while unread, title, body, when. */
export const InboxRow = memo(function InboxRow({ item, now, highlighted, onOpen }: Props) {
  if (!item) {
    return (
      <div className="inbox-row placeholder" aria-busy="true" aria-label="Loading">
        <span className="skeleton title" />
        <span className="skeleton body" />
      </div>
    );
  }
  const unread = !item.readAt;
  return (
    <button
      type="button"
      className="inbox-row"
      data-row-focus
      data-unread={unread}
      data-highlighted={highlighted || undefined}
      aria-label={`${unread ? "Unread: " : ""}${item.title}. ${item.body}. ${relativeTime(item.createdAt, now)}`}
      onClick={() => onOpen(item)}
    >
      <span className="unread-dot" aria-hidden="true" />
      <KindIcon kind={item.kind} />
      <span className="inbox-text">
        <span className="inbox-title">{item.title}</span>
        <span className="inbox-snippet">{item.body}</span>
      </span>
      <time className="inbox-time" dateTime={item.createdAt} title={exactTime(item.createdAt)}>
        {relativeTime(item.createdAt, now)}
      </time>
    </button>
  );
});
