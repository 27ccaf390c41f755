//! The operator's weekly issue: once the week is over, one issue in `UPKEEP_OPS_REPO` with the
//! week's figures (`weekly::render_ops`), found again by its marker so a restart or a second
//! replica never opens another; last week's report is closed when this week's is filed, so one
//! stays open. The alert sampler calls it every minute under its lease. Driver.

use tracing::{info, warn};

use super::weekly;
use crate::alerts::escalate::{ops_client, EscalateError, RoutesNow};
use crate::github::app::SharedApp;
use crate::github::repo::Repo;
use crate::store::Store;

/// The mark of the last week filed (its Monday, ms): a week is filed once, in order.
const FILED: &str = "weekly-report";

/// The weekly report's state between rounds.
pub struct WeeklyPost {
    pub store: Store,
    pub github: SharedApp,
    pub routes: RoutesNow,
    /// The week (its Monday, ms) this process knows is filed.
    filed: Option<i64>,
}

impl WeeklyPost {
    pub fn new(store: Store, github: SharedApp, routes: RoutesNow) -> Self {
        WeeklyPost {
            store,
            github,
            routes,
            filed: None,
        }
    }

    /// Files last week's report unless it is filed; the issue's number when this round
    /// filed or found it.
    pub async fn tick(&mut self, now_ms: i64) -> Option<u64> {
        let ops_repo = (self.routes)().ops_repo?;
        let week = weekly::last_week(now_ms);
        if self.filed == Some(week.0) {
            return None;
        }
        match self.file(&ops_repo, week).await {
            Ok(number) => {
                self.filed = Some(week.0);
                number
            }
            Err(e) => {
                warn!(week = %weekly::week_name(week.0), error = %e, "filing the weekly report failed; tried again next minute");
                None
            }
        }
    }

    async fn file(&self, ops_repo: &str, week: (i64, i64)) -> Result<Option<u64>, EscalateError> {
        if self.store.mark(FILED).await?.is_some_and(|m| m >= week.0) {
            return Ok(None);
        }
        let ops = super::gather::ops_week(&self.store, week).await?;
        if ops.minutes_counted == 0 {
            // upkeep did not run that week (a new installation): nothing to report.
            self.store.advance_mark(FILED, week.0).await?;
            return Ok(None);
        }
        let Some((client, full_name)) = ops_client(&self.store, &self.github, ops_repo).await?
        else {
            return Ok(None);
        };
        let repo = Repo::new(&client, &full_name);
        let marker = weekly::ops_marker(week.0);
        let open = repo.open_issues().await?;
        let number = match open.iter().find(|i| i.body.contains(&marker)) {
            Some(i) => i.number,
            None => {
                let n = repo
                    .create_issue(&weekly::ops_title(&ops), &weekly::render_ops(&ops), &[])
                    .await?;
                info!(week = %weekly::week_name(week.0), issue = n, "weekly health report filed");
                n
            }
        };
        for old in open
            .iter()
            .filter(|i| i.body.contains("<!-- upkeep:weekly-report week=") && i.number != number)
        {
            repo.close_issue(old.number).await?;
        }
        self.store.advance_mark(FILED, week.0).await?;
        Ok(Some(number))
    }
}
