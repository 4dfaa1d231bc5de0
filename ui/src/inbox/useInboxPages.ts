/**
 * The inbox as pages fetched on demand by offset. The list asks for the rows it can see
 * (`ensure`); only those pages are fetched, so 100 000 cached notifications cost a few pages.
 */
import { useCallback, useEffect, useReducer, useRef } from "react";
import { api, errorMessage, type InboxItem, type InboxQuery } from "../api";

export const PAGE_SIZE = 100;
/** Pages kept around the visible range when the cache grows past this many. */
const MAX_CACHED_PAGES = 30;
/** How far `locate` looks for an item that is not cached (newest first, so toasts are near the top). */
const LOCATE_MAX_PAGES = 10;

interface Page {
  items: InboxItem[];
  epoch: number;
}

/** One filter's cache; replaced wholesale when the filter changes, so late answers are dropped. */
interface Store {
  key: string;
  pages: Map<number, Page>;
  inflight: Map<number, number>;
  /** Bumped when the inbox changed: cached pages stay on screen until their fresh copy arrives. */
  epoch: number;
  range: [number, number];
  /** `null` until the first page answered. */
  total: number | null;
  error: string | null;
}

const newStore = (key: string): Store => ({
  key,
  pages: new Map(),
  inflight: new Map(),
  epoch: 0,
  range: [0, 0],
  total: null,
  error: null,
});
const keyOf = (filter: InboxQuery) => `${filter.unreadOnly ? 1 : 0}:${filter.query}`;

export interface InboxPages {
  /** `null` until the first page answered. */
  total: number | null;
  error: string | null;
  /** The list is being replaced by another filter's (the old rows stay until it arrives). */
  switching: boolean;
  item(index: number): InboxItem | undefined;
  /** Make sure rows `start..end` (exclusive) are loaded. */
  ensure(start: number, end: number): void;
  /** Refetch what is on screen (the inbox changed). */
  refresh(): void;
  /** Show these as read right away (the command follows). */
  markReadLocally(ids: ReadonlySet<string> | "all"): void;
  /** The row index of a notification, fetching pages from the top if needed. */
  locate(id: string): Promise<number | null>;
}

export function useInboxPages(filter: InboxQuery, pageSize = PAGE_SIZE): InboxPages {
  const key = keyOf(filter);
  const store = useRef<Store | null>(null);
  if (store.current === null) store.current = newStore(key);
  /** The next filter's cache, shown as soon as its first page is in. */
  const pending = useRef<Store | null>(null);
  const [, rerender] = useReducer((n: number) => n + 1, 0);

  const current = () => store.current as Store;

  const fetchPage = useCallback(
    (s: Store, page: number): Promise<Page | null> => {
      const epoch = s.epoch;
      s.inflight.set(page, epoch);
      const [unreadOnly, ...rest] = s.key.split(":");
      const query: InboxQuery = { unreadOnly: unreadOnly === "1", query: rest.join(":") };
      const live = () => s === store.current || s === pending.current;
      return api.inboxPage(query, page * pageSize, pageSize).then(
        (result) => {
          if (!live()) return null;
          if (s.inflight.get(page) === epoch) s.inflight.delete(page);
          const existing = s.pages.get(page);
          if (existing && existing.epoch > epoch) return existing;
          const fresh = { items: result.items, epoch };
          s.pages.set(page, fresh);
          if (result.total != null) s.total = result.total;
          s.error = null;
          if (s === pending.current) {
            store.current = s;
            pending.current = null;
          }
          evict(s, pageSize);
          rerender();
          return fresh;
        },
        (e: unknown) => {
          if (!live()) return null;
          s.inflight.delete(page);
          s.error = errorMessage(e);
          if (s === pending.current) {
            // Show the new filter's error rather than the old filter's rows.
            store.current = s;
            pending.current = null;
          }
          rerender();
          return null;
        },
      );
    },
    [pageSize],
  );

  const load = useCallback(
    (s: Store, page: number) => {
      const cached = s.pages.get(page);
      if (cached && cached.epoch === s.epoch) return;
      if (s.inflight.get(page) === s.epoch) return;
      void fetchPage(s, page);
    },
    [fetchPage],
  );

  const ensure = useCallback(
    (start: number, end: number) => {
      const s = pending.current ?? current();
      s.range = [start, end];
      const first = Math.floor(start / pageSize);
      const last = Math.floor(Math.max(start, end - 1) / pageSize);
      for (let p = first; p <= last; p++) load(s, p);
    },
    [load, pageSize],
  );

  const refresh = useCallback(() => {
    const s = pending.current ?? current();
    s.epoch += 1;
    const [start, end] = s.range;
    ensure(start, Math.max(end, start + 1));
  }, [ensure]);

  // Another filter is another list: start it at the top, keep the old rows until it answers.
  useEffect(() => {
    if (current().key === key) {
      pending.current = null;
      load(current(), 0);
      return;
    }
    if (pending.current?.key === key) return;
    pending.current = newStore(key);
    rerender();
    load(pending.current, 0);
  }, [key, load]);

  const item = useCallback(
    (index: number) => current().pages.get(Math.floor(index / pageSize))?.items[index % pageSize],
    [pageSize],
  );

  const markReadLocally = useCallback((ids: ReadonlySet<string> | "all") => {
    const now = new Date().toISOString();
    for (const page of current().pages.values()) {
      page.items = page.items.map((it) => (!it.readAt && (ids === "all" || ids.has(it.id)) ? { ...it, readAt: now } : it));
    }
    rerender();
  }, []);

  const locate = useCallback(
    async (id: string) => {
      const s = current();
      for (const [p, page] of s.pages) {
        const i = page.items.findIndex((it) => it.id === id);
        if (i >= 0) return p * pageSize + i;
      }
      for (let p = 0; p < LOCATE_MAX_PAGES; p++) {
        const page = s.pages.get(p) ?? (await fetchPage(s, p));
        if (!page || store.current !== s) return null;
        const i = page.items.findIndex((it) => it.id === id);
        if (i >= 0) return p * pageSize + i;
        if (page.items.length < pageSize) return null;
      }
      return null;
    },
    [fetchPage, pageSize],
  );

  const s = current();
  return {
    total: s.total,
    error: s.error,
    switching: pending.current !== null,
    item,
    ensure,
    refresh,
    markReadLocally,
    locate,
  };
}

/** Keeps memory flat while scrolling through 100 000 rows: drop pages far from the view. */
function evict(s: Store, pageSize: number) {
  if (s.pages.size <= MAX_CACHED_PAGES) return;
  const centre = Math.floor((s.range[0] + s.range[1]) / 2 / pageSize);
  const byDistance = [...s.pages.keys()].sort((a, b) => Math.abs(b - centre) - Math.abs(a - centre));
  for (const p of byDistance.slice(0, s.pages.size - MAX_CACHED_PAGES)) s.pages.delete(p);
}
