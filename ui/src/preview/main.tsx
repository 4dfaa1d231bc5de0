/**
 * `npm run dev:ui`, then open /preview.html: the window on fake data, no Rust needed.
 * Query flags: `?empty`, `?hover`, `?settings`, `?offline`. Only the dev server serves this page.
 */
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import type { Channel } from "@tauri-apps/api/core";
import { emit } from "@tauri-apps/api/event";
import { mockIPC } from "@tauri-apps/api/mocks";
import App from "../App";
import type { InboxItem, UploadItem, UploadUpdate } from "../api";
import "../styles.css";

const flags = new URLSearchParams(location.search);
const empty = flags.has("empty");
const TOTAL = empty ? 0 : 100_000;
const read = new Set<string>();
let allRead = false;

function note(i: number): InboxItem {
  const name = ["quarterly-report.pdf", "holiday/IMG_2041.jpg", "contract-signed.docx", "backup-2026-12.tar.zst"][i % 4];
  return {
    id: `n${i}`,
    seq: TOTAL - i,
    kind: "file.stored",
    fileId: `f${i}`,
    fileName: name,
    params: "{}",
    title: i % 7 === 3 ? "Storage almost full" : `${name} stored`,
    body: i % 7 === 3 ? "You have used 92% of your LockBox." : `${name} is safe in your LockBox.`,
    createdAt: new Date(Date.now() - i * 47 * 60_000 - 20_000).toISOString(),
    readAt: allRead || i > 5 || read.has(`n${i}`) ? new Date().toISOString() : null,
  };
}

const uploads: UploadItem[] = empty
  ? []
  : [
      ["a", "b1", "holiday/IMG_2041.jpg", 4_200_000, 4_200_000, "notified", null],
      ["b", "b1", "holiday/IMG_2042.jpg", 3_900_000, 3_900_000, "verified", null],
      ["c", "b1", "holiday/IMG_2043.jpg", 5_100_000, 2_300_000, "uploading", null],
      ["d", "b1", "holiday/IMG_2044.jpg", 4_800_000, 0, "queued", null],
      ["e", "b1", "holiday/IMG_2045.jpg", 4_100_000, 1_000_000, "failed", "The server's SHA-256 differs from this file's; retry the upload."],
      ["f", "b2", "quarterly-report.pdf", 812_000, 812_000, "stored", null],
    ].map(([id, batchId, name, size, sent, state, error]) => ({
      id: id as string,
      batchId: batchId as string,
      path: `/home/alice/${name}`,
      name: name as string,
      size: size as number,
      sent: sent as number,
      state: state as UploadItem["state"],
      fileId: null,
      localSha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      serverSha256: null,
      error: error as string | null,
    }));

let channel: Channel<UploadUpdate> | null = null;

mockIPC(
  (cmd, args) => {
    const a = (args ?? {}) as unknown;
    switch (cmd) {
      case "inbox_page": {
        const { filter, offset, limit } = a as { filter: { unreadOnly: boolean; query: string | null }; offset: number; limit: number };
        if (filter.unreadOnly || filter.query) {
          const all = Array.from({ length: Math.min(TOTAL, 2000) }, (_, i) => note(i)).filter(
            (n) => (!filter.unreadOnly || !n.readAt) && (!filter.query || n.title.toLowerCase().includes(filter.query.toLowerCase())),
          );
          return { items: all.slice(offset, offset + limit), total: all.length, offset };
        }
        const items = [];
        for (let i = offset; i < Math.min(TOTAL, offset + limit); i++) items.push(note(i));
        return { items, total: TOTAL, offset };
      }
      case "inbox_unread_count":
        return empty || allRead ? 0 : 6 - read.size;
      case "inbox_mark_read":
        for (const id of (a as { ids: string[] }).ids) read.add(id);
        return 1;
      case "inbox_mark_all_read":
        allRead = true;
        return 1;
      case "upload_subscribe":
        channel = (a as { onUpdate: Channel<UploadUpdate> }).onUpdate;
        setTimeout(() => channel?.onmessage({ type: "snapshot", items: uploads }), 0);
        return null;
      case "upload_choose_files":
        return { items: [], problems: [] };
      case "upload_cancel":
      case "upload_retry":
        return uploads[0];
      case "settings_get":
        return {
          settings: {
            fileStorageUrl: "http://127.0.0.1:8710",
            notificationUrl: "http://127.0.0.1:8720",
            toastsEnabled: true,
            doNotDisturb: false,
            language: null,
          },
          signedInAs: "alice",
        };
      case "settings_save":
        throw { kind: "invalid", message: 'the file storage URL must start with http:// or https:// (got "ftp://x")' };
      case "settings_set_token":
        return "alice";
    }
    throw new Error(`preview: no fake for ${cmd}`);
  },
  { shouldMockEvents: true },
);

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

setTimeout(() => {
  void emit(
    "feed-status",
    flags.has("offline")
      ? { state: "offline", detail: "The server refused the token; paste a new one in Settings." }
      : { state: "connected", detail: null },
  );
  if (flags.has("hover")) void emit("drop-hover", { active: true, x: 380, y: 300 });
  if (flags.has("settings")) document.querySelector<HTMLButtonElement>('button[aria-label="Settings"]')?.click();
}, 50);
