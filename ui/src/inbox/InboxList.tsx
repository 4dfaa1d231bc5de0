import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api, errorMessage, on, type InboxItem, type InboxQuery } from "../api";
import { useDebounced, useNow } from "../hooks";
import { shortcutLabel } from "../useShortcuts";
import { InboxRow } from "./InboxRow";
import { useInboxPages } from "./useInboxPages";
import { VirtualList, type VirtualListHandle } from "./VirtualList";

export const ROW_HEIGHT = 64;
const SEARCH_DEBOUNCE_MS = 250;
const HIGHLIGHT_MS = 2500;

interface Props {
  /** The unread count (the badge's), or `null` while unknown. */
  unread: number | null;
  /** Read state changed here: the badge should catch up. */
  onReadChanged(): void;
}

/** The inbox: search, unread filter, mark all read, and the virtualized list of notifications. */
export function InboxList({ unread, onReadChanged }: Props) {
  const [search, setSearch] = useState("");
  const [unreadOnly, setUnreadOnly] = useState(false);
  const query = useDebounced(search.trim(), SEARCH_DEBOUNCE_MS);
  const filter = useMemo<InboxQuery>(() => ({ unreadOnly, query }), [unreadOnly, query]);
  const pages = useInboxPages(filter);
  const list = useRef<VirtualListHandle>(null);
  const now = useNow();
  const [actionError, setActionError] = useState<string | null>(null);
  const [highlight, setHighlight] = useState<string | null>(null);
  const [focusRequest, setFocusRequest] = useState<string | null>(null);

  const { refresh, markReadLocally, locate, item: itemAt } = pages;

  // New notifications or read state from elsewhere (the server, another device). Someone reading
  // further down keeps their place; new rows only push the list when it is at the top.
  const unfiltered = filter.query === "" && !filter.unreadOnly;
  useEffect(
    () =>
      on.inboxChanged(({ added }) => {
        if (unfiltered) list.current?.keepPositionAfterInsert(added.length);
        refresh();
      }),
    [refresh, unfiltered],
  );

  // A new filter starts at the top.
  useEffect(() => {
    list.current?.scrollToIndex(0);
  }, [filter]);

  const markRead = useCallback(
    (ids: string[]) => {
      markReadLocally(new Set(ids));
      setActionError(null);
      api
        .inboxMarkRead(ids)
        .then(onReadChanged)
        .catch((e: unknown) => {
          setActionError(errorMessage(e));
          refresh();
        });
    },
    [markReadLocally, onReadChanged, refresh],
  );

  const open = useCallback(
    (item: InboxItem) => {
      if (!item.readAt) markRead([item.id]);
    },
    [markRead],
  );

  const markAllRead = () => {
    markReadLocally("all");
    setActionError(null);
    api
      .inboxMarkAllRead()
      .then(() => {
        onReadChanged();
        refresh();
      })
      .catch((e: unknown) => {
        setActionError(errorMessage(e));
        refresh();
      });
  };

  // A toast was clicked: show that notification, whatever the filter hid.
  useEffect(
    () =>
      on.focusItem(({ id }) => {
        setSearch("");
        setUnreadOnly(false);
        setFocusRequest(id);
      }),
    [],
  );
  const ready = !pages.switching && pages.total != null && filter.query === "" && !filter.unreadOnly;
  useEffect(() => {
    if (!focusRequest || !ready) return;
    let live = true;
    void locate(focusRequest).then((index) => {
      if (!live) return;
      setFocusRequest(null);
      if (index == null) return;
      list.current?.scrollToIndex(index, "center");
      list.current?.focusIndex(index);
      setHighlight(focusRequest);
      const item = itemAt(index);
      if (item && !item.readAt) markRead([item.id]);
    });
    return () => {
      live = false;
    };
  }, [focusRequest, ready, locate, markRead, itemAt]);
  useEffect(() => {
    if (!highlight) return;
    const timer = setTimeout(() => setHighlight(null), HIGHLIGHT_MS);
    return () => clearTimeout(timer);
  }, [highlight]);

  const renderRow = (index: number) => {
    const item = pages.item(index);
    return <InboxRow item={item} now={now} highlighted={item != null && item.id === highlight} onOpen={open} />;
  };

  const total = pages.total;
  let body;
  if (pages.error && !total) {
    body = (
      <div className="empty" role="alert">
        <p className="empty-title">The inbox could not be loaded</p>
        <p className="muted">{pages.error}</p>
        <button type="button" className="button" onClick={refresh}>
          Try again
        </button>
      </div>
    );
  } else if (total === null) {
    body = (
      <div className="empty" aria-busy="true">
        <p className="muted">Loading notifications…</p>
      </div>
    );
  } else if (total === 0) {
    body = filter.query ? (
      <div className="empty">
        <p className="empty-title">Nothing matches “{filter.query}”</p>
        <p className="muted">
          {filter.unreadOnly ? "Only unread notifications are searched. " : ""}Search looks at titles and file names;
          try fewer or shorter words.
        </p>
        <button type="button" className="button" onClick={() => setSearch("")}>
          Clear search
        </button>
      </div>
    ) : filter.unreadOnly ? (
      <div className="empty">
        <p className="empty-title">You’re all caught up</p>
        <p className="muted">No unread notifications.</p>
        <button type="button" className="button" onClick={() => setUnreadOnly(false)}>
          Show all notifications
        </button>
      </div>
    ) : (
      <div className="empty">
        <p className="empty-title">No notifications yet — drop a file to upload it</p>
        <p className="muted">You get a notification here when a file is stored in your LockBox.</p>
      </div>
    );
  } else {
    body = (
      <VirtualList
        ref={list}
        count={total}
        rowHeight={ROW_HEIGHT}
        label="Notifications"
        renderRow={renderRow}
        onRangeChange={pages.ensure}
      />
    );
  }

  return (
    <section className="inbox" aria-label="Inbox">
      <div className="inbox-toolbar">
        <h2 className="pane-title">Inbox</h2>
        <input
          id="inbox-search"
          type="search"
          className="search"
          placeholder="Search titles and file names"
          title={`Search (${shortcutLabel("f")})`}
          aria-label="Search notifications"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Escape" && search) {
              e.preventDefault();
              setSearch("");
            }
          }}
          spellCheck={false}
        />
        <button
          type="button"
          className="button toggle"
          aria-pressed={unreadOnly}
          onClick={() => setUnreadOnly((v) => !v)}
        >
          Unread only
        </button>
        <button type="button" className="button" onClick={markAllRead} disabled={!unread}>
          Mark all read
        </button>
      </div>
      {actionError && (
        <p className="inline-error" role="alert">
          {actionError}
        </p>
      )}
      <div className="inbox-body" aria-busy={pages.switching}>
        {body}
      </div>
      <p className="sr-only" aria-live="polite">
        {filter.query && total != null ? `${total} ${total === 1 ? "notification matches" : "notifications match"}` : ""}
      </p>
    </section>
  );
}
