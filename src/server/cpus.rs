//! The CPUs this process may actually use: a container's CPU quota (cgroup v2 `cpu.max`, else
//! v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`) before the machine's count, since a container
//! on a 64-core host limited to 2 CPUs must not start 128 workers. The default worker maximum
//! follows it (`UPKEEP_WORKERS` overrides).

use std::path::Path;

/// Workers per CPU by default: jobs mostly wait on GitHub, so more than one per CPU, and the
/// adaptive limit (`heal::aimd`) lowers it when GitHub struggles.
pub const WORKERS_PER_CPU: usize = 2;
/// The default maximum's bounds.
pub const MIN_WORKERS: usize = 2;
pub const MAX_WORKERS: usize = 32;

/// CPUs from cgroup v2's `cpu.max` ("max 100000" when unlimited, else "QUOTA PERIOD").
pub fn from_cpu_max(text: &str) -> Option<f64> {
    let mut parts = text.split_whitespace();
    let quota = parts.next()?;
    let period: f64 = parts.next()?.parse().ok()?;
    if quota == "max" || period <= 0.0 {
        return None;
    }
    let quota: f64 = quota.parse().ok()?;
    (quota > 0.0).then(|| quota / period)
}

/// CPUs from cgroup v1's quota and period (a quota of -1 is unlimited).
pub fn from_cfs(quota: &str, period: &str) -> Option<f64> {
    let quota: f64 = quota.trim().parse().ok()?;
    let period: f64 = period.trim().parse().ok()?;
    (quota > 0.0 && period > 0.0).then(|| quota / period)
}

/// The worker maximum for `cpus` usable CPUs (a fraction rounds up: 0.5 CPU is one).
pub fn workers_for(cpus: f64) -> usize {
    let whole = if cpus.is_finite() && cpus > 0.0 {
        cpus.ceil() as usize
    } else {
        1
    };
    (whole * WORKERS_PER_CPU).clamp(MIN_WORKERS, MAX_WORKERS)
}

/// The CPUs this process may use: the cgroup quota when there is one, else what the OS
/// reports as available.
pub fn usable() -> f64 {
    let read = |p: &str| std::fs::read_to_string(Path::new(p)).ok();
    let quota = read("/sys/fs/cgroup/cpu.max")
        .as_deref()
        .and_then(from_cpu_max)
        .or_else(|| {
            let q = read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")?;
            let p = read("/sys/fs/cgroup/cpu/cpu.cfs_period_us")?;
            from_cfs(&q, &p)
        });
    let machine = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    quota.map_or(machine, |q| q.min(machine))
}

/// The default worker maximum here.
pub fn default_workers() -> usize {
    workers_for(usable())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_v2_quota_or_none_when_unlimited() {
        assert_eq!(from_cpu_max("200000 100000\n"), Some(2.0));
        assert_eq!(from_cpu_max("50000 100000"), Some(0.5));
        assert_eq!(from_cpu_max("max 100000"), None);
        assert_eq!(from_cpu_max(""), None);
        assert_eq!(from_cpu_max("x 100000"), None);
    }

    #[test]
    fn cgroup_v1_quota_or_none_when_unlimited() {
        assert_eq!(from_cfs("150000\n", "100000\n"), Some(1.5));
        assert_eq!(from_cfs("-1", "100000"), None);
        assert_eq!(from_cfs("", "100000"), None);
    }

    #[test]
    fn workers_follow_the_cpus_within_bounds() {
        assert_eq!(workers_for(0.5), 2);
        assert_eq!(workers_for(1.5), 4);
        assert_eq!(workers_for(2.0), 4);
        assert_eq!(workers_for(64.0), 32);
        assert_eq!(workers_for(f64::NAN), 2);
    }
}
