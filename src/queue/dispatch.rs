//! The one table from job kind to capability driver. A stored delivery goes to
//! `webhook::route`, a daily slot and a dependency pass to `deps::daily`, an audit to the same
//! pass without updates, a reconcile to `heal::resync`. Kinds are stored strings: the names here never change, so jobs queued
//! by an older version still run after an upgrade.

use crate::audit::triggers::AUDIT_JOB;
use crate::deps::daily;
use crate::handles::Handles;
use crate::heal::resync;
use crate::queue::scheduler::{DAILY_JOB, DEPS_JOB};
use crate::queue::worker::{JobError, JobHandler};
use crate::store::jobs::Job;
use crate::webhook::{route, DELIVERY_JOB};

/// The application's job handler: the dispatch table over the drivers' handles.
pub struct AppHandler(pub Handles);

impl JobHandler for AppHandler {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        let h = &self.0;
        match job.kind.as_str() {
            DELIVERY_JOB => route::delivery(h, job).await,
            DAILY_JOB => daily::daily(h, job).await,
            DEPS_JOB => daily::pass(h, job, true).await,
            AUDIT_JOB => daily::pass(h, job, false).await,
            resync::APP_JOB => resync::app(h, job).await,
            resync::INSTALLATION_JOB => resync::installation(h, job).await,
            resync::REPOSITORY_JOB => resync::repository_job(h, job).await,
            other => Err(JobError::Permanent(format!("unknown job kind {other:?}"))),
        }
    }
}
