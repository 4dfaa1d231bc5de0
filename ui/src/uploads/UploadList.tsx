import { useState } from "react";
import { api, type UploadState } from "../api";
import { formatBytes } from "../format";
import { ProgressBar } from "./ProgressBar";
import type { Batch } from "./reducer";
import { UploadRow } from "./UploadRow";

/** A big folder is shown in slices so thousands of files do not make the window sluggish. */
const SHOWN_PER_BATCH = 50;

/** The dropped folder all of the batch's files are in, if there is one. */
function batchFolder(batch: Batch): string | undefined {
  const folders = new Set(batch.items.map((item) => (item.name.includes("/") ? item.name.split("/")[0] : "")));
  const [folder] = folders;
  return folders.size === 1 && folder ? folder : undefined;
}

function batchSummary(batch: Batch): string {
  const parts = [`${batch.done} of ${batch.counted} files`, `${formatBytes(batch.sent)} of ${formatBytes(batch.size)}`];
  if (batch.failed > 0) parts.push(`${batch.failed} failed`);
  return parts.join(" · ");
}

function BatchGroup({ batch }: { batch: Batch }) {
  const [showAll, setShowAll] = useState(false);
  const single = batch.items.length === 1;
  const shown = showAll ? batch.items : batch.items.slice(0, SHOWN_PER_BATCH);
  const folder = batchFolder(batch);
  const title = folder ?? `${batch.items.length} files`;
  const tone = batch.failed > 0 ? "failed" : batch.active === 0 && batch.counted > 0 ? "done" : "normal";

  return (
    <section className="batch" aria-label={single ? batch.items[0].name : `Batch: ${title}`}>
      {!single && (
        <header className="batch-head">
          <div className="batch-title">
            <strong>{title}</strong>
            <span className="muted">{batchSummary(batch)}</span>
          </div>
          <ProgressBar label={`Batch ${title}`} sent={batch.sent} size={batch.size} tone={tone} />
        </header>
      )}
      <ul className="uploads" role="list">
        {shown.map((item) => (
          <UploadRow key={item.id} item={item} folder={single ? undefined : folder} />
        ))}
      </ul>
      {shown.length < batch.items.length && (
        <button type="button" className="button link" onClick={() => setShowAll(true)}>
          Show all {batch.items.length} files
        </button>
      )}
    </section>
  );
}

/** States that "Clear finished" removes. */
const FINISHED = new Set<UploadState>(["notified", "verified", "cancelled"]);

/** Older batches wait behind a button: the queue remembers every upload across restarts. */
const SHOWN_BATCHES = 20;

/** Every batch with its batch bar, then one row per file; newest batch first. */
export function UploadList({ batches }: { batches: Batch[] }) {
  const [showOlder, setShowOlder] = useState(false);
  if (batches.length === 0) return null;
  const shown = showOlder ? batches : batches.slice(0, SHOWN_BATCHES);
  const finished = batches.some((b) => b.items.some((i) => FINISHED.has(i.state)));
  return (
    <div className="upload-list" aria-label="Uploads" role="region">
      {finished && (
        <div className="upload-list-actions">
          <button type="button" className="button link" onClick={() => void api.uploadClearFinished().catch(() => {})}>
            Clear finished
          </button>
        </div>
      )}
      {shown.map((batch) => (
        <BatchGroup key={batch.id} batch={batch} />
      ))}
      {shown.length < batches.length && (
        <button type="button" className="button link" onClick={() => setShowOlder(true)}>
          Show {batches.length - shown.length} older uploads
        </button>
      )}
    </div>
  );
}
