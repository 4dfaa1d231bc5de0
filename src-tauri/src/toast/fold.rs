//! Folding: when more than [`Folder::MAX_SINGLE`] toasts would appear within
//! [`Folder::WINDOW`], the rest of the burst becomes one summary toast instead of a flood.
//!
//! Pure logic over explicit instants, so it is tested without clocks or sleeps; the caller
//! calls [`Folder::flush`] when the window of the last burst has passed.

use std::time::{Duration, Instant};

/// What to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Toast<T> {
    /// One notification, shown on its own.
    Single(T),
    /// A burst of notifications, shown as one summary.
    Summary(Vec<T>),
}

#[derive(Debug)]
pub struct Folder<T> {
    window_start: Option<Instant>,
    shown_in_window: usize,
    held: Vec<T>,
}

impl<T> Default for Folder<T> {
    fn default() -> Self {
        Self { window_start: None, shown_in_window: 0, held: Vec::new() }
    }
}

impl<T> Folder<T> {
    /// How many toasts a burst may show one by one before the rest is summarized.
    pub const MAX_SINGLE: usize = 3;
    /// How long a burst lasts.
    pub const WINDOW: Duration = Duration::from_secs(2);

    /// A notification arrived at `now`. Returns the toasts to show right away; toasts held
    /// for a summary come out of [`flush`](Self::flush).
    pub fn push(&mut self, item: T, now: Instant) -> Vec<Toast<T>> {
        let mut out = Vec::new();
        if self.window_start.is_some_and(|start| now.duration_since(start) >= Self::WINDOW) {
            out.extend(self.flush());
        }
        let _ = self.window_start.get_or_insert(now);
        if self.shown_in_window < Self::MAX_SINGLE && self.held.is_empty() {
            self.shown_in_window += 1;
            out.push(Toast::Single(item));
        } else {
            self.held.push(item);
        }
        out
    }

    /// When the current window ends, if one is open: call [`flush`](Self::flush) then.
    pub fn deadline(&self) -> Option<Instant> {
        self.window_start.map(|start| start + Self::WINDOW)
    }

    /// Ends the current window: the held notifications come out as one summary (or as a single
    /// toast if only one was held).
    pub fn flush(&mut self) -> Option<Toast<T>> {
        self.window_start = None;
        self.shown_in_window = 0;
        let mut held = std::mem::take(&mut self.held);
        match held.len() {
            0 => None,
            1 => held.pop().map(Toast::Single),
            _ => Some(Toast::Summary(held)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_notifications_each_get_their_own_toast() {
        let t0 = Instant::now();
        let mut f = Folder::default();
        let shown: Vec<_> = (0..3).flat_map(|i| f.push(i, t0 + Duration::from_millis(100 * i))).collect();
        assert_eq!(shown, [Toast::Single(0), Toast::Single(1), Toast::Single(2)]);
        assert_eq!(f.flush(), None);
    }

    #[test]
    fn a_burst_folds_into_one_summary() {
        let t0 = Instant::now();
        let mut f = Folder::default();
        let mut shown = Vec::new();
        for i in 0..12u64 {
            shown.extend(f.push(i, t0 + Duration::from_millis(50 * i)));
        }
        assert_eq!(shown.len(), 3, "the first three show at once");
        assert_eq!(f.deadline(), Some(t0 + Folder::<u64>::WINDOW));
        assert_eq!(f.flush(), Some(Toast::Summary((3..12).collect())));
    }

    #[test]
    fn a_new_window_starts_after_two_seconds() {
        let t0 = Instant::now();
        let mut f = Folder::default();
        for i in 0..5 {
            f.push(i, t0);
        }
        let later = f.push(99, t0 + Duration::from_secs(3));
        assert_eq!(later, [Toast::Summary(vec![3, 4]), Toast::Single(99)]);
    }
}
