//! The table: one row per measure, its baseline from the same run, the ratio, the target and
//! the verdict; machine facts; Markdown for `docs/BENCHMARKS.md`.

use std::fmt::Write as _;

use crate::stats::Stat;

/// What a row must reach. Ratios are LockBox ÷ baseline, per run, then the median.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Higher is better: ratio ≥ x.
    RatioAtLeast(f64),
    /// Lower is better: ratio ≤ x.
    RatioAtMost(f64),
    /// LockBox's median ≤ x (in the row's unit).
    AtMost(f64),
    /// LockBox's median ≥ x (in the row's unit).
    AtLeast(f64),
    /// No target of its own: a row that explains another (e.g. a floor no service can beat).
    Context,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Miss,
    /// Quick sizes are not the sizes: shown, not judged.
    NotJudged,
    /// A sample was missing or not finite.
    Broken,
    /// A [`Target::Context`] row: numbers to read, nothing to judge.
    Context,
}

/// One row of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub measure: String,
    pub unit: &'static str,
    pub lockbox: Option<Stat>,
    /// What the baseline is, and its samples' stat.
    pub baseline: Option<(String, Option<Stat>)>,
    pub ratio: Option<Stat>,
    pub target: Target,
}

impl Row {
    /// A row with no baseline.
    pub fn new(measure: impl Into<String>, unit: &'static str, lockbox: &[f64], target: Target) -> Self {
        Self { measure: measure.into(), unit, lockbox: Stat::of(lockbox), baseline: None, ratio: None, target }
    }

    /// A row whose `baseline` samples were taken in the same runs as `lockbox` (paired by index).
    pub fn versus(
        measure: impl Into<String>,
        unit: &'static str,
        lockbox: &[f64],
        baseline_name: impl Into<String>,
        baseline: &[f64],
        target: Target,
    ) -> Self {
        let ratios: Vec<f64> = lockbox.iter().zip(baseline).map(|(l, b)| l / b).collect();
        let ratio = if ratios.len() == lockbox.len() && lockbox.len() == baseline.len() { Stat::of(&ratios) } else { None };
        Self {
            measure: measure.into(),
            unit,
            lockbox: Stat::of(lockbox),
            baseline: Some((baseline_name.into(), Stat::of(baseline))),
            ratio,
            target,
        }
    }

    /// Whether every number this row should have is there and finite.
    pub fn complete(&self) -> bool {
        self.lockbox.is_some()
            && match &self.baseline {
                Some((_, stat)) => stat.is_some() && self.ratio.is_some(),
                None => true,
            }
    }

    pub fn verdict(&self, quick: bool) -> Verdict {
        if !self.complete() {
            return Verdict::Broken;
        }
        if self.target == Target::Context {
            return Verdict::Context;
        }
        if quick {
            return Verdict::NotJudged;
        }
        let value = |s: &Option<Stat>| s.as_ref().map(|s| s.median);
        let ok = match self.target {
            Target::RatioAtLeast(x) => value(&self.ratio).is_some_and(|r| r >= x),
            Target::RatioAtMost(x) => value(&self.ratio).is_some_and(|r| r <= x),
            Target::AtMost(x) => value(&self.lockbox).is_some_and(|v| v <= x),
            Target::AtLeast(x) => value(&self.lockbox).is_some_and(|v| v >= x),
            Target::Context => true,
        };
        if ok { Verdict::Pass } else { Verdict::Miss }
    }

    fn target_text(&self) -> String {
        match self.target {
            Target::RatioAtLeast(x) => format!("≥ {x}×"),
            Target::RatioAtMost(x) => format!("≤ {x}×"),
            Target::AtMost(x) => format!("≤ {} {}", num(x), self.unit),
            Target::AtLeast(x) => format!("≥ {} {}", num(x), self.unit),
            Target::Context => "—".to_owned(),
        }
    }
}

