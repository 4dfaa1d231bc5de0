import { useEffect, useState } from "react";
import { api, on, type FeedState, type FeedStatus } from "./api";

const LABELS: Record<FeedState, string> = {
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

const EXPLAIN: Record<FeedState, string> = {
  connecting: "Connecting to the notification service.",
  connected: "Live: new notifications arrive as they happen.",
  reconnecting: "The connection dropped; LockBox keeps trying. Uploads and search still work.",
  offline: "Not connected. Check the token and the notification URL in Settings.",
};

/** How the live connection to the NotificationService is doing, with what to do about it. */
export function StatusPill({ initial = { state: "connecting", detail: null } }: { initial?: FeedStatus }) {
  const [status, setStatus] = useState<FeedStatus>(initial);
  useEffect(() => {
    // Listen first, then ask: an event that beats the answer is newer, so it wins.
    let heard = false;
    const stop = on.feedStatus((next) => {
      heard = true;
      setStatus(next);
    });
    api
      .feedStatus()
      .then((now) => {
        if (!heard) setStatus(now);
      })
      .catch(() => {});
    return stop;
  }, []);

  const detail = status.detail || EXPLAIN[status.state];
  return (
    <span className="status-pill" data-state={status.state} role="status" title={detail}>
      <span className="status-dot" aria-hidden="true" />
      <span className="status-label">{LABELS[status.state]}</span>
      {status.state !== "connected" && status.detail ? (
        <span className="status-detail">{status.detail}</span>
      ) : (
        <span className="sr-only">{detail}</span>
      )}
    </span>
  );
}
