#!/usr/bin/python3
"""A tiny GTK3 window whose button is a drag source for the given files (text/uri-list).

Used by the end-to-end test to drop files on the LockBox window for real, the way a file
manager does: xdotool presses on the button, moves onto the LockBox window and releases.
Prints "ready <x> <y>" (the button's centre on screen) once the window is on screen.
Needs Debian's python3-gi and gir1.2-gtk-3.0, so run it with /usr/bin/python3.
"""

import sys
from pathlib import Path

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402


def main() -> int:
    uris = [Path(p).resolve().as_uri() for p in sys.argv[1:]]
    if not uris:
        print("usage: drag_source.py FILE_OR_FOLDER...", file=sys.stderr)
        return 2

    window = Gtk.Window(title="lockbox-drag-source")
    window.set_default_size(120, 80)
    window.move(0, 0)
    button = Gtk.Button(label=f"drag {len(uris)}")
    button.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
    button.drag_source_add_uri_targets()

    def on_drag_data_get(_widget, _context, data, _info, _time):
        data.set_uris(uris)

    def on_drag_end(_widget, _context):
        print("drag-end", flush=True)

    button.connect("drag-data-get", on_drag_data_get)
    button.connect("drag-end", on_drag_end)
    window.add(button)
    window.connect("destroy", Gtk.main_quit)

    def announce():
        alloc = button.get_allocation()
        origin = button.get_window().get_origin()
        x = origin.x + alloc.x + alloc.width // 2
        y = origin.y + alloc.y + alloc.height // 2
        print(f"ready {x} {y}", flush=True)
        return False

    def on_map(_widget, _event):
        GLib.idle_add(announce)
        return False

    window.connect("map-event", on_map)
    window.show_all()
    Gtk.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
