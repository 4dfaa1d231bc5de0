import { useEffect, useState } from "react";
import { on, type DropHover } from "../api";

/**
 * While files are dragged over the window (the native drag, reported by the Rust side), the whole
 * window lights up and a marker follows the pointer: that is where the drop lands.
 */
export function DropOverlay() {
  const [hover, setHover] = useState<DropHover>({ active: false, x: null, y: null });
  useEffect(() => on.dropHover(setHover), []);

  if (!hover.active) return null;
  return (
    <div className="drop-overlay" data-testid="drop-overlay" aria-hidden="true">
      <div className="drop-overlay-label">Drop to upload to your LockBox</div>
      {hover.x != null && hover.y != null && (
        <div className="drop-marker" style={{ transform: `translate(${hover.x}px, ${hover.y}px)` }}>
          <span className="drop-marker-dot" />
          <span className="drop-marker-label">Upload here</span>
        </div>
      )}
    </div>
  );
}
