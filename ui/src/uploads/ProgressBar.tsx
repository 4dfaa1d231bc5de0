import { formatBytes, percent } from "../format";

interface Props {
  label: string;
  sent: number;
  /** `null`: the size is not known yet, so the bar is indeterminate. */
  size: number | null;
  tone?: "normal" | "done" | "failed" | "muted";
}

/** A determinate progress bar that screen readers announce as "12 MB of 40 MB". */
export function ProgressBar({ label, sent, size, tone = "normal" }: Props) {
  const known = size != null;
  const value = known ? percent(sent, size) : undefined;
  return (
    <div
      className="progress"
      data-tone={tone}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={value}
      aria-valuetext={known ? `${formatBytes(sent)} of ${formatBytes(size)}` : "size not known yet"}
    >
      <div className="progress-fill" style={{ transform: `scaleX(${(value ?? 0) / 100})` }} />
    </div>
  );
}
