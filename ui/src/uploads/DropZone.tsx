import { useState } from "react";
import { api, errorMessage } from "../api";
import { shortcutLabel } from "../useShortcuts";

/**
 * The visible drop target and its keyboard twin, "Choose files…". The whole window accepts
 * drops; this says so and is large while nothing has been uploaded yet.
 */
export function DropZone({ compact }: { compact: boolean }) {
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  const choose = () => {
    setBusy(true);
    setNotice(null);
    api
      .uploadChooseFiles()
      .then(({ problems }) => {
        if (problems.length > 0) setNotice(`Some files could not be read: ${problems.join("; ")}`);
      })
      .catch((e: unknown) => setNotice(errorMessage(e)))
      .finally(() => setBusy(false));
  };

  return (
    <section className="dropzone" data-compact={compact} aria-label="Upload files">
      <svg className="dropzone-icon" viewBox="0 0 48 48" aria-hidden="true">
        <path d="M24 30V10m0 0-7 7m7-7 7 7" />
        <path d="M10 28v8a4 4 0 0 0 4 4h20a4 4 0 0 0 4-4v-8" />
      </svg>
      <div className="dropzone-text">
        <h2 className="dropzone-title">Drop files here to upload</h2>
        <p className="dropzone-hint">
          {compact
            ? "Anywhere in this window — folders too."
            : "They are kept safe in your LockBox, and you are notified when they arrive."}
        </p>
      </div>
      <button
        id="choose-files"
        type="button"
        className="button primary"
        onClick={choose}
        disabled={busy}
        title={`Choose files to upload (${shortcutLabel("o")})`}
      >
        {busy ? "Choosing…" : "Choose files…"}
      </button>
      {notice && (
        <p className="dropzone-notice" role="alert">
          {notice}
        </p>
      )}
    </section>
  );
}
