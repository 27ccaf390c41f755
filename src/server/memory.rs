//! The memory this process may use: a container's limit (cgroup v2 `memory.max`, else v1
//! `memory.limit_in_bytes`) before the machine's total, since a container with 256 MiB on a
//! 64 GiB host must not size its caches for the host. SQLite's page cache follows it.

/// cgroup v1 reports "no limit" as a number near `i64::MAX` rounded to the page size.
const V1_UNLIMITED: u64 = 1 << 60;

/// SQLite's cache: a sixty-fourth of the memory, between these bounds (KiB).
pub const MIN_CACHE_KIB: u64 = 2 * 1024;
pub const MAX_CACHE_KIB: u64 = 64 * 1024;
/// When nothing says how much memory there is.
pub const DEFAULT_CACHE_KIB: u64 = 8 * 1024;

/// Bytes from cgroup v2's `memory.max` ("max" when unlimited) or v1's `memory.limit_in_bytes`.
pub fn from_limit(text: &str) -> Option<u64> {
    let text = text.trim();
    if text == "max" {
        return None;
    }
    text.parse::<u64>()
        .ok()
        .filter(|b| *b > 0 && *b < V1_UNLIMITED)
}

/// Bytes from `/proc/meminfo`'s `MemTotal:  16318596 kB`.
pub fn from_meminfo(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// SQLite's page cache (KiB) for `memory` bytes.
pub fn sqlite_cache_kib(memory: Option<u64>) -> u64 {
    memory.map_or(DEFAULT_CACHE_KIB, |m| {
        (m / 1024 / 64).clamp(MIN_CACHE_KIB, MAX_CACHE_KIB)
    })
}

/// The memory this process may use: the cgroup's limit when there is one, else the machine's.
pub fn usable() -> Option<u64> {
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let limit = read("/sys/fs/cgroup/memory.max")
        .as_deref()
        .and_then(from_limit)
        .or_else(|| {
            read("/sys/fs/cgroup/memory/memory.limit_in_bytes")
                .as_deref()
                .and_then(from_limit)
        });
    let machine = read("/proc/meminfo").as_deref().and_then(from_meminfo);
    match (limit, machine) {
        (Some(l), Some(m)) => Some(l.min(m)),
        (l, m) => l.or(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_limits_or_none_when_unlimited() {
        assert_eq!(from_limit("268435456\n"), Some(256 << 20));
        assert_eq!(from_limit("max\n"), None);
        assert_eq!(from_limit("9223372036854771712"), None, "v1's unlimited");
        assert_eq!(from_limit("nonsense"), None);
    }

    #[test]
    fn meminfo_total() {
        let text = "MemTotal:       16318596 kB\nMemFree:  1 kB\n";
        assert_eq!(from_meminfo(text), Some(16_318_596 * 1024));
        assert_eq!(from_meminfo("MemFree: 1 kB"), None);
    }

    #[test]
    fn the_cache_follows_memory_within_bounds() {
        assert_eq!(
            sqlite_cache_kib(Some(256 << 20)),
            4 * 1024,
            "256 MiB: 4 MiB"
        );
        assert_eq!(sqlite_cache_kib(Some(64 << 20)), MIN_CACHE_KIB);
        assert_eq!(sqlite_cache_kib(Some(64 << 30)), MAX_CACHE_KIB);
        assert_eq!(sqlite_cache_kib(None), DEFAULT_CACHE_KIB);
    }
}
