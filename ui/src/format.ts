/** Human-readable sizes and times, in the user's locale. */

const UNITS = ["B", "KB", "MB", "GB", "TB"];

/** `1536` → "1.5 KB" (decimal units, as file managers on most platforms show them). */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes == null || !Number.isFinite(bytes) || bytes < 0) return "—";
  let value = bytes;
  let unit = 0;
  const digitsFor = (v: number, u: number) => (u === 0 || v >= 99.95 ? 0 : 1);
  // Compare the rounded value, so 999 999 bytes reads "1 MB", not "1,000 KB".
  while (unit < UNITS.length - 1 && Number(value.toFixed(digitsFor(value, unit))) >= 1000) {
    value /= 1000;
    unit += 1;
  }
  const digits = digitsFor(value, unit);
  return `${value.toLocaleString(undefined, { maximumFractionDigits: digits })} ${UNITS[unit]}`;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const dateOnly = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

/** "just now", "5 minutes ago", "yesterday", then a date. */
export function relativeTime(iso: string, now: number = Date.now()): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "";
  const seconds = Math.round((then - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return "just now";
  if (abs < 45 * 60) return relative.format(Math.round(seconds / 60), "minute");
  if (abs < 22 * 3600) return relative.format(Math.round(seconds / 3600), "hour");
  if (abs < 6 * 86400) return relative.format(Math.round(seconds / 86400), "day");
  return dateOnly.format(then);
}

/** The exact time, for a tooltip. */
export function exactTime(iso: string): string {
  const then = Date.parse(iso);
  return Number.isNaN(then) ? "" : full.format(then);
}

/** 0..100, rounded down so 99.6 % never shows as done. */
export function percent(sent: number, size: number): number {
  if (size <= 0) return sent > 0 ? 100 : 0;
  return Math.min(100, Math.floor((sent / size) * 100));
}
