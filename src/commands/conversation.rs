//! What every command handler works with: the conversation (the store, the installation's
//! client, the dependency pass, who asked, which delivery) and the short-lived cache of people's
//! permissions. Its own file so the command runner and the ignore handlers both use it without
//! reaching into each other.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::deps::pass::DepsPass;
use crate::github::repo::Repo;
use crate::github::InstallationClient;
use crate::queue::worker::JobError;
use crate::store::Store;

/// How long a person's permission is trusted before GitHub is asked again.
const PERMISSION_TTL: Duration = Duration::from_secs(60);

/// Permissions recently asked, by `(repository, login)`.
#[derive(Default)]
pub struct PermissionCache(Mutex<HashMap<(String, String), (String, Instant)>>);

impl PermissionCache {
    pub async fn level(
        &self,
        repo: &Repo<'_>,
        full_name: &str,
        login: &str,
    ) -> Result<String, JobError> {
        let key = (full_name.to_owned(), login.to_lowercase());
        if let Some((level, at)) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            if at.elapsed() < PERMISSION_TTL {
                return Ok(level.clone());
            }
        }
        let level = repo.permission(login).await.map_err(JobError::from)?;
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (level.clone(), Instant::now()));
        Ok(level)
    }
}

/// Everything a command may need.
pub struct Conversation<'a> {
    pub store: &'a Store,
    pub client: &'a InstallationClient,
    pub deps: &'a DepsPass,
    pub permissions: &'a PermissionCache,
    pub repository_id: i64,
    pub full_name: &'a str,
    /// The delivery being acted on: it owns the commands it claims until their reply exists.
    pub delivery_id: &'a str,
}
