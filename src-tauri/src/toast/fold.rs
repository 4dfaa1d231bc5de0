//! Folding: when more than [`Folder::MAX_SINGLE`] toasts would appear within
//! [`Folder::WINDOW`], the rest of the burst becomes one summary toast instead of a flood.
//! After a (re)connect the feed replays what the app missed: [`Folder::catch_up`] holds all of
//! it until the replay goes quiet and shows one summary, not a few singles per window (a replay
//! of up to [`Folder::MAX_SINGLE`] is still shown one by one).
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
    /// Set while catching up: when it began and when the last item came.
    catch_up: Option<(Instant, Instant)>,
}

impl<T> Default for Folder<T> {
    fn default() -> Self {
        Self { window_start: None, shown_in_window: 0, held: Vec::new(), catch_up: None }
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
        if let Some((began, _)) = self.catch_up {
            if self.deadline().is_some_and(|at| now < at) {
                self.held.push(item);
                self.catch_up = Some((began, now));
                return out;
            }
            out.extend(self.flush());
        }
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

    /// How long a replay may pause before it counts as caught up.
    pub const CATCH_UP_QUIET: Duration = Duration::from_millis(500);
    /// The longest a catch-up holds toasts back, however long the replay runs (a debug
    /// build here replayed 10 000 in 1 to 8 s).
    pub const CATCH_UP_MAX: Duration = Duration::from_secs(30);

    /// The feed (re)connected at `now` and replays what was missed: hold everything until
    /// nothing has come for [`CATCH_UP_QUIET`](Self::CATCH_UP_QUIET), then one summary (a
    /// replay of a few is shown one by one).
    pub fn catch_up(&mut self, now: Instant) {
        self.catch_up = Some((now, now));
    }

    /// Whether a catch-up is holding toasts back.
    pub fn catching_up(&self) -> bool {
        self.catch_up.is_some()
    }

    /// When the current window (or catch-up) ends, if one is open: call
    /// [`flush`](Self::flush) then.
    pub fn deadline(&self) -> Option<Instant> {
        if let Some((began, last)) = self.catch_up {
            return Some((last + Self::CATCH_UP_QUIET).min(began + Self::CATCH_UP_MAX));
        }
        self.window_start.map(|start| start + Self::WINDOW)
    }

    /// Ends the current window (or catch-up): the held notifications come out as one summary;
    /// after a catch-up, a few (up to [`MAX_SINGLE`](Self::MAX_SINGLE)) come out one by one,
    /// and after a window a single held one is shown on its own.
    pub fn flush(&mut self) -> Vec<Toast<T>> {
        let caught_up = self.catch_up.take().is_some();
        self.window_start = None;
        self.shown_in_window = 0;
        let held = std::mem::take(&mut self.held);
        let few = if caught_up { Self::MAX_SINGLE } else { 1 };
        if held.len() <= few {
            held.into_iter().map(Toast::Single).collect()
        } else {
            vec![Toast::Summary(held)]
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
        assert!(f.flush().is_empty());
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
        assert_eq!(f.flush(), [Toast::Summary((3..12).collect())]);
    }

    #[test]
    fn a_replay_after_a_reconnect_is_one_summary_however_long_it_runs() {
        // Regression: 10 000 replayed notifications showed 3 singles and a summary per 2 s
        // window while they streamed in.
        let t0 = Instant::now();
        let mut f = Folder::default();
        f.catch_up(t0);
        let mut shown = Vec::new();
        for i in 0..10_000u64 {
            // 5 s of replay, never quiet for long.
            shown.extend(f.push(i, t0 + Duration::from_micros(500 * i)));
        }
        assert!(shown.is_empty(), "nothing shows while the replay streams: {}", shown.len());
        let last = t0 + Duration::from_micros(500 * 9_999);
        assert_eq!(f.deadline(), Some(last + Folder::<u64>::CATCH_UP_QUIET));
        assert_eq!(f.flush(), [Toast::Summary((0..10_000).collect())]);
        // Caught up: live notifications are toasted one by one again.
        let live = last + Duration::from_secs(1);
        assert_eq!(f.push(7, live), [Toast::Single(7)]);
    }

    #[test]
    fn a_catch_up_ends_when_quiet_or_at_its_cap() {
        let t0 = Instant::now();
        let mut f = Folder::default();
        f.catch_up(t0);
        assert_eq!(f.deadline(), Some(t0 + Folder::<u8>::CATCH_UP_QUIET));
        // Nothing to replay: the first live item after the quiet period shows at once.
        assert_eq!(f.push(1u8, t0 + Duration::from_secs(1)), [Toast::Single(1)]);

        let mut f = Folder::default();
        f.catch_up(t0);
        assert!(f.push(1u8, t0 + Duration::from_millis(100)).is_empty());
        assert!(f.push(2u8, t0 + Duration::from_millis(150)).is_empty());
        assert_eq!(f.flush(), [Toast::Single(1), Toast::Single(2)], "a short replay is toasted one by one");

        let mut f = Folder::default();
        f.catch_up(t0);
        for ms in (0..29_900).step_by(100) {
            f.push(0u8, t0 + Duration::from_millis(ms));
        }
        assert_eq!(f.deadline(), Some(t0 + Folder::<u8>::CATCH_UP_MAX), "a replay that never pauses is cut off");
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
