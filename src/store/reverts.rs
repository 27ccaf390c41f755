//! Auto-revert's decisions and bisections. Every decision is a row (what, why, which PRs), so
//! the dashboard can show them, the day's quotas can be counted, and a culprit is reverted at
//! most once. A bisection is one row per red commit and workflow, updated as CI answers.

use std::collections::BTreeMap;

use sqlx::Row;

use super::{Store, StoreError};
use crate::revert::Outcome;

/// One decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub sha: String,
    /// `ci`, `bench` or `request`.
    pub cause: String,
    /// `rerun`, `flake`, `red-before`, `no-green`, `bisecting`, `ambiguous`, `fixed`,
    /// `reverted`, `merged`, `refused`, `conflict`, `dry-run`.
    pub decision: String,
    pub reason: String,
    pub pr_number: Option<i64>,
    pub revert_pr: Option<i64>,
    pub issue_number: Option<i64>,
    pub created_at: i64,
}

/// A bisection in progress (or done).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bisection {
    pub red_sha: String,
    pub workflow_id: i64,
    pub workflow_name: String,
    pub run_url: String,
    pub green_sha: String,
    pub candidates: Vec<String>,
    pub results: BTreeMap<String, Outcome>,
    pub testing: Option<String>,
    pub runs: i64,
}

impl Store {
    pub async fn record_revert_decision(
        &self,
        repository_id: i64,
        d: &Decision,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO reverts (repository_id, sha, cause, decision, reason, pr_number, revert_pr, \
             issue_number, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(repository_id)
        .bind(&d.sha)
        .bind(&d.cause)
        .bind(&d.decision)
        .bind(&d.reason)
        .bind(d.pr_number)
        .bind(d.revert_pr)
        .bind(d.issue_number)
        .bind(d.created_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// How many commits got a decision of a kind on a repository since `since` (epoch ms).
    pub async fn revert_decisions_since(
        &self,
        repository_id: i64,
        decision: &str,
        since: i64,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(DISTINCT sha) AS n FROM reverts WHERE repository_id = $1 AND decision = $2 AND created_at >= $3",
        )
        .bind(repository_id)
        .bind(decision)
        .bind(since)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get::<i64, _>("n")?)
    }

    /// Every decision about one commit, oldest first.
    pub async fn revert_decisions_for(
        &self,
        repository_id: i64,
        sha: &str,
    ) -> Result<Vec<Decision>, StoreError> {
        self.decisions(
            "SELECT sha, cause, decision, reason, pr_number, revert_pr, issue_number, created_at \
             FROM reverts WHERE repository_id = $1 AND sha = $2 ORDER BY created_at",
            repository_id,
            Some(sha),
            None,
        )
        .await
    }

    /// The newest `limit` decisions on a repository, newest first.
    pub async fn recent_revert_decisions(
        &self,
        repository_id: i64,
        limit: i64,
    ) -> Result<Vec<Decision>, StoreError> {
        self.decisions(
            "SELECT sha, cause, decision, reason, pr_number, revert_pr, issue_number, created_at \
             FROM reverts WHERE repository_id = $1 ORDER BY created_at DESC LIMIT $2",
            repository_id,
            None,
            Some(limit),
        )
        .await
    }

    async fn decisions(
        &self,
        sql: &str,
        repository_id: i64,
        sha: Option<&str>,
        limit: Option<i64>,
    ) -> Result<Vec<Decision>, StoreError> {
        let mut q = sqlx::query(sql).bind(repository_id);
        if let Some(s) = sha {
            q = q.bind(s.to_owned());
        }
        if let Some(l) = limit {
            q = q.bind(l);
        }
        let rows = q.fetch_all(self.pool()).await?;
        let mut out = Vec::new();
        for r in rows {
            out.push(Decision {
                sha: r.try_get("sha")?,
                cause: r.try_get("cause")?,
                decision: r.try_get("decision")?,
                reason: r.try_get("reason")?,
                pr_number: r.try_get("pr_number")?,
                revert_pr: r.try_get("revert_pr")?,
                issue_number: r.try_get("issue_number")?,
                created_at: r.try_get("created_at")?,
            });
        }
        Ok(out)
    }

    /// Starts a bisection; `false` when one for this red commit and workflow exists already.
    pub async fn start_bisection(
        &self,
        repository_id: i64,
        b: &Bisection,
        now: i64,
    ) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "INSERT INTO bisections (repository_id, red_sha, workflow_id, workflow_name, run_url, \
             green_sha, candidates, results, testing, runs, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (repository_id, red_sha, workflow_id) DO NOTHING",
        )
        .bind(repository_id)
        .bind(&b.red_sha)
        .bind(b.workflow_id)
        .bind(&b.workflow_name)
        .bind(&b.run_url)
        .bind(&b.green_sha)
        .bind(serde_json::to_string(&b.candidates).unwrap_or_default())
        .bind(serde_json::to_string(&b.results).unwrap_or_default())
        .bind(b.testing.clone())
        .bind(b.runs)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Saves a bisection's progress; `done` closes it.
    pub async fn update_bisection(
        &self,
        repository_id: i64,
        b: &Bisection,
        done: Option<i64>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE bisections SET results = $1, testing = $2, runs = $3, done_at = $4 \
             WHERE repository_id = $5 AND red_sha = $6 AND workflow_id = $7",
        )
        .bind(serde_json::to_string(&b.results).unwrap_or_default())
        .bind(b.testing.clone())
        .bind(b.runs)
        .bind(done)
        .bind(repository_id)
        .bind(&b.red_sha)
        .bind(b.workflow_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The open bisection waiting for CI on `sha` with workflow `workflow_id`.
    pub async fn bisection_testing(
        &self,
        repository_id: i64,
        workflow_id: i64,
        sha: &str,
    ) -> Result<Option<Bisection>, StoreError> {
        self.bisection_where("testing = $3", repository_id, workflow_id, sha)
            .await
    }

    /// The open bisection of red commit `red` with workflow `workflow_id`.
    pub async fn open_bisection(
        &self,
        repository_id: i64,
        workflow_id: i64,
        red: &str,
    ) -> Result<Option<Bisection>, StoreError> {
        self.bisection_where("red_sha = $3", repository_id, workflow_id, red)
            .await
    }

    async fn bisection_where(
        &self,
        condition: &str,
        repository_id: i64,
        workflow_id: i64,
        sha: &str,
    ) -> Result<Option<Bisection>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT red_sha, workflow_id, workflow_name, run_url, green_sha, candidates, results, \
             testing, runs FROM bisections WHERE repository_id = $1 AND workflow_id = $2 \
             AND {condition} AND done_at IS NULL"
        ))
        .bind(repository_id)
        .bind(workflow_id)
        .bind(sha)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let candidates: String = r.try_get("candidates")?;
        let results: String = r.try_get("results")?;
        Ok(Some(Bisection {
            red_sha: r.try_get("red_sha")?,
            workflow_id: r.try_get("workflow_id")?,
            workflow_name: r.try_get("workflow_name")?,
            run_url: r.try_get("run_url")?,
            green_sha: r.try_get("green_sha")?,
            candidates: serde_json::from_str(&candidates).unwrap_or_default(),
            results: serde_json::from_str(&results).unwrap_or_default(),
            testing: r.try_get("testing")?,
            runs: r.try_get("runs")?,
        }))
    }
}
