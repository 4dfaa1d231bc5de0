import { describe, expect, it } from "vitest";
import { upload } from "../test/ipc";
import { initialUploads, selectBatches, uploadsReducer, type UploadsState } from "./reducer";

const fold = (...updates: Parameters<typeof uploadsReducer>[1][]): UploadsState =>
  updates.reduce(uploadsReducer, initialUploads);

describe("uploadsReducer", () => {
  it("replaces everything with a snapshot and marks the list loaded", () => {
    const stale = fold({ type: "item", item: upload({ id: "old" }) });
    const a = upload({ id: "a" });
    const b = upload({ id: "b" });
    const state = uploadsReducer(stale, { type: "snapshot", items: [a, b] });
    expect(state.loaded).toBe(true);
    expect(state.order).toEqual(["a", "b"]);
    expect(state.byId.old).toBeUndefined();
  });

  it("adds new items at the end and updates known ones in place", () => {
    const state = fold(
      { type: "snapshot", items: [upload({ id: "a" })] },
      { type: "item", item: upload({ id: "b" }) },
      { type: "item", item: upload({ id: "a", state: "uploading", sent: 10 }) },
    );
    expect(state.order).toEqual(["a", "b"]);
    expect(state.byId.a.state).toBe("uploading");
    expect(state.byId.a.sent).toBe(10);
  });

  it("applies progress to an uploading item", () => {
    const state = fold(
      { type: "snapshot", items: [upload({ id: "a", state: "uploading", size: 1000, sent: 0 })] },
      { type: "progress", id: "a", sent: 400, size: 1000 },
    );
    expect(state.byId.a.sent).toBe(400);
  });

  it("ignores progress for unknown items and late ticks after the file was stored", () => {
    const base = fold({ type: "snapshot", items: [upload({ id: "a", state: "stored", size: 1000, sent: 1000 })] });
    expect(uploadsReducer(base, { type: "progress", id: "nope", sent: 1, size: 2 })).toBe(base);
    const late = uploadsReducer(base, { type: "progress", id: "a", sent: 900, size: 1000 });
    expect(late.byId.a.sent).toBe(1000);
  });
});

describe("selectBatches", () => {
  it("sums sent and size per batch, newest batch first", () => {
    const state = fold({
      type: "snapshot",
      items: [
        upload({ id: "a", batchId: "first", size: 1000, sent: 250, state: "uploading" }),
        upload({ id: "b", batchId: "first", size: 3000, sent: 0, state: "queued" }),
        upload({ id: "c", batchId: "second", size: 500, sent: 500, state: "uploading" }),
      ],
    });
    const batches = selectBatches(state);
    expect(batches.map((b) => b.id)).toEqual(["second", "first"]);
    expect(batches[1]).toMatchObject({ sent: 250, size: 4000, done: 0, active: 2, counted: 2 });
  });

  it("counts stored files as fully sent and leaves cancelled ones out of the batch bar", () => {
    const state = fold({
      type: "snapshot",
      items: [
        // The last throttled tick said 900, but the server has the whole file.
        upload({ id: "a", size: 1000, sent: 900, state: "verified" }),
        upload({ id: "b", size: 5000, sent: 100, state: "cancelled" }),
        upload({ id: "c", size: 1000, sent: 200, state: "failed" }),
      ],
    });
    const [batch] = selectBatches(state);
    expect(batch).toMatchObject({ sent: 1200, size: 2000, done: 1, failed: 1, counted: 2 });
    expect(batch.items).toHaveLength(3);
  });

  it("moves the batch total with progress messages", () => {
    const start = fold({
      type: "snapshot",
      items: [
        upload({ id: "a", size: 100, sent: 0, state: "uploading" }),
        upload({ id: "b", size: 100, sent: 0, state: "uploading" }),
      ],
    });
    const next = uploadsReducer(
      uploadsReducer(start, { type: "progress", id: "a", sent: 50, size: 100 }),
      { type: "progress", id: "b", sent: 30, size: 100 },
    );
    expect(selectBatches(next)[0]).toMatchObject({ sent: 80, size: 200 });
  });
});
