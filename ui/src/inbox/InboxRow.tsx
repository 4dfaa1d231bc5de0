import { memo } from "react";
import type { InboxItem } from "../api";
import { exactTime, relativeTime } from "../format";

interface Props {
  item: InboxItem | undefined;
  now: number;
  highlighted: boolean;
  onOpen(item: InboxItem): void;
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
