/** The LockBox main window. For now only the empty drop zone. */
export default function App() {
  return (
    <main className="app">
      <section className="dropzone" aria-label="Upload files">
        <svg className="dropzone-icon" viewBox="0 0 48 48" aria-hidden="true">
          <path d="M24 30V10m0 0-7 7m7-7 7 7" />
          <path d="M10 28v8a4 4 0 0 0 4 4h20a4 4 0 0 0 4-4v-8" />
        </svg>
        <h1 className="dropzone-title">Drop files here to upload</h1>
        <p className="dropzone-hint">
          They are kept safe in your LockBox, and you are notified when they arrive.
        </p>
      </section>
    </main>
  );
}
