/**
 * The one place the window talks to the Rust side: typed commands that throw a readable
 * `CommandError`, the upload channel, and events with a plain cleanup function.
 */
import { Channel } from "@tauri-apps/api/core";
import {
  commands,
  events,
  type DropHover,
  type FeedStatus,
  type FocusItem,
  type InboxChanged,
  type InboxFilter_Deserialize,
  type InboxPage,
  type Settings_Deserialize,
  type SettingsView,
  type UploadItem,
  type UploadUpdate,
} from "./bindings";

export type {
  DropHover,
  FeedState,
  FeedStatus,
  InboxItem,
  Language,
  SettingsView,
  UploadItem,
  UploadState,
  UploadUpdate,
} from "./bindings";

/** What a command error enum says when it carries no message of its own. */
const FALLBACK_MESSAGES: Record<string, string> = {
  notAToken: "That is not a LockBox token (no user in it). Mint one with `lockbox token --user <id>`.",
  notFound: "That upload is no longer in the queue.",
  poisoned: "LockBox hit an internal error. Restart the app.",
};

/** A failed command, with a message that says what to do. */
export class CommandError extends Error {
  readonly kind: string;
  constructor(kind: string, message: string) {
    super(message);
    this.name = "CommandError";
    this.kind = kind;
  }
}

type Result<T, E> = { status: "ok"; data: T } | { status: "error"; error: E };

async function unwrap<T, E extends { kind: string; message?: string }>(call: Promise<Result<T, E>>): Promise<T> {
  const result = await call;
  if (result.status === "ok") return result.data;
  const { kind, message } = result.error;
  throw new CommandError(kind, message ?? FALLBACK_MESSAGES[kind] ?? `Something went wrong (${kind}).`);
}

/** The message to show for anything a command or the IPC layer threw. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === "string") return error;
  return "Something went wrong. Try again.";
}

export interface InboxQuery {
  unreadOnly: boolean;
  /** Already trimmed; empty means no search. */
  query: string;
}

export const api = {
  inboxPage(filter: InboxQuery, offset: number, limit: number): Promise<InboxPage> {
    const wire: InboxFilter_Deserialize = { unreadOnly: filter.unreadOnly, query: filter.query || null };
    return unwrap(commands.inboxPage(wire, offset, limit));
  },
  inboxUnreadCount: () => unwrap(commands.inboxUnreadCount()),
  inboxMarkRead: (ids: string[]) => unwrap(commands.inboxMarkRead(ids)),
  inboxMarkAllRead: () => unwrap(commands.inboxMarkAllRead()),
  settingsGet: (): Promise<SettingsView> => unwrap(commands.settingsGet()),
  settingsSave: (settings: Settings_Deserialize) => unwrap(commands.settingsSave(settings)),
  /** Returns the user the token belongs to. */
  settingsSetToken: (token: string) => unwrap(commands.settingsSetToken(token)),
  uploadEnqueue: (paths: string[]) => unwrap(commands.uploadEnqueue(paths)),
  uploadChooseFiles: () => unwrap(commands.uploadChooseFiles()),
  uploadCancel: (id: string): Promise<UploadItem> => unwrap(commands.uploadCancel(id)),
  uploadRetry: (id: string): Promise<UploadItem> => unwrap(commands.uploadRetry(id)),
  /** Drops finished uploads from the list; the channel then sends a fresh snapshot. */
  uploadClearFinished: (): Promise<UploadItem[]> => unwrap(commands.uploadClearFinished()),
  /** The connection's status now (events only tell what changes after the window listens). */
  feedStatus: (): Promise<FeedStatus> => commands.feedStatus(),

  /**
   * Streams the upload queue into `onUpdate` (a snapshot first). The returned function stops
   * delivering; the Rust side drops the channel when the window goes away.
   */
  subscribeUploads(onUpdate: (update: UploadUpdate) => void, onError: (message: string) => void): () => void {
    let live = true;
    try {
      const channel = new Channel<UploadUpdate>((update) => {
        if (live) onUpdate(update);
      });
      unwrap(commands.uploadSubscribe(channel)).catch((e: unknown) => {
        if (live) onError(errorMessage(e));
      });
    } catch (e) {
      // Only outside the app (a plain browser preview) is there no IPC to make a channel on.
      onError(errorMessage(e));
    }
    return () => {
      live = false;
    };
  },
};

/** Subscribes to a Rust event; returns a cleanup function usable directly in `useEffect`. */
function subscribe<T>(event: { listen: (cb: (e: { payload: T }) => void) => Promise<() => void> }) {
  return (handler: (payload: T) => void): (() => void) => {
    let live = true;
    let unlisten: (() => void) | undefined;
    event
      .listen((e) => {
        if (live) handler(e.payload);
      })
      .then((stop) => {
        if (live) unlisten = stop;
        else stop();
      })
      .catch(() => {
        // Outside Tauri (a plain browser preview) there are no events to listen to.
      });
    return () => {
      live = false;
      unlisten?.();
    };
  };
}

export const on = {
  dropHover: subscribe<DropHover>(events.dropHover),
  feedStatus: subscribe<FeedStatus>(events.feedStatus),
  inboxChanged: subscribe<InboxChanged>(events.inboxChanged),
  focusItem: subscribe<FocusItem>(events.focusItem),
};

