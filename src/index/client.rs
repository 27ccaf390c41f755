//! The sparse-index HTTP client, with a cache shared by every repository the process serves:
//! a crate's file is kept with its `ETag`/`Last-Modified` and revalidated with `If-None-Match` /
//! `If-Modified-Since` (a 304 costs no body), and not asked for at all while it is fresh
//! (`Cache-Control: max-age`, at least the client's own freshness window), so two hundred
//! repositories depending on `serde` cost one request per window, not two hundred. Every request
//! has a timeout; a 404 means the registry has no such crate. A registry that keeps failing
//! (5xx, 429, timeouts, refused connections) opens its circuit breaker (`heal::breakers`): while
//! it is open no request is sent and a lookup says `Unavailable`, so the pass waits for the
//! breaker's probe instead of hammering a registry that is down.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{CACHE_CONTROL, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use reqwest::StatusCode;
use url::Url;

use super::entry::{parse_index_file, IndexEntry};
use super::path::index_path;
use crate::deps::workspace::parse_rust_version;
use crate::deps::Candidate;
use crate::heal::breaker::{Admission, BreakerPolicy};
use crate::heal::breakers::Breakers;

/// crates.io's sparse index.
pub const CRATES_IO: &str = "https://index.crates.io/";

#[derive(Debug, thiserror::Error)]
pub enum IndexFetchError {
    #[error("`{0}` is not a crate name Cargo accepts")]
    BadName(String),
    #[error("index URL `{0}` is not an http(s) sparse index")]
    BadUrl(String),
    #[error("fetching {url}: {source}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("fetching {url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error(transparent)]
    Parse(#[from] super::entry::IndexError),
    /// The registry is failing: its circuit breaker is open and the request was not sent.
    #[error("{url} is unavailable (circuit open) until {until_ms} (ms since epoch)")]
    Unavailable { url: String, until_ms: i64 },
}

impl IndexFetchError {
    /// When the registry's breaker lets a request through again, if it is open.
    pub fn unavailable_until(&self) -> Option<i64> {
        match self {
            IndexFetchError::Unavailable { until_ms, .. } => Some(*until_ms),
            _ => None,
        }
    }
}

struct Cached {
    etag: Option<String>,
    last_modified: Option<String>,
    entries: Arc<Vec<IndexEntry>>,
    fresh_until: Instant,
}

/// How a lookup was answered (for metrics and the request-budget tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// From the cache, without a request.
    Fresh,
    /// A 304: the cached copy still holds.
    NotModified,
    /// A 200 with the file.
    Fetched,
    /// A 404: no such crate.
    Missing,
}

/// A shared sparse-index client. Cheap to clone.
#[derive(Clone)]
pub struct IndexClient {
    http: reqwest::Client,
    base: Url,
    freshness: Duration,
    cache: Arc<Mutex<HashMap<String, Cached>>>,
    /// Is the registry answering at all (one breaker, scoped by the index's URL).
    breakers: Arc<Breakers>,
}

