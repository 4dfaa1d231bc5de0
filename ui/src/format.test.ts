import { describe, expect, it } from "vitest";
import { formatBytes, percent, relativeTime } from "./format";

describe("formatBytes", () => {
  it("reads like a file manager", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1500)).toBe("1.5 KB");
    expect(formatBytes(812_000)).toBe("812 KB");
    expect(formatBytes(999_999)).toBe("1 MB");
    expect(formatBytes(4_200_000_000)).toBe("4.2 GB");
    expect(formatBytes(null)).toBe("—");
  });
});

describe("relativeTime", () => {
  const now = Date.parse("2026-12-04T12:00:00Z");
  it("says how long ago, then the date", () => {
    expect(relativeTime("2026-12-04T11:59:40Z", now)).toBe("just now");
    expect(relativeTime("2026-12-04T11:55:00Z", now)).toBe("5 minutes ago");
    expect(relativeTime("2026-12-04T09:00:00Z", now)).toBe("3 hours ago");
    expect(relativeTime("2026-12-03T10:00:00Z", now)).toBe("yesterday");
    expect(relativeTime("2026-11-01T10:00:00Z", now)).toMatch(/2026/);
  });
});

describe("percent", () => {
  it("never shows an unfinished file as 100 %", () => {
    expect(percent(996, 1000)).toBe(99);
    expect(percent(1000, 1000)).toBe(100);
    expect(percent(0, 0)).toBe(0);
  });
});
