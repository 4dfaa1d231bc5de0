import { act, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { InboxItem } from "../api";
import { installIpc, notification } from "../test/ipc";
import { InboxList, ROW_HEIGHT } from "./InboxList";

const TOTAL = 100_000;

interface Filter {
  unreadOnly: boolean;
  query: string | null;
}

/** Read state the fake inbox keeps, like the SQLite cache does. */
interface ReadState {
  ids: Set<string>;
  all: boolean;
}

/** A 100 000-row inbox that, like the Rust side, only ever materializes the page asked for. */
function bigInbox(state: ReadState = { ids: new Set(), all: false }) {
  const isRead = (n: InboxItem) => state.all || !!n.readAt || state.ids.has(n.id);
  const page = ({ filter, offset, limit }: Record<string, unknown>) => {
    const f = filter as Filter;
    const o = offset as number;
    const l = limit as number;
    if (f.query || f.unreadOnly) {
      // Filtered views are small in these tests: search the first 1 000.
      const all = Array.from({ length: 1000 }, (_, i) => notification(i)).filter(
        (n) => (!f.unreadOnly || !isRead(n)) && (!f.query || n.title.includes(f.query)),
      );
      return { items: all.slice(o, o + l), total: all.length, offset: o };
    }
    const items: InboxItem[] = [];
    for (let i = o; i < Math.min(TOTAL, o + l); i++) {
      const n = notification(i);
      items.push(isRead(n) ? { ...n, readAt: n.readAt ?? new Date().toISOString() } : n);
    }
    return { items, total: TOTAL, offset: o };
  };
  return {
    inbox_page: page,
    inbox_mark_read: ({ ids }: Record<string, unknown>) => {
      for (const id of ids as string[]) state.ids.add(id);
      return (ids as string[]).length;
    },
    inbox_mark_all_read: () => {
      state.all = true;
      return 1;
    },
  };
}

const rows = () => within(screen.getByRole("list", { name: "Notifications" })).queryAllByRole("listitem");
const scroller = () => screen.getByRole("list", { name: "Notifications" }).parentElement as HTMLElement;

describe("InboxList", () => {
  it("renders a window of rows out of 100 000, newest first, and fetches pages by offset as you scroll", async () => {
    const ipc = installIpc(bigInbox());
    render(<InboxList unread={50_000} onReadChanged={() => {}} />);
    expect(await screen.findByText("file-0.pdf stored")).toBeTruthy();
    const visible = rows();
    expect(visible.length).toBeGreaterThan(5);
    expect(visible.length).toBeLessThan(50);
    expect(visible[0].getAttribute("aria-setsize")).toBe(String(TOTAL));
    expect(visible[0].getAttribute("aria-posinset")).toBe("1");
    expect(ipc.callsOf("inbox_page")[0]).toMatchObject({ offset: 0, filter: { unreadOnly: false, query: null } });

    const el = scroller();
    await act(async () => {
      el.scrollTop = 70_000 * ROW_HEIGHT;
      fireEvent.scroll(el);
    });
    expect(await screen.findByText("file-70000.pdf stored")).toBeTruthy();
    expect(rows().length).toBeLessThan(50);
    expect(screen.queryByText("file-0.pdf stored")).toBeNull();
    expect(ipc.callsOf("inbox_page").map((a) => a.offset)).toContain(70_000);
    // Only the pages in view were asked for, never the whole inbox.
    expect(ipc.callsOf("inbox_page").length).toBeLessThan(5);
  });

  it("shows unread items bold with a dot, and a click marks the item read", async () => {
    const onReadChanged = vi.fn();
    const ipc = installIpc(bigInbox());
    render(<InboxList unread={10} onReadChanged={onReadChanged} />);
    const row = await screen.findByRole("button", { name: /^Unread: file-0\.pdf stored/ });
    expect(row.dataset.unread).toBe("true");
    expect(screen.getByRole("button", { name: /^file-1\.pdf stored/ }).dataset.unread).toBe("false");
    fireEvent.click(row);
    expect(row.dataset.unread).toBe("false");
    await waitFor(() => expect(ipc.callsOf("inbox_mark_read")).toEqual([{ ids: ["n0"] }]));
    await waitFor(() => expect(onReadChanged).toHaveBeenCalled());
  });

  it("clicking an item that is already read does not send anything", async () => {
    const ipc = installIpc(bigInbox());
    render(<InboxList unread={10} onReadChanged={() => {}} />);
    fireEvent.click(await screen.findByRole("button", { name: /^file-1\.pdf stored/ }));
    expect(ipc.callsOf("inbox_mark_read")).toEqual([]);
  });

  it("Mark all read marks everything read and is off when nothing is unread", async () => {
    const ipc = installIpc(bigInbox());
    const { rerender } = render(<InboxList unread={10} onReadChanged={() => {}} />);
    await screen.findByText("file-0.pdf stored");
    fireEvent.click(screen.getByRole("button", { name: "Mark all read" }));
    await waitFor(() => expect(ipc.callsOf("inbox_mark_all_read")).toHaveLength(1));
    expect(screen.getByRole("button", { name: /file-0\.pdf stored/ }).dataset.unread).toBe("false");
    rerender(<InboxList unread={0} onReadChanged={() => {}} />);
    expect((screen.getByRole("button", { name: "Mark all read" }) as HTMLButtonElement).disabled).toBe(true);
  });

  it("the Unread only toggle asks for unread items only", async () => {
    const ipc = installIpc(bigInbox());
    render(<InboxList unread={500} onReadChanged={() => {}} />);
    await screen.findByText("file-1.pdf stored");
    const toggle = screen.getByRole("button", { name: "Unread only" });
    fireEvent.click(toggle);
    expect(toggle.getAttribute("aria-pressed")).toBe("true");
    await waitFor(() => expect(screen.queryByText("file-1.pdf stored")).toBeNull());
    expect(ipc.callsOf("inbox_page").at(-1)).toMatchObject({ offset: 0, filter: { unreadOnly: true, query: null } });
    expect(screen.getByText("file-2.pdf stored")).toBeTruthy();
  });

  it("search is debounced and sent as the query; no match says so", async () => {
    const ipc = installIpc(bigInbox());
    render(<InboxList unread={0} onReadChanged={() => {}} />);
    await screen.findByText("file-0.pdf stored");
    const box = screen.getByRole("searchbox", { name: "Search notifications" });
    fireEvent.change(box, { target: { value: "f" } });
    fireEvent.change(box, { target: { value: "file-42" } });
    fireEvent.change(box, { target: { value: "file-42.pdf " } });
    expect(await screen.findByText("file-42.pdf stored")).toBeTruthy();
    const queries = ipc.callsOf("inbox_page").map((a) => (a.filter as Filter).query);
    expect(queries).toEqual([null, "file-42.pdf"]);

    fireEvent.change(box, { target: { value: "zzz" } });
    expect(await screen.findByText("Nothing matches “zzz”")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Clear search" }));
    expect(await screen.findByText("file-0.pdf stored")).toBeTruthy();
  });

  it("an empty inbox says what to do next", async () => {
    installIpc({ inbox_page: () => ({ items: [], total: 0, offset: 0 }) });
    render(<InboxList unread={0} onReadChanged={() => {}} />);
    expect(await screen.findByText("No notifications yet — drop a file to upload it")).toBeTruthy();
  });

  it("shows the inbox error with a way to try again", async () => {
    let fail = true;
    installIpc({
      inbox_page: () => {
        if (fail) throw { kind: "database", message: "the inbox could not be read: disk I/O error. Restart LockBox" };
        return { items: [notification(0)], total: 1, offset: 0 };
      },
    });
    render(<InboxList unread={0} onReadChanged={() => {}} />);
    expect((await screen.findByRole("alert")).textContent).toContain("disk I/O error. Restart LockBox");
    fail = false;
    fireEvent.click(screen.getByRole("button", { name: "Try again" }));
    expect(await screen.findByText("file-0.pdf stored")).toBeTruthy();
  });

  it("refreshes when new notifications arrive", async () => {
    let newest = 0;
    const ipc = installIpc({
      inbox_page: ({ offset }) => {
        const items = Array.from({ length: 3 }, (_, i) => notification(i, { title: `item ${newest - i}` }));
        return { items, total: 3, offset: offset as number };
      },
    });
    render(<InboxList unread={0} onReadChanged={() => {}} />);
    expect(await screen.findByText("item 0")).toBeTruthy();
    newest = 1;
    await ipc.emit("inbox-changed", { unread: 1, added: [] });
    expect(await screen.findByText("item 1")).toBeTruthy();
  });

  it("a clicked toast scrolls to its item, highlights it and clears filters that hide it", async () => {
    const ipc = installIpc(bigInbox());
    render(<InboxList unread={10} onReadChanged={() => {}} />);
    await screen.findByText("file-0.pdf stored");
    fireEvent.click(screen.getByRole("button", { name: "Unread only" }));
    await waitFor(() => expect(screen.queryByText("file-1.pdf stored")).toBeNull());

    await ipc.emit("focus-item", { id: "n151" });
    const row = await screen.findByRole("button", { name: /file-151\.pdf stored/ });
    expect(row.dataset.highlighted).toBe("true");
    expect(screen.getByRole("button", { name: "Unread only" }).getAttribute("aria-pressed")).toBe("false");
    expect(scroller().scrollTop).toBeGreaterThan(100 * ROW_HEIGHT);
  });
});

describe("InboxList keyboard and live updates", () => {
  it("arrow keys, End and Home move the focus between rows", async () => {
    installIpc(bigInbox());
    render(<InboxList unread={0} onReadChanged={() => {}} />);
    const first = await screen.findByRole("button", { name: /file-0\.pdf stored/ });
    first.focus();
    fireEvent.keyDown(first, { key: "ArrowDown" });
    await waitFor(() => expect(document.activeElement?.textContent).toContain("file-1.pdf stored"));
    fireEvent.keyDown(document.activeElement as HTMLElement, { key: "End" });
    expect(await screen.findByText("file-99999.pdf stored")).toBeTruthy();
    await waitFor(() => expect(document.activeElement?.textContent).toContain("file-99999.pdf stored"));
    fireEvent.keyDown(document.activeElement as HTMLElement, { key: "Home" });
    await waitFor(() => expect(document.activeElement?.textContent).toContain("file-0.pdf stored"));
  });

  it("keeps the reader's place when new notifications arrive above", async () => {
    const ipc = installIpc(bigInbox());
    render(<InboxList unread={0} onReadChanged={() => {}} />);
    await screen.findByText("file-0.pdf stored");
    const el = scroller();
    await act(async () => {
      el.scrollTop = 500 * ROW_HEIGHT;
      fireEvent.scroll(el);
    });
    await ipc.emit("inbox-changed", { unread: 2, added: [notification(0), notification(1)] });
    expect(el.scrollTop).toBe(502 * ROW_HEIGHT);
  });
});
