//! The job table: enqueue with a dedupe key, claim with a lease (PostgreSQL: `FOR UPDATE SKIP
//! LOCKED`; SQLite: its single writer makes the claiming `UPDATE` atomic), complete, fail with a
//! retry time, and die after the last attempt. The policy (back-off, lease length) lives in
//! `jobs::queue`; this file is only the SQL.

use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use super::{Dialect, Store, StoreError};

/// Job states as stored. `failed` waits for its retry time; `dead` is final; `quarantined` is a
/// job that crashed its attempt (timed out, or its worker died) [`QUARANTINE_AT`]
/// times: a poison job, kept out of the queue until a person retries it.
pub const STATES: [&str; 6] = ["queued", "running", "failed", "dead", "quarantined", "done"];

/// Crashed attempts after which a job is quarantined instead of tried again.
pub const QUARANTINE_AT: i64 = 2;

/// A job to enqueue. The dedupe key is unique over the table: enqueueing an existing key is a
/// no-op, which makes enqueueing idempotent across retries, restarts and replicas.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub kind: &'a str,
    pub dedupe_key: &'a str,
    pub payload: &'a str,
    pub run_at: Option<i64>,
    pub max_attempts: i64,
    pub repository_id: Option<i64>,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub dedupe_key: String,
    pub payload: String,
    pub state: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: i64,
    pub lease_until: Option<i64>,
    pub lease_token: Option<String>,
    pub last_error: Option<String>,
    pub repository_id: Option<i64>,
    pub updated_at: i64,
    /// Attempts that crashed (timed out, or lost their worker).
    pub crashes: i64,
}

const JOB_COLUMNS: &str = "id, kind, dedupe_key, payload, state, attempts, max_attempts, run_at, \
                           lease_until, lease_token, last_error, repository_id, updated_at, crashes";

fn job_from_row(r: &AnyRow) -> Result<Job, sqlx::Error> {
    Ok(Job {
        id: r.try_get(0)?,
        kind: r.try_get(1)?,
        dedupe_key: r.try_get(2)?,
        payload: r.try_get(3)?,
        state: r.try_get(4)?,
        attempts: r.try_get(5)?,
        max_attempts: r.try_get(6)?,
        run_at: r.try_get(7)?,
        lease_until: r.try_get(8)?,
        lease_token: r.try_get(9)?,
        last_error: r.try_get(10)?,
        repository_id: r.try_get(11)?,
        updated_at: r.try_get(12)?,
        crashes: r.try_get(13)?,
    })
}

/// Inserts a job unless its dedupe key exists; true when it was inserted.
pub(crate) async fn enqueue_on<'e, E: Executor<'e, Database = Any>>(
    executor: E,
    job: &NewJob<'_>,
    now: i64,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO jobs (kind, dedupe_key, payload, state, attempts, max_attempts, run_at, \
         repository_id, created_at, updated_at) VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $7, $7) \
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(job.kind)
    .bind(job.dedupe_key)
    .bind(job.payload)
    .bind(job.max_attempts)
    .bind(job.run_at.unwrap_or(now))
    .bind(job.repository_id)
    .bind(now)
    .execute(executor)
    .await?
    .rows_affected();
    Ok(inserted > 0)
}

impl Store {
    /// Enqueues a job; false when a job with the same dedupe key already exists.
    pub async fn enqueue(&self, job: &NewJob<'_>, now: i64) -> Result<bool, StoreError> {
        enqueue_on(self.pool(), job, now).await
    }

