import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { InboxList } from "./inbox/InboxList";
import { SettingsPanel } from "./settings/SettingsPanel";
import { StatusPill } from "./StatusPill";
import { DropOverlay } from "./uploads/DropOverlay";
import { DropZone } from "./uploads/DropZone";
import { UploadList } from "./uploads/UploadList";
import { useUploads } from "./uploads/useUploads";
import { shortcutLabel, useShortcuts } from "./useShortcuts";
import { useUnreadCount } from "./useUnreadCount";

function UnreadBadge({ unread }: { unread: number | null }) {
  const label = unread ? `${unread.toLocaleString()} unread` : "No unread notifications";
  return (
    <span className="unread-badge" data-empty={!unread} role="img" aria-label={label} title={label}>
      <svg viewBox="0 0 24 24" aria-hidden="true">
        <path d="M6 16V11a6 6 0 1 1 12 0v5l1.5 2h-15zM10 20a2 2 0 0 0 4 0" />
      </svg>
      {unread ? <span className="unread-count">{unread > 9999 ? "9999+" : unread.toLocaleString()}</span> : null}
    </span>
  );
}

/** The LockBox main window: header, drop zone and uploads on the left, the inbox on the right. */
export default function App() {
  const uploads = useUploads();
  const { unread, refetch } = useUnreadCount();
  const [settingsOpen, setSettingsOpen] = useState(false);
  const settingsButton = useRef<HTMLButtonElement>(null);

  const closeSettings = useCallback(() => setSettingsOpen(false), []);
  const shortcuts = useMemo(
    () => ({
      f: () => document.getElementById("inbox-search")?.focus(),
      o: () => document.getElementById("choose-files")?.click(),
      ",": () => setSettingsOpen(true),
    }),
    [],
  );
  useShortcuts(shortcuts, !settingsOpen);
  // Focus goes back to the button that opened the sheet once the window is interactive again.
  const wasOpen = useRef(false);
  useEffect(() => {
    if (wasOpen.current && !settingsOpen) settingsButton.current?.focus();
    wasOpen.current = settingsOpen;
  }, [settingsOpen]);

  return (
    <div className="app">
      <div className="window" inert={settingsOpen}>
        <header className="titlebar">
          <div className="brand">
            <svg className="brand-mark" viewBox="0 0 24 24" aria-hidden="true">
              <rect x="4" y="10" width="16" height="11" rx="2.5" />
              <path d="M8 10V7a4 4 0 0 1 8 0v3" />
            </svg>
            <h1>LockBox</h1>
          </div>
          <StatusPill />
          <div className="titlebar-end">
            <UnreadBadge unread={unread} />
            <button
              ref={settingsButton}
              type="button"
              className="icon-button"
              onClick={() => setSettingsOpen(true)}
              aria-label="Settings"
              aria-haspopup="dialog"
              title={`Settings (${shortcutLabel(",")})`}
            >
              <svg viewBox="0 0 24 24" aria-hidden="true">
                <circle cx="12" cy="12" r="3" />
                <path d="M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z" />
              </svg>
            </button>
          </div>
        </header>
        <main className="content">
          <div className="uploads-pane">
            <DropZone compact={uploads.count > 0} />
            {uploads.error && (
              <p className="inline-error" role="alert">
                Upload progress is unavailable: {uploads.error}
              </p>
            )}
            <UploadList batches={uploads.batches} />
          </div>
          <InboxList unread={unread} onReadChanged={refetch} />
        </main>
      </div>
      <DropOverlay />
      {settingsOpen && <SettingsPanel onClose={closeSettings} />}
    </div>
  );
}
