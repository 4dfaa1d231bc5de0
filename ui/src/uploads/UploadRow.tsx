import { useState } from "react";
import { api, errorMessage, type UploadItem, type UploadState } from "../api";
import { formatBytes, percent } from "../format";
import { ProgressBar } from "./ProgressBar";
import { TIMELINE, isActive, sentBytes } from "./reducer";

const STEP_LABELS: Record<UploadState, string> = {
  queued: "Queued",
  uploading: "Uploading",
  stored: "Stored",
  verified: "Verified",
  notified: "Notified",
  failed: "Failed",
  cancelled: "Cancelled",
};

function statusText(item: UploadItem): string {
  switch (item.state) {
    case "queued":
      return "Waiting";
    case "uploading":
      return item.size ? `Uploading · ${percent(item.sent ?? 0, item.size)} %` : "Uploading";
    case "stored":
      return "Stored · verifying";
    case "verified":
      return "Verified · checksum matches";
    case "notified":
      return "Done";
    case "failed":
      return "Failed";
    case "cancelled":
      return "Cancelled";
  }
}

function tone(state: UploadState) {
  if (state === "failed") return "failed" as const;
  if (state === "cancelled") return "muted" as const;
  if (state === "stored" || state === "verified" || state === "notified") return "done" as const;
  return "normal" as const;
}

/** Where the file is on queued → uploading → stored → verified → notified. */
function Timeline({ state }: { state: UploadState }) {
  const reached = TIMELINE.indexOf(state);
  return (
    <ol className="timeline" aria-label="Steps">
      {TIMELINE.map((step, i) => {
        const status = reached < 0 ? "todo" : i < reached ? "done" : i === reached ? "current" : "todo";
        return (
          <li
            key={step}
            data-status={status}
            aria-current={status === "current" ? "step" : undefined}
            title={STEP_LABELS[step]}
          >
            {STEP_LABELS[step]}
          </li>
        );
      })}
    </ol>
  );
}

/**
 * One file: name, bytes, its progress bar, where it is on its timeline, and Cancel / Retry.
 * `folder`: the dropped folder its batch is named after, left out of the visible name.
 */
export function UploadRow({ item, folder }: { item: UploadItem; folder?: string }) {
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const sent = sentBytes(item);

  const run = (action: (id: string) => Promise<unknown>) => {
    setBusy(true);
    setActionError(null);
    action(item.id)
      .catch((e: unknown) => setActionError(errorMessage(e)))
      .finally(() => setBusy(false));
  };

  const checksum = item.localSha256 ? `SHA-256 ${item.localSha256}` : undefined;

  return (
    <li className="upload" data-state={item.state}>
      <div className="upload-head">
        <span className="upload-name" title={item.path}>
          {folder && item.name.startsWith(`${folder}/`) ? item.name.slice(folder.length + 1) : item.name}
        </span>
        <span className="upload-bytes">
          {item.size == null ? formatBytes(sent) : `${formatBytes(sent)} of ${formatBytes(item.size)}`}
        </span>
        {isActive(item.state) && (
          <button
            type="button"
            className="button small"
            onClick={() => run(api.uploadCancel)}
            disabled={busy}
            aria-label={`Cancel ${item.name}`}
          >
            Cancel
          </button>
        )}
        {(item.state === "failed" || item.state === "cancelled") && (
          <button
            type="button"
            className="button small"
            onClick={() => run(api.uploadRetry)}
            disabled={busy}
            aria-label={`Retry ${item.name}`}
          >
            Retry
          </button>
        )}
      </div>
      <ProgressBar label={`Upload of ${item.name}`} sent={sent} size={item.size} tone={tone(item.state)} />
      <div className="upload-foot">
        <span className="upload-status" title={item.state === "verified" || item.state === "notified" ? checksum : undefined}>
          {statusText(item)}
        </span>
        {item.state !== "failed" && item.state !== "cancelled" && <Timeline state={item.state} />}
      </div>
      {item.state === "failed" && (
        <p className="upload-error" role="alert">
          {item.error ?? "The upload failed. Retry it, or check the file storage URL in Settings."}
        </p>
      )}
      {actionError && (
        <p className="upload-error" role="alert">
          {actionError}
        </p>
      )}
    </li>
  );
}