    /// Claims the next runnable job: queued or failed and due, else running with an expired
    /// lease (its worker died). The claim bumps `attempts` and sets a lease owned by `token`.
    /// Each look-up has a partial index of its own, so a deep queue costs no scan.
    pub async fn claim_job(
        &self,
        token: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<Job>, StoreError> {
        let lock = match self.dialect() {
            Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let due = format!(
            "SELECT id FROM jobs WHERE state IN ('queued', 'failed') AND run_at <= $3 \
             AND attempts < max_attempts ORDER BY run_at, id LIMIT 1 {lock}"
        );
        // A job whose worker died mid-attempt counts a crash; one that would reach
        // QUARANTINE_AT is left for `release_expired_leases` to quarantine.
        let orphaned = format!(
            "SELECT id FROM jobs WHERE state = 'running' AND lease_until < $3 \
             AND attempts < max_attempts AND crashes + 1 < {QUARANTINE_AT} \
             ORDER BY lease_until LIMIT 1 {lock}"
        );
        for (pick, crashed) in [(due, ""), (orphaned, ", crashes = crashes + 1")] {
            let sql = format!(
                "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = $1, \
                 lease_token = $2, updated_at = $3{crashed} WHERE id = ({pick}) RETURNING {JOB_COLUMNS}"
            );
            let row = sqlx::query(&sql)
                .bind(lease_until)
                .bind(token)
                .bind(now)
                .fetch_optional(self.pool())
                .await?;
            if let Some(row) = row {
                return Ok(Some(job_from_row(&row)?));
            }
        }
        Ok(None)
    }

    /// Puts jobs whose lease ran out back in line (their worker died), so they run again even
    /// while due jobs keep every worker busy; the scheduler tick calls this.
    /// A lost worker is a crash: at [`QUARANTINE_AT`] crashes the job is quarantined instead.
    pub async fn release_expired_leases(&self, now: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query(&format!(
            "UPDATE jobs SET crashes = crashes + 1, \
             state = CASE WHEN crashes + 1 >= {QUARANTINE_AT} THEN 'quarantined' ELSE 'failed' END, \
             lease_until = NULL, run_at = $1, \
             last_error = COALESCE(last_error, 'worker stopped before finishing'), updated_at = $1 \
             WHERE state = 'running' AND lease_until < $1 AND (attempts < max_attempts \
             OR crashes + 1 >= {QUARANTINE_AT})"
        ))
        .bind(now)
        .execute(self.pool())
        .await?
        .rows_affected())
    }

    /// Extends the lease of a job this worker still owns; false when it lost the lease.
    pub async fn extend_lease(
        &self,
        id: i64,
        token: &str,
        lease_until: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE jobs SET lease_until = $1, updated_at = $2 WHERE id = $3 AND lease_token = $4 AND state = 'running'",
        )
        .bind(lease_until)
        .bind(now)
        .bind(id)
        .bind(token)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Marks a job done if this worker still owns it; false when another worker took it over.
    pub async fn complete_job(&self, id: i64, token: &str, now: i64) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE jobs SET state = 'done', lease_until = NULL, last_error = NULL, updated_at = $1 \
             WHERE id = $2 AND lease_token = $3 AND state = 'running'",
        )
        .bind(now)
        .bind(id)
        .bind(token)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Records a failed attempt: `failed` with a retry time, or `dead` when `retry_at` is `None`.
    pub async fn fail_job(
        &self,
        id: i64,
        token: &str,
        error: &str,
        retry_at: Option<i64>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE jobs SET state = $1, run_at = $2, lease_until = NULL, last_error = $3, updated_at = $4 \
             WHERE id = $5 AND lease_token = $6 AND state = 'running'",
        )
        .bind(if retry_at.is_some() { "failed" } else { "dead" })
        .bind(retry_at.unwrap_or(now))
        .bind(error)
        .bind(now)
        .bind(id)
        .bind(token)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Records an attempt that crashed (timed out): like `fail_job`, but counted,
    /// and at [`QUARANTINE_AT`] crashes the job is quarantined. Its new state, or `None` when
    /// this worker no longer held it.
    pub async fn crash_job(
        &self,
        id: i64,
        token: &str,
        error: &str,
        retry_at: Option<i64>,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(&format!(
            "UPDATE jobs SET crashes = crashes + 1, \
             state = CASE WHEN crashes + 1 >= {QUARANTINE_AT} THEN 'quarantined' \
             WHEN $1 = 1 THEN 'failed' ELSE 'dead' END, \
             run_at = $2, lease_until = NULL, last_error = $3, updated_at = $4 \
             WHERE id = $5 AND lease_token = $6 AND state = 'running' RETURNING state"
        ))
        .bind(i64::from(retry_at.is_some()))
        .bind(retry_at.unwrap_or(now))
        .bind(error)
        .bind(now)
        .bind(id)
        .bind(token)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(state,)| state))
    }

    /// Puts a job back for `run_at` without counting this attempt (rate limits are not failures).
    pub async fn defer_job(
        &self,
        id: i64,
        token: &str,
        run_at: i64,
        reason: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = attempts - 1, run_at = $1, lease_until = NULL, \
             last_error = $2, updated_at = $3 WHERE id = $4 AND lease_token = $5 AND state = 'running'",
        )
        .bind(run_at)
        .bind(reason)
        .bind(now)
        .bind(id)
        .bind(token)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Jobs whose worker died on their last attempt can never be claimed again: mark them dead.
    pub async fn bury_abandoned_jobs(&self, now: i64) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE jobs SET state = 'dead', lease_until = NULL, \
             last_error = COALESCE(last_error, 'worker stopped during the last attempt'), updated_at = $1 \
             WHERE state IN ('running', 'queued', 'failed') AND attempts >= max_attempts \
             AND (state <> 'running' OR lease_until < $1)",
        )
        .bind(now)
        .execute(self.pool())
        .await?
        .rows_affected())
    }

    /// Deletes finished jobs older than `before` (dead ones are kept for inspection).
    pub async fn purge_done_jobs(&self, before: i64) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM jobs WHERE state = 'done' AND updated_at < $1")
                .bind(before)
                .execute(self.pool())
                .await?
                .rows_affected(),
        )
    }

    /// Jobs in the given states, newest first.
    pub async fn list_jobs(&self, states: &[&str], limit: i64) -> Result<Vec<Job>, StoreError> {
        let placeholders: Vec<String> = (0..states.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE state IN ({}) ORDER BY updated_at DESC, id DESC LIMIT $1",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(limit);
        for s in states {
            query = query.bind(*s);
        }
        let rows = query.fetch_all(self.pool()).await?;
        Ok(rows.iter().map(job_from_row).collect::<Result<_, _>>()?)
    }

    /// A repository's quarantined jobs, newest first.
    pub async fn quarantined_jobs(
        &self,
        repository_id: i64,
        limit: i64,
    ) -> Result<Vec<Job>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE repository_id = $1 AND state = 'quarantined' \
             ORDER BY updated_at DESC, id DESC LIMIT $2"
        ))
        .bind(repository_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(job_from_row).collect::<Result<_, _>>()?)
    }

    /// One job by its dedupe key.
    pub async fn job_by_key(&self, dedupe_key: &str) -> Result<Option<Job>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE dedupe_key = $1"
        ))
        .bind(dedupe_key)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(job_from_row).transpose()?)
    }

    /// When the longest-waiting job that is due and not running became due (`None`: none
    /// waits): the queue's lag is `now` minus this.
    pub async fn oldest_due_job(&self, now: i64) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(run_at) FROM jobs WHERE state IN ('queued', 'failed') AND run_at <= $1",
        )
        .bind(now)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?)
    }

    /// How many jobs are in each state.
    pub async fn job_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query("SELECT state, COUNT(*) FROM jobs GROUP BY state")
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }
}