impl IndexClient {
    /// A client for the index at `base` (`sparse+` prefix accepted), requests timing out after
    /// `timeout`, cached copies trusted without a request for `freshness`.
    pub fn new(
        base: &str,
        timeout: Duration,
        freshness: Duration,
    ) -> Result<Self, IndexFetchError> {
        let trimmed = base.strip_prefix("sparse+").unwrap_or(base);
        let with_slash = if trimmed.ends_with('/') {
            trimmed.to_owned()
        } else {
            format!("{trimmed}/")
        };
        let base = Url::parse(&with_slash)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| IndexFetchError::BadUrl(base.to_owned()))?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("upkeep/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| IndexFetchError::Http {
                url: base.to_string(),
                source,
            })?;
        Ok(IndexClient {
            http,
            base,
            freshness,
            cache: Arc::new(Mutex::new(HashMap::new())),
            breakers: Arc::new(Breakers::new("index", BreakerPolicy::default())),
        })
    }

    /// The same client with its breaker following `policy` (tests shorten the open period).
    pub fn with_breaker(mut self, policy: BreakerPolicy) -> Self {
        self.breakers = Arc::new(Breakers::new("index", policy));
        self
    }

    /// The same client recording into `breakers` (the process's, which the status page reads).
    pub fn sharing_breakers(mut self, breakers: Arc<Breakers>) -> Self {
        self.breakers = breakers;
        self
    }

    /// The registry's breaker, for the status page.
    pub fn breakers(&self) -> &Breakers {
        &self.breakers
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// Every published version of `name`, from the cache or the registry.
    pub async fn versions(
        &self,
        name: &str,
    ) -> Result<(Arc<Vec<IndexEntry>>, Answered), IndexFetchError> {
        let path = index_path(name).ok_or_else(|| IndexFetchError::BadName(name.to_owned()))?;
        let (etag, last_modified, cached) = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            match cache.get(&path) {
                Some(c) if c.fresh_until > Instant::now() => {
                    record("fresh");
                    return Ok((c.entries.clone(), Answered::Fresh));
                }
                Some(c) => (
                    c.etag.clone(),
                    c.last_modified.clone(),
                    Some(c.entries.clone()),
                ),
                None => (None, None, None),
            }
        };
        let url = self
            .base
            .join(&path)
            .map_err(|_| IndexFetchError::BadUrl(self.base.to_string()))?;
        let scope = self.base.as_str();
        if let Admission::Wait { until_ms } = self.breakers.admit(scope) {
            record("unavailable");
            return Err(IndexFetchError::Unavailable {
                url: self.base.to_string(),
                until_ms,
            });
        }
        let mut req = self.http.get(url.clone());
        if cached.is_some() {
            if let Some(e) = &etag {
                req = req.header(IF_NONE_MATCH, e);
            }
            if let Some(m) = &last_modified {
                req = req.header(IF_MODIFIED_SINCE, m);
            }
        }
        let resp = req.send().await.map_err(|source| {
            record("error");
            let kind = if source.is_timeout() {
                "timeout"
            } else {
                "connection"
            };
            self.breakers.record(scope, Some(kind));
            IndexFetchError::Http {
                url: url.to_string(),
                source,
            }
        })?;
        let status = resp.status();
        let failing = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
        self.breakers.record(scope, failing.then_some("5xx"));
        let fresh_until = Instant::now()
            + max_age(resp.headers())
                .unwrap_or_default()
                .max(self.freshness);
        match (status, cached) {
            (StatusCode::NOT_MODIFIED, Some(entries)) => {
                record("not_modified");
                self.store(&path, etag, last_modified, entries.clone(), fresh_until);
                Ok((entries, Answered::NotModified))
            }
            (StatusCode::NOT_FOUND | StatusCode::GONE | StatusCode::FORBIDDEN, _) => {
                record("missing");
                let empty = Arc::new(Vec::new());
                self.store(&path, None, None, empty.clone(), fresh_until);
                Ok((empty, Answered::Missing))
            }
            (s, _) if s.is_success() => {
                let header = |h| {
                    resp.headers()
                        .get(h)
                        .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                        .map(str::to_owned)
                };
                let (etag, last_modified) = (header(ETAG), header(LAST_MODIFIED));
                let text = resp.text().await.map_err(|source| IndexFetchError::Http {
                    url: url.to_string(),
                    source,
                })?;
                let entries = Arc::new(parse_index_file(name, &text)?);
                record("fetched");
                self.store(&path, etag, last_modified, entries.clone(), fresh_until);
                Ok((entries, Answered::Fetched))
            }
            (s, _) => {
                record("error");
                Err(IndexFetchError::Status {
                    url: url.to_string(),
                    status: s.as_u16(),
                })
            }
        }
    }

    fn store(
        &self,
        path: &str,
        etag: Option<String>,
        last_modified: Option<String>,
        entries: Arc<Vec<IndexEntry>>,
        fresh_until: Instant,
    ) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.insert(
            path.to_owned(),
            Cached {
                etag,
                last_modified,
                entries,
                fresh_until,
            },
        );
    }

    /// The versions of every crate in `names`, fetched a few at a time, as plan candidates.
    /// A crate that fails is left out and its error returned beside the rest.
    pub async fn candidates<I>(
        &self,
        names: I,
    ) -> (BTreeMap<String, Vec<Candidate>>, Vec<IndexFetchError>)
    where
        I: IntoIterator<Item = String>,
    {
        let mut set = tokio::task::JoinSet::new();
        let limit = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
        let mut names: Vec<String> = names.into_iter().collect();
        names.sort();
        names.dedup();
        for name in names {
            let client = self.clone();
            let limit = limit.clone();
            set.spawn(async move {
                let _permit = limit.acquire_owned().await;
                let result = client.versions(&name).await;
                (name, result)
            });
        }
        let mut out = BTreeMap::new();
        let mut errors = Vec::new();
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok((name, Ok((entries, _)))) => {
                    out.insert(name, entries.iter().map(to_candidate).collect());
                }
                Ok((_, Err(e))) => errors.push(e),
                Err(e) => tracing::error!(error = %e, "index fetch task failed"),
            }
        }
        (out, errors)
    }
}

/// At most this many index requests at once.
const CONCURRENCY: usize = 16;

fn record(outcome: &'static str) {
    metrics::counter!("upkeep_index_requests_total", "outcome" => outcome).increment(1);
}

/// `max-age` from `Cache-Control`, unless `no-cache`/`no-store` says not to reuse it.
fn max_age(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(CACHE_CONTROL)?.to_str().ok()?;
    let mut age = None;
    for directive in value.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-cache" || lower == "no-store" {
            return Some(Duration::ZERO);
        }
        if let Some(n) = lower.strip_prefix("max-age=") {
            age = n.parse().ok().map(Duration::from_secs);
        }
    }
    age
}

/// One index line as a plan candidate.
pub fn to_candidate(e: &IndexEntry) -> Candidate {
    Candidate {
        version: e.version.clone(),
        yanked: e.yanked,
        rust_version: e.rust_version.as_deref().and_then(parse_rust_version),
        published: e
            .pubtime
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&chrono::Utc)),
    }
}
