//! Pacing: while the machine is busy with other work, a hashing thread rests between hashes.
//!
//! A lower scheduling priority is not enough on its own. Measured on 2 cores under a point-query
//! load, a hashing thread under SCHED_IDLE (or at nice 19) still took 30-40 % of a core and cost
//! the other requests ~18 % of their throughput: a busy server sleeps and wakes many times per
//! millisecond, the hashing thread runs in every gap, and its 19 MiB working set evicts
//! everyone's caches. So the threads also keep count: when, over the last quarter second, more
//! than half of all CPU time went to work other than hashing, each thread rests after a hash long
//! enough that hashing takes at most PASSWORD_HASH_BUSY_SHARE of a core. On an otherwise quiet
//! machine logins run at full speed.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

/// The machine counts as busy when work other than hashing used more than this share of all CPU time.
const BUSY: f64 = 0.5;
/// How often the machine's load is read again (its counters tick only every 10 ms).
const WINDOW: Duration = Duration::from_millis(250);

/// One thread's pacing; `hashing` is the CPU time all hashing threads have spent, in nanoseconds.
pub struct Pacer {
    share: f64,
    hashing: Arc<AtomicU64>,
    since: Option<Sample>,
    busy: bool,
}

struct Sample {
    at: Instant,
    machine: CpuTicks,
    hashing_ns: u64,
}

impl Pacer {
    pub fn new(share: f64, hashing: Arc<AtomicU64>) -> Self {
        Self {
            share,
            hashing,
            since: None,
            busy: false,
        }
    }

    /// Runs one hash, counts its CPU time, and says how long to rest before the next one.
    pub fn run(&mut self, hash: impl FnOnce()) -> Duration {
        let started = thread_cpu_time();
        hash();
        let spent = thread_cpu_time().saturating_sub(started);
        self.hashing.fetch_add(
            u64::try_from(spent.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.observe();
        if self.busy && self.share < 1.0 {
            spent.mul_f64(1.0 / self.share - 1.0)
        } else {
            Duration::ZERO
        }
    }

    /// Re-reads the machine's load once the window has passed.
    fn observe(&mut self) {
        let Some(machine) = CpuTicks::read() else {
            return;
        };
        let now = Sample {
            at: Instant::now(),
            machine,
            hashing_ns: self.hashing.load(Ordering::Relaxed),
        };
        match &self.since {
            Some(since) if now.at.duration_since(since.at) < WINDOW => {}
            Some(since) => {
                self.busy = others_share(since, &now) > BUSY;
                self.since = Some(now);
            }
            None => self.since = Some(now),
        }
    }
}

/// The share of all CPU time between two samples spent on anything but hashing.
fn others_share(from: &Sample, to: &Sample) -> f64 {
    let total = to.machine.total.saturating_sub(from.machine.total);
    if total == 0 {
        return 0.0;
    }
    let busy = to.machine.busy.saturating_sub(from.machine.busy) as f64;
    let hashing = to.hashing_ns.saturating_sub(from.hashing_ns) as f64 / 1e9 * ticks_per_second();
    ((busy - hashing) / total as f64).max(0.0)
}

/// The machine's CPU time so far, all CPUs together, in clock ticks (`/proc/stat`).
struct CpuTicks {
    busy: u64,
    total: u64,
}

impl CpuTicks {
    #[cfg(target_os = "linux")]
    fn read() -> Option<Self> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        Self::parse(stat.lines().next()?)
    }

    /// Elsewhere there is nothing to read, and hashing is never paced.
    #[cfg(not(target_os = "linux"))]
    fn read() -> Option<Self> {
        None
    }

    /// `cpu  user nice system idle iowait irq softirq steal …`
    fn parse(line: &str) -> Option<Self> {
        let mut fields = line.strip_prefix("cpu ")?.split_whitespace();
        let mut ticks = [0u64; 8];
        for tick in &mut ticks {
            *tick = fields.next()?.parse().ok()?;
        }
        let [user, nice, system, idle, iowait, irq, softirq, steal] = ticks;
        let busy = user + nice + system + irq + softirq + steal;
        Some(Self {
            busy,
            total: busy + idle + iowait,
        })
    }
}

#[cfg(target_os = "linux")]
fn ticks_per_second() -> f64 {
    rustix::param::clock_ticks_per_second() as f64
}

#[cfg(not(target_os = "linux"))]
fn ticks_per_second() -> f64 {
    100.0
}

/// CPU time the calling thread has used so far.
fn thread_cpu_time() -> Duration {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(busy: u64, total: u64, hashing_ns: u64) -> Sample {
        Sample {
            at: Instant::now(),
            machine: CpuTicks { busy, total },
            hashing_ns,
        }
    }

    #[test]
    fn proc_stat_cpu_line_is_read() {
        let ticks = CpuTicks::parse("cpu  100 5 50 800 10 3 2 1 0 0").expect("parses");
        assert_eq!(ticks.busy, 161);
        assert_eq!(ticks.total, 971);
        assert!(CpuTicks::parse("cpu0 1 2 3").is_none());
    }

    #[test]
    fn hashing_does_not_count_as_other_work() {
        let tick_ns = (1e9 / ticks_per_second()) as u64;
        // 200 ticks in all, 150 busy, of which 100 were hashing: others used a quarter.
        let share = others_share(&sample(0, 0, 0), &sample(150, 200, 100 * tick_ns));
        assert!((share - 0.25).abs() < 0.01, "{share}");
    }

    #[test]
    fn a_quiet_machine_never_makes_the_threads_rest() {
        let mut pacer = Pacer::new(0.2, Arc::default());
        pacer.busy = false;
        assert_eq!(pacer.run(|| ()), Duration::ZERO);
    }

    #[test]
    fn a_busy_machine_holds_hashing_to_its_share() {
        let mut pacer = Pacer::new(0.25, Arc::default());
        pacer.busy = true;
        // Spins on purpose: the hash must have CPU time to measure.
        let rest = pacer.run(|| {
            let started = thread_cpu_time();
            while thread_cpu_time() - started < Duration::from_millis(20) {}
        });
        assert!(rest >= Duration::from_millis(60), "{rest:?}");
        assert!(rest < Duration::from_millis(200), "{rest:?}");
    }
}
