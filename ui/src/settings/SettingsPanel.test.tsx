import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { installIpc } from "../test/ipc";
import { SettingsPanel } from "./SettingsPanel";

const open = async () => {
  render(<SettingsPanel onClose={() => {}} />);
  return screen.findByLabelText("File storage URL");
};

describe("SettingsPanel", () => {
  it("shows who is signed in, never the token, and loads the stored settings", async () => {
    installIpc();
    const url = (await open()) as HTMLInputElement;
    expect(url.value).toBe("http://127.0.0.1:8710");
    expect(screen.getByText("alice").closest("p")?.textContent).toBe("Signed in as alice");
    const token = screen.getByLabelText("New token") as HTMLInputElement;
    expect(token.type).toBe("password");
    expect(token.value).toBe("");
    expect((screen.getByLabelText("Language of notifications") as HTMLSelectElement).value).toBe("system");
  });

  it("saves what was edited", async () => {
    const ipc = installIpc({ settings_save: () => null });
    await open();
    fireEvent.change(screen.getByLabelText("Notification URL"), { target: { value: " https://notify.example.com " } });
    fireEvent.click(screen.getByLabelText(/Do not disturb/));
    fireEvent.change(screen.getByLabelText("Language of notifications"), { target: { value: "nl" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() =>
      expect(ipc.callsOf("settings_save")).toEqual([
        {
          settings: {
            fileStorageUrl: "http://127.0.0.1:8710",
            notificationUrl: "https://notify.example.com",
            toastsEnabled: true,
            doNotDisturb: true,
            language: "nl",
          },
        },
      ]),
    );
    expect(await screen.findByText("Saved.")).toBeTruthy();
    expect(ipc.callsOf("settings_set_token")).toEqual([]);
  });

  it("shows the validation error from the command on the field it is about", async () => {
    installIpc({
      settings_save: () => {
        throw { kind: "invalid", message: 'the file storage URL must start with http:// or https:// (got "ftp://x")' };
      },
    });
    const url = await open();
    fireEvent.change(url, { target: { value: "ftp://x" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe('the file storage URL must start with http:// or https:// (got "ftp://x")');
    expect(url.getAttribute("aria-invalid")).toBe("true");
    expect(url.getAttribute("aria-describedby")).toBe(alert.id);
    expect(screen.getByLabelText("Notification URL").getAttribute("aria-invalid")).toBeNull();
  });

  it("signs in with a new token and says as whom; a bad token says how to get one", async () => {
    const onSignedIn = vi.fn();
    let good = false;
    const ipc = installIpc({
      settings_save: () => null,
      settings_set_token: () => {
        if (!good) throw { kind: "notAToken" };
        return "bob";
      },
    });
    render(<SettingsPanel onClose={() => {}} onSignedIn={onSignedIn} />);
    const token = (await screen.findByLabelText("New token")) as HTMLInputElement;
    fireEvent.change(token, { target: { value: "garbage" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect((await screen.findByRole("alert")).textContent).toContain("lockbox token --user");
    expect(token.getAttribute("aria-invalid")).toBe("true");

    good = true;
    fireEvent.change(token, { target: { value: "  eyJ.good.token  " } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(await screen.findByText(/Saved\. Signed in as bob/)).toBeTruthy();
    expect(ipc.callsOf("settings_set_token").at(-1)).toEqual({ token: "eyJ.good.token" });
    expect(screen.getByText("bob").closest("p")?.textContent).toBe("Signed in as bob");
    expect(token.value).toBe("");
    expect(onSignedIn).toHaveBeenCalledWith("bob");
  });

  it("closes on Escape", async () => {
    installIpc();
    const onClose = vi.fn();
    render(<SettingsPanel onClose={onClose} />);
    await screen.findByLabelText("File storage URL");
    fireEvent.keyDown(window, { key: "Escape" });
    expect(onClose).toHaveBeenCalled();
  });
});
