import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import App from "./App";
import { installIpc, upload } from "./test/ipc";

describe("App", () => {
  it("shows the empty drop zone and a keyboard way to choose files", async () => {
    const ipc = installIpc({ upload_choose_files: () => ({ items: [], problems: [] }) });
    render(<App />);
    expect(screen.getByRole("heading", { name: "Drop files here to upload" })).toBeTruthy();
    expect(screen.getByRole("region", { name: "Upload files" })).toBeTruthy();
    expect(screen.getByText(/kept safe in your LockBox/)).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Choose files…" }));
    await waitFor(() => expect(ipc.callsOf("upload_choose_files")).toHaveLength(1));
  });

  it("says which chosen files could not be read", async () => {
    installIpc({ upload_choose_files: () => ({ items: [], problems: ["/tmp/locked.bin: permission denied"] }) });
    render(<App />);
    fireEvent.click(screen.getByRole("button", { name: "Choose files…" }));
    expect((await screen.findByRole("alert")).textContent).toContain("/tmp/locked.bin: permission denied");
  });

  it("follows the upload channel: snapshot, state changes and progress", async () => {
    const ipc = installIpc();
    render(<App />);
    await waitFor(() => expect(ipc.callsOf("upload_subscribe")).toHaveLength(1));
    ipc.sendUpload({ type: "snapshot", items: [upload({ id: "a", name: "notes.txt", size: 4000, sent: 0 })] });
    const bar = screen.getByRole("progressbar", { name: "Upload of notes.txt" });
    expect(bar.getAttribute("aria-valuenow")).toBe("0");
    ipc.sendUpload({ type: "item", item: upload({ id: "a", name: "notes.txt", size: 4000, sent: 0, state: "uploading" }) });
    ipc.sendUpload({ type: "progress", id: "a", sent: 3000, size: 4000 });
    expect(bar.getAttribute("aria-valuenow")).toBe("75");
    expect(screen.getByText("Uploading · 75 %")).toBeTruthy();
  });

  it("lights up the window and marks the pointer while files hover over it", async () => {
    const ipc = installIpc();
    render(<App />);
    await waitFor(() => expect(ipc.callsOf("inbox_page").length).toBeGreaterThan(0));
    expect(screen.queryByTestId("drop-overlay")).toBeNull();
    await ipc.emit("drop-hover", { active: true, x: 120, y: 80 });
    const overlay = screen.getByTestId("drop-overlay");
    expect(overlay.querySelector<HTMLElement>(".drop-marker")?.style.transform).toBe("translate(120px, 80px)");
    await ipc.emit("drop-hover", { active: false, x: 120, y: 80 });
    expect(screen.queryByTestId("drop-overlay")).toBeNull();
  });

  it("shows the unread count in the badge and follows inbox changes", async () => {
    const ipc = installIpc({ inbox_unread_count: () => 3 });
    render(<App />);
    expect(await screen.findByRole("img", { name: "3 unread" })).toBeTruthy();
    await ipc.emit("inbox-changed", { unread: 4, added: [] });
    expect(screen.getByRole("img", { name: "4 unread" })).toBeTruthy();
  });

  it("opens settings from the header and returns focus when closed", async () => {
    installIpc();
    render(<App />);
    const button = screen.getByRole("button", { name: "Settings" });
    fireEvent.click(button);
    expect(await screen.findByRole("dialog", { name: "Settings" })).toBeTruthy();
    expect(await screen.findByText("alice")).toBeTruthy();
    fireEvent.keyDown(window, { key: "Escape" });
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(document.activeElement).toBe(button);
  });

  it("has the desktop shortcuts: Ctrl+F searches, Ctrl+O chooses files, Ctrl+, opens settings", async () => {
    const ipc = installIpc({ upload_choose_files: () => ({ items: [], problems: [] }) });
    render(<App />);
    fireEvent.keyDown(window, { key: "f", ctrlKey: true });
    expect(document.activeElement).toBe(screen.getByRole("searchbox", { name: "Search notifications" }));
    fireEvent.keyDown(window, { key: "o", ctrlKey: true });
    await waitFor(() => expect(ipc.callsOf("upload_choose_files")).toHaveLength(1));
    fireEvent.keyDown(window, { key: ",", ctrlKey: true });
    expect(await screen.findByRole("dialog", { name: "Settings" })).toBeTruthy();
  });
});
