import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import App from "./App";

describe("App", () => {
  it("shows the empty drop zone", () => {
    render(<App />);
    expect(screen.getByRole("heading", { name: "Drop files here to upload" })).toBeTruthy();
    expect(screen.getByRole("region", { name: "Upload files" })).toBeTruthy();
    expect(screen.getByText(/kept safe in your LockBox/)).toBeTruthy();
  });
});
