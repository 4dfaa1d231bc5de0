import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { api, errorMessage, type Language, type SettingsView } from "../api";

interface Props {
  onClose(): void;
  /** The user the app is signed in as changed (a new token). */
  onSignedIn?(user: string): void;
}

type Field = "fileStorageUrl" | "notificationUrl" | "token";

interface Problem {
  field: Field | null;
  message: string;
}

/** The command's validation message names the field it is about. */
function fieldOf(message: string): Field | null {
  const m = message.toLowerCase();
  if (m.includes("file storage url")) return "fileStorageUrl";
  if (m.includes("notification url")) return "notificationUrl";
  return null;
}

/** Settings as a side sheet: service URLs, the token (write-only), toasts, do-not-disturb, language. */
export function SettingsPanel({ onClose, onSignedIn }: Props) {
  const [view, setView] = useState<SettingsView | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [fileStorageUrl, setFileStorageUrl] = useState("");
  const [notificationUrl, setNotificationUrl] = useState("");
  const [token, setToken] = useState("");
  const [toastsEnabled, setToastsEnabled] = useState(true);
  const [doNotDisturb, setDoNotDisturb] = useState(false);
  const [language, setLanguage] = useState<Language | "system">("system");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const first = useRef<HTMLInputElement>(null);
  const titleId = useId();
  const errorId = useId();
  const tokenId = useId();
  const tokenHintId = useId();

  useEffect(() => {
    let live = true;
    api.settingsGet().then(
      (v) => {
        if (!live) return;
        setView(v);
        setFileStorageUrl(v.settings.fileStorageUrl ?? "");
        setNotificationUrl(v.settings.notificationUrl ?? "");
        setToastsEnabled(v.settings.toastsEnabled ?? true);
        setDoNotDisturb(v.settings.doNotDisturb ?? false);
        setLanguage(v.settings.language ?? "system");
      },
      (e: unknown) => live && setLoadError(errorMessage(e)),
    );
    return () => {
      live = false;
    };
  }, []);

  useEffect(() => {
    if (view) first.current?.focus();
  }, [view]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") onClose();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaving(true);
    setProblem(null);
    setSaved(null);
    try {
      await api.settingsSave({
        fileStorageUrl: fileStorageUrl.trim(),
        notificationUrl: notificationUrl.trim(),
        toastsEnabled,
        doNotDisturb,
        language: language === "system" ? null : language,
      });
    } catch (e) {
      const message = errorMessage(e);
      setProblem({ field: fieldOf(message), message });
      setSaving(false);
      return;
    }
    if (token.trim()) {
      try {
        const user = await api.settingsSetToken(token.trim());
        setView((v) => (v ? { ...v, signedInAs: user } : v));
        setToken("");
        onSignedIn?.(user);
        setSaved(`Saved. Signed in as ${user}; LockBox uses the new token when it next connects.`);
      } catch (e) {
        setProblem({ field: "token", message: errorMessage(e) });
        setSaving(false);
        return;
      }
    } else {
      setSaved("Saved.");
    }
    setSaving(false);
  };

  const invalid = (field: Field) =>
    problem?.field === field ? { "aria-invalid": true as const, "aria-describedby": errorId } : {};

  return (
    <div className="sheet-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="sheet" role="dialog" aria-modal="true" aria-labelledby={titleId}>
        <header className="sheet-head">
          <h2 id={titleId}>Settings</h2>
          <button type="button" className="icon-button" onClick={onClose} aria-label="Close settings">
            <svg viewBox="0 0 24 24" aria-hidden="true">
              <path d="M6 6l12 12M18 6 6 18" />
            </svg>
          </button>
        </header>
        {loadError ? (
          <p className="inline-error" role="alert">
            {loadError}
          </p>
        ) : !view ? (
          <p className="muted sheet-loading">Loading…</p>
        ) : (
          <form className="sheet-form" onSubmit={submit} noValidate>
            <fieldset>
              <legend>Account</legend>
              <p className="signed-in">
                {view.signedInAs ? (
                  <>
                    Signed in as <strong>{view.signedInAs}</strong>
                  </>
                ) : (
                  "Not signed in. Paste a token below to sign in."
                )}
              </p>
              <div className="field">
                <label htmlFor={tokenId}>{view.signedInAs ? "New token" : "Token"}</label>
                <input
                  id={tokenId}
                  type="password"
                  value={token}
                  onChange={(e) => setToken(e.target.value)}
                  autoComplete="off"
                  spellCheck={false}
                  placeholder={view.signedInAs ? "Leave empty to keep the current one" : "Paste your LockBox token"}
                  aria-describedby={problem?.field === "token" ? `${errorId} ${tokenHintId}` : tokenHintId}
                  aria-invalid={problem?.field === "token" || undefined}
                />
                <small id={tokenHintId} className="muted">
                  Mint one with <code>lockbox token --user &lt;id&gt;</code>. It is stored privately and never shown again.
                </small>
              </div>
            </fieldset>

            <fieldset>
              <legend>Services</legend>
              <label className="field">
                <span>File storage URL</span>
                <input
                  ref={first}
                  type="url"
                  value={fileStorageUrl}
                  onChange={(e) => setFileStorageUrl(e.target.value)}
                  placeholder="http://127.0.0.1:8710"
                  spellCheck={false}
                  {...invalid("fileStorageUrl")}
                />
              </label>
              <label className="field">
                <span>Notification URL</span>
                <input
                  type="url"
                  value={notificationUrl}
                  onChange={(e) => setNotificationUrl(e.target.value)}
                  placeholder="http://127.0.0.1:8720"
                  spellCheck={false}
                  {...invalid("notificationUrl")}
                />
              </label>
            </fieldset>

            <fieldset>
              <legend>Notifications</legend>
              <label className="check">
                <input type="checkbox" checked={toastsEnabled} onChange={(e) => setToastsEnabled(e.target.checked)} />
                <span>Show a desktop notification when a file arrives</span>
              </label>
              <label className="check">
                <input type="checkbox" checked={doNotDisturb} onChange={(e) => setDoNotDisturb(e.target.checked)} />
                <span>
                  Do not disturb
                  <small className="muted"> — silences notifications; the inbox still fills</small>
                </span>
              </label>
              <label className="field">
                <span>Language of notifications</span>
                <select value={language} onChange={(e) => setLanguage(e.target.value as Language | "system")}>
                  <option value="system">System</option>
                  <option value="en">English</option>
                  <option value="nl">Nederlands</option>
                </select>
              </label>
            </fieldset>

            {problem && (
              <p id={errorId} className="inline-error" role="alert">
                {problem.message}
              </p>
            )}
            {saved && (
              <p className="saved" role="status">
                {saved}
              </p>
            )}
            <div className="sheet-actions">
              <button type="button" className="button" onClick={onClose}>
                Close
              </button>
              <button type="submit" className="button primary" disabled={saving}>
                {saving ? "Saving…" : "Save"}
              </button>
            </div>
          </form>
        )}
      </div>
    </div>
  );
}
