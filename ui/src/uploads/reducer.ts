/**
 * The upload queue as the window sees it, fed by the upload channel. Pure: the same messages
 * always give the same state, so it is tested without a window.
 */
import type { UploadItem, UploadState, UploadUpdate } from "../api";

export interface UploadsState {
  /** Ids in the order the queue first told us about them (oldest first). */
  order: string[];
  byId: Record<string, UploadItem>;
  /** `false` until the snapshot arrived, so the window does not flash an empty list. */
  loaded: boolean;
}

export const initialUploads: UploadsState = { order: [], byId: {}, loaded: false };

export function uploadsReducer(state: UploadsState, update: UploadUpdate): UploadsState {
  switch (update.type) {
    case "snapshot": {
      const byId: Record<string, UploadItem> = {};
      const order: string[] = [];
      for (const item of update.items) {
        if (!(item.id in byId)) order.push(item.id);
        byId[item.id] = item;
      }
      return { order, byId, loaded: true };
    }
    case "item": {
      const { item } = update;
      const known = item.id in state.byId;
      return {
        ...state,
        order: known ? state.order : [...state.order, item.id],
        byId: { ...state.byId, [item.id]: item },
      };
    }
    case "progress": {
      const current = state.byId[update.id];
      // Progress for an item we have not heard of yet: its `item` message will follow.
      if (!current) return state;
      // A late progress tick must not drag a finished or stopped item back.
      if (current.state !== "uploading" && current.state !== "queued") return state;
      if (current.sent === update.sent && current.size === update.size) return state;
      const next: UploadItem = { ...current, sent: update.sent, size: update.size ?? current.size };
      return { ...state, byId: { ...state.byId, [update.id]: next } };
    }
  }
}

/** The timeline every file walks, in order. */
export const TIMELINE: readonly UploadState[] = ["queued", "uploading", "stored", "verified", "notified"];

/** The server has the whole file from here on. */
const DONE: ReadonlySet<UploadState> = new Set(["stored", "verified", "notified"]);

export function isActive(state: UploadState): boolean {
  return state === "queued" || state === "uploading";
}

/** Bytes that count as sent: a stored file is complete even if the last tick was throttled away. */
export function sentBytes(item: UploadItem): number {
  const size = item.size ?? 0;
  if (DONE.has(item.state)) return Math.max(size, item.sent ?? 0);
  return Math.min(item.sent ?? 0, size || Infinity);
}

export interface Batch {
  id: string;
  items: UploadItem[];
  /** Sums over the items that still count (cancelled files do not). */
  sent: number;
  size: number;
  /** Files whose bytes are on the server. */
  done: number;
  failed: number;
  active: number;
  /** Items that still count towards the batch (all but cancelled). */
  counted: number;
}

/** Batches, newest first; items inside a batch in queue order. */
export function selectBatches(state: UploadsState): Batch[] {
  const batches = new Map<string, Batch>();
  for (const id of state.order) {
    const item = state.byId[id];
    let batch = batches.get(item.batchId);
    if (!batch) {
      batch = { id: item.batchId, items: [], sent: 0, size: 0, done: 0, failed: 0, active: 0, counted: 0 };
      batches.set(item.batchId, batch);
    }
    batch.items.push(item);
    if (item.state === "cancelled") continue;
    batch.counted += 1;
    batch.sent += sentBytes(item);
    batch.size += item.size ?? 0;
    if (DONE.has(item.state)) batch.done += 1;
    else if (item.state === "failed") batch.failed += 1;
    else batch.active += 1;
  }
  return [...batches.values()].reverse();
}