/// The facts that make numbers comparable (or not).
#[derive(Debug, Clone)]
pub struct Machine {
    pub facts: Vec<(&'static str, String)>,
}

impl Machine {
    pub async fn collect() -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get().to_string()).unwrap_or_else(|_| "unknown".into());
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| s.lines().find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())))
            .unwrap_or_else(|| "unknown".into());
        let memory = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|s| s.lines().find_map(|l| l.strip_prefix("MemTotal:").map(|v| v.trim().to_owned())))
            .and_then(|v| v.trim_end_matches(" kB").trim().parse::<f64>().ok())
            .map(|kib| format!("{:.1} GiB", kib / 1_048_576.0))
            .unwrap_or_else(|| "unknown".into());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_owned()).unwrap_or_else(|_| "unknown".into());
        let rabbitmqctl = std::env::var("LOCKBOX_RABBITMQCTL").unwrap_or_else(|_| "rabbitmqctl".into());
        let commit = output("git", &["rev-parse", "--short", "HEAD"]).await;
        let dirty = output("git", &["status", "--porcelain", "--untracked-files=no"]).await;
        let commit = if dirty.is_empty() || dirty == "unknown" { commit } else { format!("{commit} (with uncommitted changes)") };
        let facts = vec![
            ("date (UTC)", chrono::Utc::now().format("%Y-%m-%d %H:%M").to_string()),
            ("commit", commit),
            ("build", if cfg!(debug_assertions) { "debug".into() } else { "release".into() }),
            ("cores", cores),
            ("CPU", cpu),
            ("memory", memory),
            ("kernel", kernel),
            ("rustc", output("rustc", &["--version"]).await),
            ("RabbitMQ", output(&rabbitmqctl, &["version"]).await),
            ("nginx", output("nginx", &["-v"]).await),
        ];
        Self { facts }
    }
}

/// First line of a command's stdout (or stderr: `nginx -v` prints there), or "unknown".
async fn output(program: &str, args: &[&str]) -> String {
    match tokio::process::Command::new(program).args(args).output().await {
        Ok(out) if out.status.success() => {
            let text = if out.stdout.is_empty() { out.stderr } else { out.stdout };
            String::from_utf8_lossy(&text).lines().next().unwrap_or_default().trim().to_owned()
        }
        _ => "unknown".into(),
    }
}

/// A bench run's result.
#[derive(Debug, Clone)]
pub struct Report {
    pub rows: Vec<Row>,
    pub quick: bool,
    pub runs: usize,
    /// The measures run, when not all of them (`--only`).
    pub only: Vec<String>,
    pub machine: Machine,
}

impl Report {
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# Benchmarks\n");
        let _ = writeln!(
            out,
            "Written by `./scripts/bench.sh` (`lockbox-bench{}`). Each baseline ran in the same run as the \
             LockBox number next to it; cells are the median over {} run(s) with the min–max spread in \
             brackets. Ratios are LockBox ÷ baseline per run. On a shared 2-core machine absolute numbers \
             are noise: read the ratios.{}\n",
            if self.quick { " --quick" } else { "" },
            self.runs,
            if self.quick { " **Quick sizes: not the issue's sizes, targets not judged.**" } else { "" },
        );
        if !self.only.is_empty() {
            let _ = writeln!(out, "Only these measures ran: {}.\n", self.only.join(", "));
        }
        let _ = writeln!(out, "| measure | LockBox | baseline | ratio | target | result |");
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for row in &self.rows {
            let baseline = match &row.baseline {
                Some((name, stat)) => format!("{}: {name}", cell(stat.as_ref(), row.unit)),
                None => "—".into(),
            };
            let ratio = row.ratio.as_ref().map_or("—".into(), |r| {
                if r.n > 1 { format!("{:.2}× ({:.2}–{:.2})", r.median, r.min, r.max) } else { format!("{:.2}×", r.median) }
            });
            let result = match row.verdict(self.quick) {
                Verdict::Pass => "pass",
                Verdict::Miss => "**miss**",
                Verdict::NotJudged => "not judged (quick)",
                Verdict::Broken => "**broken**",
                Verdict::Context => "context",
            };
            let _ = writeln!(
                out,
                "| {} | {} | {baseline} | {ratio} | {} | {result} |",
                row.measure,
                cell(row.lockbox.as_ref(), row.unit),
                row.target_text()
            );
        }
        let _ = writeln!(out, "\n## Machine\n");
        for (what, fact) in &self.machine.facts {
            let _ = writeln!(out, "- {what}: {fact}");
        }
        out
    }
}

fn cell(stat: Option<&Stat>, unit: &str) -> String {
    match stat {
        None => "n/a".into(),
        Some(s) if s.n > 1 => format!("{} {unit} ({}–{})", num(s.median), num(s.min), num(s.max)),
        Some(s) => format!("{} {unit}", num(s.median)),
    }
}

/// Three significant digits, without scientific notation.
fn num(x: f64) -> String {
    let a = x.abs();
    if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_the_target() {
        let row = Row::versus("x", "MiB/s", &[90.0, 100.0, 95.0], "base", &[100.0, 100.0, 100.0], Target::RatioAtLeast(0.9));
        assert_eq!(row.verdict(false), Verdict::Pass);
        assert_eq!(row.verdict(true), Verdict::NotJudged);
        let row = Row::new("y", "ms", &[30.0], Target::AtMost(25.0));
        assert_eq!(row.verdict(false), Verdict::Miss);
        let row = Row::versus("z", "ms", &[1.0], "base", &[], Target::RatioAtMost(3.0));
        assert_eq!(row.verdict(false), Verdict::Broken);
    }
}
