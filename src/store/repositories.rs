//! Installations and the repositories they grant, kept in sync by installation events.

use sqlx::Row;

use super::{Store, StoreError};

/// A repository upkeep looks after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub id: i64,
    pub installation_id: i64,
    pub full_name: String,
    pub private: bool,
    pub last_daily_key: Option<String>,
    /// When the dependency pass is next due (ms), by the repository's schedule.
    pub deps_next_at: Option<i64>,
    /// A person closed the dashboard issue.
    pub dashboard_off: bool,
}

/// An installation as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    pub id: i64,
    pub account_login: String,
    pub suspended: bool,
    pub deleted: bool,
}

/// A repository granted to an installation, as webhooks name it.
#[derive(Debug, Clone)]
pub struct RepositoryRef<'a> {
    pub id: i64,
    pub full_name: &'a str,
    pub private: bool,
}

impl Store {
    /// Creates or revives an installation and the repositories it grants.
    pub async fn upsert_installation(
        &self,
        id: i64,
        account_login: &str,
        account_type: &str,
        repositories: &[RepositoryRef<'_>],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO installations (id, account_login, account_type, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (id) DO UPDATE SET account_login = $2, \
             account_type = $3, deleted_at = NULL, updated_at = $4",
        )
        .bind(id)
        .bind(account_login)
        .bind(account_type)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for repo in repositories {
            upsert_repository(&mut *tx, id, repo, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds repositories to an installation (installation_repositories added).
    pub async fn add_repositories(
        &self,
        installation_id: i64,
        repositories: &[RepositoryRef<'_>],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        for repo in repositories {
            upsert_repository(&mut *tx, installation_id, repo, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Marks repositories as no longer granted.
    pub async fn remove_repositories(&self, ids: &[i64], now: i64) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        for id in ids {
            sqlx::query("UPDATE repositories SET removed_at = $1, updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(*id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Marks an installation deleted, with all its repositories.
    pub async fn delete_installation(&self, id: i64, now: i64) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("UPDATE installations SET deleted_at = $1, updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE repositories SET removed_at = $1, updated_at = $1 WHERE installation_id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Suspends (`Some(now)`) or unsuspends (`None`) an installation.
    pub async fn set_installation_suspended(
        &self,
        id: i64,
        at: Option<i64>,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE installations SET suspended_at = $1, updated_at = $2 WHERE id = $3")
            .bind(at)
            .bind(now)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn installation(&self, id: i64) -> Result<Option<Installation>, StoreError> {
        let row = sqlx::query(
            "SELECT id, account_login, suspended_at, deleted_at FROM installations WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(Installation {
                id: r.try_get(0)?,
                account_login: r.try_get(1)?,
                suspended: r.try_get::<Option<i64>, _>(2)?.is_some(),
                deleted: r.try_get::<Option<i64>, _>(3)?.is_some(),
            })
        })
        .transpose()
    }

    /// One repository by id, whatever its state.
    pub async fn repository(&self, id: i64) -> Result<Option<Repository>, StoreError> {
        let row = sqlx::query(
            "SELECT id, installation_id, full_name, private, last_daily_key, deps_next_at, dashboard_off \
             FROM repositories WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref()
            .map(repository_from_row)
            .transpose()
            .map_err(StoreError::from)
    }

    /// Repositories upkeep should work on: granted, of a live, unsuspended installation.
    pub async fn active_repositories(&self) -> Result<Vec<Repository>, StoreError> {
        let rows = sqlx::query(
            "SELECT r.id, r.installation_id, r.full_name, r.private, r.last_daily_key, r.deps_next_at, \
             r.dashboard_off \
             FROM repositories r JOIN installations i ON i.id = r.installation_id \
             WHERE r.removed_at IS NULL AND i.deleted_at IS NULL AND i.suspended_at IS NULL \
             ORDER BY r.id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(repository_from_row)
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Remembers the last daily slot enqueued for a repository, so ticks skip it cheaply.
    pub async fn set_last_daily_key(
        &self,
        repository_id: i64,
        key: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE repositories SET last_daily_key = $1, updated_at = $2 WHERE id = $3")
            .bind(key)
            .bind(now)
            .bind(repository_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Records that a daily pass finished for a repository.
    pub async fn set_last_daily_run(&self, repository_id: i64, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE repositories SET last_daily_run_at = $1, updated_at = $1 WHERE id = $2",
        )
        .bind(now)
        .bind(repository_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

impl Store {
    /// Installations neither deleted nor suspended, by id.
    pub async fn live_installations(&self) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM installations WHERE deleted_at IS NULL AND suspended_at IS NULL ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Whether a repository is still granted to a live installation.
    pub async fn is_granted(&self, id: i64) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT 1 FROM repositories r JOIN installations i ON i.id = r.installation_id \
             WHERE r.id = $1 AND r.removed_at IS NULL AND i.deleted_at IS NULL",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.is_some())
    }

    /// The repositories an installation grants, as stored: (id, full name, default branch).
    pub async fn granted_repositories(
        &self,
        installation_id: i64,
    ) -> Result<Vec<(i64, String, Option<String>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, full_name, default_branch FROM repositories \
             WHERE installation_id = $1 AND removed_at IS NULL ORDER BY id",
        )
        .bind(installation_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// A repository's new name after a rename or a transfer (`repository` renamed or
    /// transferred, or what reconciling found).
    pub async fn rename_repository(
        &self,
        id: i64,
        full_name: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE repositories SET full_name = $1, updated_at = $2 WHERE id = $3")
            .bind(full_name)
            .bind(now)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Records a repository's default branch; the one recorded before. When it changed, the
    /// benchmark history recorded under the old name moves with it: it is the default branch's
    /// history, the baseline the next comparison needs, whatever the branch is called now.
    pub async fn set_default_branch(
        &self,
        id: i64,
        branch: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let mut tx = self.pool().begin().await?;
        let before: Option<String> =
            sqlx::query("SELECT default_branch FROM repositories WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?
                .flatten();
        sqlx::query("UPDATE repositories SET default_branch = $1, updated_at = $2 WHERE id = $3")
            .bind(branch)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if let Some(old) = before.as_deref().filter(|old| *old != branch) {
            for sql in [
                "UPDATE bench_results SET branch = $1 WHERE repository_id = $2 AND branch = $3",
                "UPDATE bench_counts SET branch = $1 WHERE repository_id = $2 AND branch = $3",
            ] {
                sqlx::query(sql)
                    .bind(branch)
                    .bind(id)
                    .bind(old)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(before)
    }
}

impl Store {
    /// Records when the repository's dependency pass is next due.
    pub async fn set_deps_next_at(
        &self,
        repository_id: i64,
        at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE repositories SET deps_next_at = $1, updated_at = $2 WHERE id = $3")
            .bind(at)
            .bind(now)
            .bind(repository_id)
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

async fn upsert_repository<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    executor: E,
    installation_id: i64,
    repo: &RepositoryRef<'_>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO repositories (id, installation_id, full_name, private, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (id) DO UPDATE SET installation_id = $2, \
         full_name = $3, private = $4, removed_at = NULL, updated_at = $5",
    )
    .bind(repo.id)
    .bind(installation_id)
    .bind(repo.full_name)
    .bind(i64::from(repo.private))
    .bind(now)
    .execute(executor)
    .await?;
    Ok(())
}

/// A repository from a row of `id, installation_id, full_name, private, last_daily_key,
/// deps_next_at`.
fn repository_from_row(r: &sqlx::any::AnyRow) -> Result<Repository, sqlx::Error> {
    Ok(Repository {
        id: r.try_get(0)?,
        installation_id: r.try_get(1)?,
        full_name: r.try_get(2)?,
        private: r.try_get::<i64, _>(3)? != 0,
        last_daily_key: r.try_get(4)?,
        deps_next_at: r.try_get(5)?,
        dashboard_off: r.try_get::<i64, _>(6)? != 0,
    })
}
