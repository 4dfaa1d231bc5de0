//! The native drag-and-drop of the window (Tauri's `DragDrop` window event, not HTML5 DnD):
//! hover position goes to the window so it can show where the drop lands; dropped paths go
//! into the upload queue.

use tauri::{DragDropEvent, Manager, PhysicalPosition, Window};
use tauri_specta::Event;

use crate::{events::DropHover, upload::Uploads};

pub fn on_drag_drop(window: &Window, event: &DragDropEvent) {
    let scale = window.scale_factor().unwrap_or(1.0);
    let hover = |active: bool, position: Option<&PhysicalPosition<f64>>| {
        let (x, y) = position.map(|p| (p.x / scale, p.y / scale)).unwrap_or_default();
        let _ = DropHover { active, x, y }.emit(window);
    };
    match event {
        DragDropEvent::Enter { position, .. } | DragDropEvent::Over { position } => hover(true, Some(position)),
        DragDropEvent::Leave => hover(false, None),
        DragDropEvent::Drop { paths, position } => {
            hover(false, Some(position));
            let uploads = window.state::<std::sync::Arc<Uploads>>();
            match uploads.enqueue(paths) {
                Ok((items, problems)) => {
                    tracing::info!(files = items.len(), problems = problems.len(), "dropped files queued");
                    for problem in problems {
                        tracing::warn!(problem, "a dropped path could not be read");
                    }
                }
                Err(error) => tracing::error!(%error, "could not queue dropped files"),
            }
        }
        _ => {}
    }
}
