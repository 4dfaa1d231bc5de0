/**
 * A fixed-row-height windowed list: only the rows in view (plus a few) are in the DOM, so a
 * 100 000-row inbox scrolls like a 20-row one. Arrow keys, Page Up/Down, Home and End move the
 * focus between rows.
 */
import { useCallback, useEffect, useImperativeHandle, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode, type Ref } from "react";

export interface VirtualListHandle {
  scrollToIndex(index: number, align?: "nearest" | "center"): void;
  /** Rows were inserted above: move down with them so what is on screen stays put (unless at the top). */
  keepPositionAfterInsert(rowsAbove: number): void;
  focusIndex(index: number): void;
}

interface Props {
  count: number;
  rowHeight: number;
  label: string;
  renderRow(index: number): ReactNode;
  /** The rows now in the DOM, `start..end` exclusive: load their data. */
  onRangeChange?(start: number, end: number): void;
  overscan?: number;
  ref?: Ref<VirtualListHandle>;
}

/** Before the first layout (and in test DOMs, which have no layout) assume a typical window. */
const FALLBACK_HEIGHT = 600;

export function VirtualList({ count, rowHeight, label, renderRow, onRangeChange, overscan = 6, ref }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(FALLBACK_HEIGHT);
  const [focusTarget, setFocusTarget] = useState<number | null>(null);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const measure = () => setHeight(el.clientHeight || FALLBACK_HEIGHT);
    measure();
    if (typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const start = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const end = Math.min(count, Math.ceil((scrollTop + height) / rowHeight) + overscan);

  useEffect(() => {
    onRangeChange?.(start, end);
  }, [start, end, onRangeChange]);

  const scrollToIndex = useCallback(
    (index: number, align: "nearest" | "center" = "nearest") => {
      const el = scroller.current;
      if (!el) return;
      const top = index * rowHeight;
      const viewport = el.clientHeight || height;
      let next = el.scrollTop;
      if (align === "center") next = top - (viewport - rowHeight) / 2;
      else if (top < el.scrollTop) next = top;
      else if (top + rowHeight > el.scrollTop + viewport) next = top + rowHeight - viewport;
      next = Math.max(0, Math.min(next, count * rowHeight - viewport));
      el.scrollTop = next;
      setScrollTop(next);
    },
    [rowHeight, height, count],
  );

  const focusIndex = useCallback(
    (index: number) => {
      const clamped = Math.max(0, Math.min(count - 1, index));
      scrollToIndex(clamped);
      setFocusTarget(clamped);
    },
    [count, scrollToIndex],
  );

  const keepPositionAfterInsert = useCallback(
    (rowsAbove: number) => {
      const el = scroller.current;
      if (!el || el.scrollTop === 0 || rowsAbove <= 0) return;
      const next = el.scrollTop + rowsAbove * rowHeight;
      el.scrollTop = next;
      setScrollTop(next);
    },
    [rowHeight],
  );

  useImperativeHandle(ref, () => ({ scrollToIndex, focusIndex, keepPositionAfterInsert }), [
    scrollToIndex,
    focusIndex,
    keepPositionAfterInsert,
  ]);

  // Focus moves once the target row is rendered.
  useEffect(() => {
    if (focusTarget == null) return;
    const row = scroller.current?.querySelector<HTMLElement>(`[data-index="${focusTarget}"] [data-row-focus]`);
    if (row) {
      row.focus({ preventScroll: true });
      setFocusTarget(null);
    }
  });

  const onKeyDown = (event: KeyboardEvent) => {
    const from = (event.target as HTMLElement).closest<HTMLElement>("[data-index]");
    if (!from) return;
    const index = Number(from.dataset.index);
    const page = Math.max(1, Math.floor(height / rowHeight) - 1);
    const target = {
      ArrowDown: index + 1,
      ArrowUp: index - 1,
      PageDown: index + page,
      PageUp: index - page,
      Home: 0,
      End: count - 1,
    }[event.key];
    if (target === undefined) return;
    event.preventDefault();
    focusIndex(target);
  };

  const rows: ReactNode[] = [];
  for (let i = start; i < end; i++) {
    rows.push(
      <div
        key={i}
        className="vrow"
        role="listitem"
        data-index={i}
        aria-setsize={count}
        aria-posinset={i + 1}
        style={{ transform: `translateY(${i * rowHeight}px)`, height: rowHeight }}
      >
        {renderRow(i)}
      </div>,
    );
  }

  return (
    <div
      ref={scroller}
      className="vlist"
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      onKeyDown={onKeyDown}
    >
      <div role="list" aria-label={label} className="vlist-body" style={{ height: count * rowHeight }}>
        {rows}
      </div>
    </div>
  );
}
