//! What a phase cost in CPU: the whole machine's (every thread of every process, so the load
//! generator, the services, RabbitMQ and nginx alike) and this process's own
//! (`getrusage`: the load generator, plus the services it runs in-process). Divided by the
//! operations done, it says what one operation costs the machine, which a rate alone hides:
//! how much of both cores it took.

use std::time::Duration;

use crate::BenchError;

/// CPU counters at the start of a phase.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    machine: Duration,
    process: Duration,
}

/// CPU time spent between [`Clock::start`] and [`Clock::stop`].
#[derive(Debug, Clone, Copy)]
pub struct Spent {
    /// CPU time of every thread on the machine, together.
    pub machine: Duration,
    /// This process's user and system time.
    pub process: Duration,
}

impl Clock {
    pub fn start() -> Result<Self, BenchError> {
        Ok(Self { machine: machine_busy()?, process: process_time()? })
    }

    pub fn stop(&self) -> Result<Spent, BenchError> {
        Ok(Spent { machine: machine_busy()?.saturating_sub(self.machine), process: process_time()?.saturating_sub(self.process) })
    }
}

impl Spent {
    /// The machine's CPU time per operation, in µs.
    pub fn machine_us(&self, ops: usize) -> f64 {
        per_op_us(self.machine, ops)
    }

    /// This process's CPU time per operation, in µs.
    pub fn process_us(&self, ops: usize) -> f64 {
        per_op_us(self.process, ops)
    }
}

fn per_op_us(spent: Duration, ops: usize) -> f64 {
    spent.as_secs_f64() * 1e6 / ops.max(1) as f64
}

/// CPU time every thread on the machine has had so far: the first field of each
/// `/proc/<pid>/task/<tid>/schedstat`, in ns (scheduler accounting, exact). A thread that
/// exits inside a phase takes its time with it; the phases here start none that do. Without
/// schedstat (a kernel without `CONFIG_SCHED_INFO`), the 10 ms ticks of `/proc/stat`.
fn machine_busy() -> Result<Duration, BenchError> {
    match threads_run_time() {
        Some(ns) => Ok(Duration::from_nanos(ns)),
        None => stat_busy(),
    }
}

fn threads_run_time() -> Option<u64> {
    // Our own threads must be there; others may vanish while we read.
    std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let mut total = 0u64;
    for process in std::fs::read_dir("/proc").ok()?.flatten() {
        if !process.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(tasks) = std::fs::read_dir(process.path().join("task")) else { continue };
        for task in tasks.flatten() {
            let ns = std::fs::read_to_string(task.path().join("schedstat"))
                .ok()
                .and_then(|line| line.split_whitespace().next()?.parse::<u64>().ok());
            total += ns.unwrap_or_default();
        }
    }
    Some(total)
}

/// Busy ticks of all cores from the `cpu` line of `/proc/stat`: user, nice, system, irq and
/// softirq (guest time is inside user; steal is the hypervisor's, not ours).
fn stat_busy() -> Result<Duration, BenchError> {
    let stat = std::fs::read_to_string("/proc/stat").map_err(BenchError::io("/proc/stat"))?;
    let line = stat
        .lines()
        .find(|line| line.starts_with("cpu "))
        .ok_or_else(|| BenchError::Invalid("/proc/stat has no `cpu` line: is /proc mounted?".into()))?;
    let fields = line.split_whitespace().skip(1).map(str::parse::<u64>).collect::<Result<Vec<_>, _>>();
    let fields = fields.map_err(|e| BenchError::Invalid(format!("/proc/stat `cpu` line `{line}` does not parse: {e}")))?;
    let at = |i: usize| fields.get(i).copied().unwrap_or_default();
    let ticks = at(0) + at(1) + at(2) + at(5) + at(6);
    // SAFETY: sysconf only reads a constant of the C library.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let per_second = u64::try_from(per_second).ok().filter(|&t| t > 0).unwrap_or(100);
    Ok(Duration::from_secs_f64(ticks as f64 / per_second as f64))
}

/// User and system CPU time of this process (all its threads) so far.
fn process_time() -> Result<Duration, BenchError> {
    // SAFETY: getrusage fills the zeroed struct it is given and touches nothing else.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut usage) != 0 {
            return Err(BenchError::io("getrusage of the bench process")(std::io::Error::last_os_error()));
        }
        usage
    };
    let time = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    Ok(time(usage.ru_utime) + time(usage.ru_stime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_machine_clock_covers_this_process_cpu_time() {
        let clock = Clock::start().unwrap();
        let mut x = 0u64;
        // Spin until this process has used 300 ms of CPU, however busy the machine is (reading
        // only the cheap process clock, so the time is the spinning's, not the /proc scans').
        while process_time().unwrap().saturating_sub(clock.process) < Duration::from_millis(300) {
            for _ in 0..10_000 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
        let spent = clock.stop().unwrap();
        // The machine's time includes ours (to within /proc/stat's 10 ms ticks, if that is
        // what it reads).
        assert!(
            spent.machine + Duration::from_millis(40) >= spent.process,
            "machine busy {:?} is less than this process's CPU time {:?}",
            spent.machine,
            spent.process
        );
        assert!((spent.process_us(1000) - spent.process.as_secs_f64() * 1e3).abs() < 1e-6);
    }
}
