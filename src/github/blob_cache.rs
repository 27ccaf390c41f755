//! Git blobs are immutable, so their text is cached by id for the whole process: a daily run
//! over an unchanged repository reads its manifests and lockfile without a request. Bounded by
//! total size; when full it starts over (blobs are cheap to fetch again).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Texts by blob id, and their total size.
type Entries = (HashMap<String, Arc<str>>, usize);

/// A shared cache of blob texts by git object id.
#[derive(Clone)]
pub struct BlobCache {
    inner: Arc<Mutex<Entries>>,
    limit_bytes: usize,
}

impl BlobCache {
    pub fn new(limit_bytes: usize) -> Self {
        BlobCache {
            inner: Arc::new(Mutex::new((HashMap::new(), 0))),
            limit_bytes,
        }
    }

    pub fn get(&self, sha: &str) -> Option<Arc<str>> {
        let guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        guard.0.get(sha).cloned()
    }

    pub fn put(&self, sha: &str, text: &str) {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if guard.1 + text.len() > self.limit_bytes {
            guard.0.clear();
            guard.1 = 0;
        }
        if text.len() <= self.limit_bytes {
            guard.1 += text.len();
            guard.0.insert(sha.to_owned(), Arc::from(text));
        }
    }
}

impl Default for BlobCache {
    /// 16 MiB: a few hundred repositories' manifests and lockfiles.
    fn default() -> Self {
        BlobCache::new(16 * 1024 * 1024)
    }
}
