import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { installIpc, rejectWith, upload } from "../test/ipc";
import { initialUploads, selectBatches, uploadsReducer } from "./reducer";
import { UploadList } from "./UploadList";
import type { UploadItem } from "../api";

function renderList(items: UploadItem[]) {
  const state = uploadsReducer(initialUploads, { type: "snapshot", items });
  return render(<UploadList batches={selectBatches(state)} />);
}

describe("UploadList", () => {
  it("shows one progress bar per file with its bytes, and one for the batch", () => {
    renderList([
      upload({ id: "a", name: "photos/a.jpg", path: "/home/alice/photos/a.jpg", size: 2_000_000, sent: 500_000, state: "uploading" }),
      upload({ id: "b", name: "photos/b.jpg", size: 2_000_000, sent: 0, state: "queued" }),
    ]);
    const file = screen.getByRole("progressbar", { name: "Upload of photos/a.jpg" });
    expect(file.getAttribute("aria-valuenow")).toBe("25");
    expect(file.getAttribute("aria-valuetext")).toBe("500 KB of 2 MB");
    const batch = screen.getByRole("progressbar", { name: "Batch photos" });
    expect(batch.getAttribute("aria-valuenow")).toBe("12");
    expect(batch.getAttribute("aria-valuetext")).toBe("500 KB of 4 MB");
    expect(screen.getByText("0 of 2 files · 500 KB of 4 MB")).toBeTruthy();
    // Inside the folder's batch, rows show the name within the folder.
    expect(screen.getByText("a.jpg").title).toBe("/home/alice/photos/a.jpg");
  });

  it("marks where each file is on its timeline", () => {
    renderList([upload({ id: "a", name: "a.txt", state: "verified", size: 10, sent: 10 })]);
    const steps = within(screen.getByRole("list", { name: "Steps" })).getAllByRole("listitem");
    expect(steps.map((s) => s.textContent)).toEqual(["Queued", "Uploading", "Stored", "Verified", "Notified"]);
    expect(steps[3].getAttribute("aria-current")).toBe("step");
    expect(steps[2].dataset.status).toBe("done");
    expect(steps[4].dataset.status).toBe("todo");
  });

  it("shows why a file failed, and Retry asks the queue to retry that file", async () => {
    const ipc = installIpc({ upload_retry: ({ id }) => upload({ id: id as string, state: "queued" }) });
    renderList([
      upload({ id: "bad", name: "report.pdf", state: "failed", error: "the server's SHA-256 differs; retry the upload" }),
    ]);
    expect(screen.getByRole("alert").textContent).toBe("the server's SHA-256 differs; retry the upload");
    expect(screen.queryByRole("button", { name: "Cancel report.pdf" })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Retry report.pdf" }));
    await waitFor(() => expect(ipc.callsOf("upload_retry")).toEqual([{ id: "bad" }]));
  });

  it("offers Cancel while uploading or queued, and not once the file is stored", async () => {
    const ipc = installIpc({ upload_cancel: ({ id }) => upload({ id: id as string, state: "cancelled" }) });
    renderList([
      upload({ id: "up", name: "big.iso", state: "uploading", sent: 10 }),
      upload({ id: "q", name: "next.iso", state: "queued" }),
      upload({ id: "done", name: "old.iso", state: "notified", sent: 1000 }),
    ]);
    expect(screen.getByRole("button", { name: "Cancel next.iso" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Cancel old.iso" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Retry old.iso" })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Cancel big.iso" }));
    await waitFor(() => expect(ipc.callsOf("upload_cancel")).toEqual([{ id: "up" }]));
  });

  it("shows the command's message when a retry is refused", async () => {
    installIpc({ upload_retry: () => rejectWith({ kind: "notFound" }) });
    renderList([upload({ id: "gone", name: "x.bin", state: "cancelled" })]);
    fireEvent.click(screen.getByRole("button", { name: "Retry x.bin" }));
    expect((await screen.findByRole("alert")).textContent).toBe("That upload is no longer in the queue.");
  });

  it("offers Clear finished once something finished, and asks the queue to clear", async () => {
    const ipc = installIpc();
    const { unmount } = renderList([upload({ id: "a", name: "a.txt", state: "uploading" })]);
    expect(screen.queryByRole("button", { name: "Clear finished" })).toBeNull();
    unmount();
    renderList([upload({ id: "a", name: "a.txt", state: "notified" })]);
    fireEvent.click(screen.getByRole("button", { name: "Clear finished" }));
    await waitFor(() => expect(ipc.callsOf("upload_clear_finished")).toHaveLength(1));
  });
});
