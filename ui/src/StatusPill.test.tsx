import { act, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { StatusPill } from "./StatusPill";
import { installIpc } from "./test/ipc";

describe("StatusPill", () => {
  it("starts as connecting and follows the feed status events", async () => {
    const ipc = installIpc();
    render(<StatusPill />);
    const pill = screen.getByRole("status");
    expect(pill.textContent).toContain("Connecting…");

    await ipc.emit("feed-status", { state: "connected", detail: null });
    expect(pill.dataset.state).toBe("connected");
    expect(pill.textContent).toContain("Connected");

    await ipc.emit("feed-status", { state: "reconnecting", detail: "connection refused; retrying in 4 s" });
    expect(pill.textContent).toContain("Reconnecting…");
    expect(pill.textContent).toContain("connection refused; retrying in 4 s");
    expect(pill.title).toBe("connection refused; retrying in 4 s");
  });

  it("offline says what to do when the service gives no detail", async () => {
    const ipc = installIpc();
    render(<StatusPill />);
    await ipc.emit("feed-status", { state: "offline", detail: null });
    const pill = screen.getByRole("status");
    expect(pill.textContent).toContain("Offline");
    expect(pill.title).toBe("Not connected. Check the token and the notification URL in Settings.");
  });

  it("shows the server's reason when offline", async () => {
    const ipc = installIpc();
    render(<StatusPill />);
    await ipc.emit("feed-status", { state: "offline", detail: "the server refused the token; paste a new one in Settings" });
    expect(screen.getByRole("status").textContent).toContain("the server refused the token; paste a new one in Settings");
  });

  it("shows the status the feed had before the window started listening", async () => {
    installIpc({ feed_status: () => ({ state: "connected", detail: null }) });
    render(<StatusPill />);
    await waitFor(() => expect(screen.getByRole("status").dataset.state).toBe("connected"));
  });

  it("an event newer than the asked-for status wins", async () => {
    let answer: (s: unknown) => void = () => {};
    const ipc = installIpc({ feed_status: () => new Promise((resolve) => (answer = resolve)) });
    render(<StatusPill />);
    await ipc.emit("feed-status", { state: "reconnecting", detail: "lost it" });
    await act(async () => answer({ state: "connecting", detail: null }));
    expect(screen.getByRole("status").dataset.state).toBe("reconnecting");
  });
});
