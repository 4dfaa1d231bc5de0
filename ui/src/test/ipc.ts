/**
 * Test double for the Tauri IPC boundary, and nothing else: commands answer from a table,
 * events and the upload channel are driven by the test.
 */
import type { Channel } from "@tauri-apps/api/core";
import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import { act } from "@testing-library/react";
import type { InboxItem, UploadItem, UploadUpdate } from "../api";

type Handler = (args: Record<string, unknown>) => unknown;

export interface Ipc {
  calls: { cmd: string; args: Record<string, unknown> }[];
  callsOf(cmd: string): Record<string, unknown>[];
  /** Push a message down the upload channel the window subscribed with. */
  sendUpload(update: UploadUpdate): void;
  /** Emit a Rust-side event by its wire name, e.g. `feed-status`. */
  emit(event: string, payload: unknown): Promise<void>;
}

/** Defaults keep the whole window quiet; tests override the commands they are about. */
const DEFAULTS: Record<string, Handler> = {
  inbox_page: () => ({ items: [], total: 0, offset: 0 }),
  inbox_unread_count: () => 0,
  inbox_mark_read: (args) => (args.ids as string[]).length,
  inbox_mark_all_read: () => 0,
  upload_subscribe: () => null,
  upload_clear_finished: () => [],
  feed_status: () => ({ state: "connecting", detail: null }),
  settings_get: () => ({
    settings: {
      fileStorageUrl: "http://127.0.0.1:8710",
      notificationUrl: "http://127.0.0.1:8720",
      toastsEnabled: true,
      doNotDisturb: false,
      language: null,
    },
    signedInAs: "alice",
  }),
};

/** A command error as Rust serializes it: the promise rejects with the enum value. */
export function rejectWith(error: { kind: string; message?: string }): never {
  throw error;
}

export function installIpc(handlers: Record<string, Handler> = {}): Ipc {
  const calls: Ipc["calls"] = [];
  let channel: Channel<UploadUpdate> | null = null;
  const table = { ...DEFAULTS, ...handlers };
  mockIPC(
    async (cmd, args) => {
      const a = (args ?? {}) as Record<string, unknown>;
      calls.push({ cmd, args: a });
      if (cmd === "upload_subscribe") channel = a.onUpdate as Channel<UploadUpdate>;
      const handler = table[cmd];
      if (!handler) throw new Error(`unexpected command ${cmd}`);
      return handler(a);
    },
    { shouldMockEvents: true },
  );
  return {
    calls,
    callsOf: (cmd) => calls.filter((c) => c.cmd === cmd).map((c) => c.args),
    sendUpload(update) {
      if (!channel) throw new Error("the window has not subscribed to uploads");
      const c = channel;
      act(() => c.onmessage(update));
    },
    async emit(event, payload) {
      await act(() => emit(event, payload));
    },
  };
}

let seq = 0;
export function upload(overrides: Partial<UploadItem> = {}): UploadItem {
  seq += 1;
  return {
    id: `u${seq}`,
    batchId: "b1",
    path: `/home/alice/file${seq}.bin`,
    name: `file${seq}.bin`,
    size: 1000,
    sent: 0,
    state: "queued",
    fileId: null,
    localSha256: null,
    serverSha256: null,
    error: null,
    ...overrides,
  };
}

/** The n-th newest notification of a synthetic inbox (index 0 is the newest). */
export function notification(index: number, overrides: Partial<InboxItem> = {}): InboxItem {
  return {
    id: `n${index}`,
    seq: 100_000 - index,
    kind: "file.stored",
    fileId: `f${index}`,
    fileName: `file-${index}.pdf`,
    params: "{}",
    title: `file-${index}.pdf stored`,
    body: `Your file file-${index}.pdf is in your LockBox.`,
    createdAt: new Date(Date.now() - index * 60_000).toISOString(),
    readAt: index % 2 === 0 ? null : new Date().toISOString(),
    ...overrides,
  };
}
