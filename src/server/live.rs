//! Settings that change while the server runs (a reloaded `UPKEEP_CONFIG`): the advisory
//! refresh, benchmark retention, the daily window and where alerts go. The loops that use
//! them read them here on every round, and a change wakes the ones asleep, so a shorter
//! advisory refresh applies now rather than after the old interval.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::Notify;

use crate::alerts::escalate::Routes;
use crate::heal::retention::Retention;
use crate::queue::window::DailyWindow;
use crate::time::DAY_MS;

/// The live values.
#[derive(Debug)]
pub struct Live {
    advisory_refresh_ms: AtomicU64,
    bench_retention_days: AtomicU64,
    daily_window: RwLock<DailyWindow>,
    alert_routes: RwLock<Routes>,
    /// Woken on every change.
    pub changed: Notify,
}

impl Live {
    pub fn new(advisory_refresh: Duration, bench_retention_days: u64) -> Arc<Live> {
        Self::with(
            advisory_refresh,
            bench_retention_days,
            DailyWindow::default(),
            Routes::default(),
        )
    }

    /// Every live value as the settings start it.
    pub fn with(
        advisory_refresh: Duration,
        bench_retention_days: u64,
        daily_window: DailyWindow,
        alert_routes: Routes,
    ) -> Arc<Live> {
        Arc::new(Live {
            advisory_refresh_ms: AtomicU64::new(advisory_refresh.as_millis() as u64),
            bench_retention_days: AtomicU64::new(bench_retention_days),
            daily_window: RwLock::new(daily_window),
            alert_routes: RwLock::new(alert_routes),
            changed: Notify::new(),
        })
    }

    /// The part of the day daily passes are spread over.
    pub fn daily_window(&self) -> DailyWindow {
        *self
            .daily_window
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn set_daily_window(&self, window: DailyWindow) {
        *self
            .daily_window
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = window;
        self.changed.notify_waiters();
    }

    /// Where alerts go besides `/status`.
    pub fn alert_routes(&self) -> Routes {
        self.alert_routes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn set_alert_routes(&self, routes: Routes) {
        *self
            .alert_routes
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = routes;
        self.changed.notify_waiters();
    }

    /// How often the advisory database is fetched.
    pub fn advisory_refresh(&self) -> Duration {
        Duration::from_millis(self.advisory_refresh_ms.load(Ordering::Relaxed).max(1))
    }

    pub fn set_advisory_refresh(&self, every: Duration) {
        self.advisory_refresh_ms
            .store(every.as_millis() as u64, Ordering::Relaxed);
        self.changed.notify_waiters();
    }

    pub fn bench_retention_days(&self) -> u64 {
        self.bench_retention_days.load(Ordering::Relaxed)
    }

    pub fn set_bench_retention_days(&self, days: u64) {
        self.bench_retention_days.store(days, Ordering::Relaxed);
        self.changed.notify_waiters();
    }

    /// What pruning keeps now.
    pub fn retention(&self) -> Retention {
        Retention {
            bench_ms: self.bench_retention_days() as i64 * DAY_MS,
            ..Retention::default()
        }
    }
}

/// The default benchmark retention (days): the README's promise.
pub fn default_bench_retention_days() -> u64 {
    (Retention::default().bench_ms / DAY_MS) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_follows_the_live_value() {
        let live = Live::new(Duration::from_secs(3600), default_bench_retention_days());
        assert_eq!(live.retention(), Retention::default());
        live.set_bench_retention_days(14);
        assert_eq!(live.retention().bench_ms, 14 * DAY_MS);
        live.set_advisory_refresh(Duration::from_secs(300));
        assert_eq!(live.advisory_refresh(), Duration::from_secs(300));
        let night = DailyWindow::parse("01:00-06:00").unwrap();
        live.set_daily_window(night);
        assert_eq!(live.daily_window(), night);
        let routes = Routes {
            ops_repo: Some("acme/ops".into()),
            webhook: None,
        };
        live.set_alert_routes(routes.clone());
        assert_eq!(live.alert_routes(), routes);
    }
}
