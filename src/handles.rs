//! The handles every driver works with: the store, the GitHub App (once it is registered),
//! the dependency pass's settings and the cache of people's permissions. Built once by the
//! server and lent to the queue's dispatch table and from there to each capability's driver.

use std::sync::Arc;

use crate::commands::conversation::PermissionCache;
use crate::deps::pass::DepsPass;
use crate::github::app::SharedApp;
use crate::github::GitHubApp;
use crate::store::Store;

pub struct Handles {
    pub store: Store,
    pub github: SharedApp,
    pub deps: DepsPass,
    pub permissions: PermissionCache,
}

impl Handles {
    pub fn new(store: Store, github: SharedApp, deps: DepsPass) -> Self {
        Handles {
            store,
            github,
            deps,
            permissions: Default::default(),
        }
    }

    /// The GitHub App, once its credentials exist (first-run setup writes them).
    pub fn github(&self) -> Option<Arc<GitHubApp>> {
        crate::github::app::registered(&self.github)
    }
}
