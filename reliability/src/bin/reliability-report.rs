//! Renders `docs/RELIABILITY.md` from the full run's records:
//! `reliability-report [records dir] [output file]`.
use std::{path::PathBuf, process::Command};

use lockbox_reliability::{Record, render, report::report_dir};

fn run_text(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| c.lines().find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())))
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find_map(|l| l.strip_prefix("MemTotal:")?.trim().trim_end_matches("kB").trim().parse::<u64>().ok()))
        .map(|kib| format!("{} GiB", (kib + (1 << 19)) >> 20))
        .unwrap_or_default();
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|o| o.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_owned())))
        .unwrap_or_default();
    let rabbit = run_text("dpkg-query", &["-W", "-f=${Version}", "rabbitmq-server"]);
    format!("{cpu}, {cores} cores, {mem} RAM, {os}, kernel {}, RabbitMQ {rabbit}", run_text("uname", &["-r"]))
}

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let dir = args.next().map(PathBuf::from).unwrap_or_else(|| report_dir().join("full"));
    let out = args.next().map(PathBuf::from).unwrap_or_else(|| PathBuf::from("docs/RELIABILITY.md"));
    let records = match Record::read_all(&dir) {
        Ok(records) if !records.is_empty() => records,
        Ok(_) => {
            eprintln!("reliability-report: no records in {}; run scripts/reliability.sh first", dir.display());
            return std::process::ExitCode::FAILURE;
        }
        Err(error) => {
            eprintln!("reliability-report: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let dirty = if run_text("git", &["status", "--porcelain"]).is_empty() { "" } else { " (with uncommitted changes)" };
    let facts = render::Facts {
        commit: format!("{}{dirty}", run_text("git", &["rev-parse", "--short", "HEAD"])),
        date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        machine: machine(),
        build: std::env::var("LOCKBOX_RELIABILITY_BUILD").unwrap_or_else(|_| "cargo test (profile not recorded)".into()),
    };
    let md = render::render(&records, &facts, "scripts/reliability.sh");
    if let Err(error) = std::fs::write(&out, md) {
        eprintln!("reliability-report: cannot write {}: {error}", out.display());
        return std::process::ExitCode::FAILURE;
    }
    println!("wrote {} ({} scenarios)", out.display(), records.len());
    std::process::ExitCode::SUCCESS
}
