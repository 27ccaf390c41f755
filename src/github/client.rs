//! One path for every GitHub request. octocrab is the transport (HTTP client, TLS, base URL,
//! connect/read timeouts; its own retry layer is off because it retries at once with no back-off);
//! this file adds what a bot that must never hammer GitHub needs: an overall timeout per call,
//! waiting out `Retry-After` (secondary limits) and `x-ratelimit-reset` (primary limit exhausted),
//! retrying 5xx with exponential back-off and jitter, a budget after which it gives up with a
//! clear error, and metrics. A wait longer than the policy allows becomes `RateLimited`, which the
//! job queue turns into a deferred job rather than a failure.
//!
//! Every answer also feeds a circuit breaker per auth scope (`app`, `installation:<id>`; see
//! `heal::breaker`): a 5xx, a timeout or a dropped connection is a failure, any other answer
//! is GitHub being up. While a scope's breaker is open, calls in it fail at once with
//! `Unavailable` (a job is deferred to the breaker's next probe, spending no attempt), so an
//! outage costs GitHub one probe per installation per period instead of every job's retries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::BodyExt;
use octocrab::Octocrab;
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use tracing::{debug, warn};

use super::GitHubError;
use crate::heal::breaker::{Admission, BreakerPolicy};
use crate::heal::breakers::Breakers;
use crate::heal::budget::Budget;
use crate::heal::workers::WorkerLimit;
use crate::time::now_ms;

/// How hard to try.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// Back-off before the second attempt after a 5xx or a network error; doubles each time.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// The longest in-line wait for a rate limit; longer ones become `RateLimited`.
    pub max_wait: Duration,
    /// The whole of one attempt, body included.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            max_wait: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Who a request is made as.
#[derive(Clone)]
pub enum Auth {
    None,
    /// The App itself (a JWT).
    App(SecretString),
    /// An installation (its token); the key groups rate-limit state per installation.
    Installation(i64, SecretString),
}

impl Auth {
    fn bucket(&self) -> String {
        match self {
            Auth::None => "anonymous".into(),
            Auth::App(_) => "app".into(),
            Auth::Installation(id, _) => format!("installation:{id}"),
        }
    }
}

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    /// The body as JSON of type `T`.
    pub fn json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, GitHubError> {
        serde_json::from_slice(&self.body).map_err(|e| GitHubError::Decode {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }
}

/// The HTTP transport with GitHub's manners.
pub struct Transport {
    octocrab: Octocrab,
    policy: RetryPolicy,
    /// Per auth bucket: no request before this time (ms), learned from rate-limit headers.
    blocked_until: Mutex<HashMap<String, i64>>,
    /// Per auth bucket: is GitHub answering at all.
    breakers: Breakers,
    /// Per auth bucket: the primary budget as the last answer reported it.
    budgets: Mutex<HashMap<String, Budget>>,
    /// The adaptive worker limit every answer feeds (`None`: no queue listens).
    limit: Option<Arc<WorkerLimit>>,
    /// GitHub's time, from every answer's `Date`.
    clock: super::clock::GitHubClock,
}

impl Transport {
    pub fn new(base_url: &url::Url, policy: RetryPolicy) -> Result<Self, GitHubError> {
        Self::with_breaker(base_url, policy, BreakerPolicy::default())
    }

    /// A transport whose breakers follow `breaker` (tests shorten the open period).
    pub fn with_breaker(
        base_url: &url::Url,
        policy: RetryPolicy,
        breaker: BreakerPolicy,
    ) -> Result<Self, GitHubError> {
        let octocrab = Octocrab::builder()
            .base_uri(base_url.as_str())
            .map_err(|e| GitHubError::BaseUrl(e.to_string()))?
            .set_connect_timeout(Some(Duration::from_secs(10)))
            // Our own overall timeout (per attempt, body included) fires first and says so;
            // these only guard the socket if it ever did not.
            .set_read_timeout(Some(policy.request_timeout + Duration::from_secs(5)))
            .set_write_timeout(Some(policy.request_timeout + Duration::from_secs(5)))
            .build()
            .map_err(|e| GitHubError::BaseUrl(e.to_string()))?;
        Ok(Transport {
            octocrab,
            policy,
            blocked_until: Mutex::new(HashMap::new()),
            breakers: Breakers::new("github", breaker),
            budgets: Mutex::new(HashMap::new()),
            limit: None,
            clock: Default::default(),
        })
    }

    /// Feeds every answer's latency and failure to `limit` (the server's workers follow it).
    pub fn with_limit(mut self, limit: Arc<WorkerLimit>) -> Self {
        self.limit = Some(limit);
        self
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// An installation's primary budget as GitHub last reported it.
    pub fn budget(&self, installation_id: i64) -> Option<Budget> {
        let bucket = format!("installation:{installation_id}");
        self.budgets.lock().ok()?.get(&bucket).cloned()
    }

    /// Every installation's primary budget as GitHub last reported it, by installation id.
    pub fn budgets(&self) -> Vec<(i64, Budget)> {
        let Ok(budgets) = self.budgets.lock() else {
            return Vec::new();
        };
        let mut all: Vec<(i64, Budget)> = budgets
            .iter()
            .filter_map(|(bucket, b)| {
                let id = bucket.strip_prefix("installation:")?.parse().ok()?;
                Some((id, b.clone()))
            })
            .collect();
        all.sort_by_key(|(id, _)| *id);
        all
    }

    /// GitHub's clock, as its answers tell it.
    pub fn clock(&self) -> &super::clock::GitHubClock {
        &self.clock
    }

    /// The breakers of GitHub's scopes, for the status page.
    pub fn breakers(&self) -> &Breakers {
        &self.breakers
    }

    /// Sends one logical request, retrying and waiting as the policy allows. Returns any
    /// response that is not a transient failure (4xx included); the caller judges it.
    pub async fn send(
        &self,
        auth: &Auth,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Response, GitHubError> {
        super::names::check_path(path).map_err(GitHubError::InvalidPath)?;
        let bucket = auth.bucket();
        let body = body.map(|b| b.to_string());
        let idempotent = method != Method::POST && method != Method::PATCH;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.wait_for_bucket(&bucket, idempotent).await?;
            if let Admission::Wait { until_ms } = self.breakers.admit(&bucket) {
                return Err(GitHubError::Unavailable { until_ms });
            }
            let started = Instant::now();
            let result = self.send_once(auth, &method, path, body.clone()).await;
            let last = attempt >= self.policy.max_attempts;
            self.breakers.record(&bucket, failure_kind(&result));
            if let Some(limit) = &self.limit {
                let limited = result
                    .as_ref()
                    .is_ok_and(|r| rate_limit_wait(r.status, &r.headers, now_ms()).is_some());
                limit.record(
                    started.elapsed(),
                    failure_kind(&result).is_some() || limited,
                );
            }
            let response = match result {
                Ok(r) => r,
                Err(e @ (GitHubError::Timeout { .. } | GitHubError::Transport { .. })) => {
                    // A POST that timed out may have been applied: only retry what is safe to
                    // repeat. Creation is made idempotent by its callers (find, then create).
                    self.unless_open(&bucket)?;
                    if last || !idempotent {
                        return Err(e);
                    }
                    let wait = self.backoff(attempt);
                    warn!(%method, path, attempt, wait_ms = wait.as_millis() as u64, error = %e, "GitHub request failed; retrying");
                    tokio::time::sleep(wait).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            self.clock.learn(&response.headers);
            self.learn_limits(&bucket, &response.headers);
            let status = response.status;
            if let Some(wait) = rate_limit_wait(status, &response.headers, now_ms()) {
                if last {
                    return Err(GitHubError::RateLimited {
                        until_ms: now_ms() + millis(wait),
                    });
                }
                // A secondary limit met by a write pauses that installation's writes only (reads
                // go on); one met by a read, or the primary budget spent, pauses all of it.
                let primary = header_i64(&response.headers, "x-ratelimit-remaining") == Some(0);
                let scope = if idempotent || primary {
                    bucket.clone()
                } else {
                    writes(&bucket)
                };
                self.block(&scope, now_ms() + millis(wait));
                warn!(%method, path, status = status.as_u16(), wait_ms = wait.as_millis() as u64, "rate limited by GitHub; waiting");
                continue;
            }
            if status.is_server_error() {
                self.unless_open(&bucket)?;
            }
            if status.is_server_error() && !last {
                let wait = self.backoff(attempt);
                warn!(%method, path, status = status.as_u16(), attempt, wait_ms = wait.as_millis() as u64, "GitHub server error; retrying");
                tokio::time::sleep(wait).await;
                continue;
            }
            if status.is_server_error() {
                return Err(status_error(&method, path, &response));
            }
            return Ok(response);
        }
    }

    /// Like `send`, but a non-2xx answer is an error.
    pub async fn send_ok(
        &self,
        auth: &Auth,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Response, GitHubError> {
        let response = self.send(auth, method.clone(), path, body).await?;
        if response.status.is_success() {
            Ok(response)
        } else {
            Err(status_error(&method, path, &response))
        }
    }

    async fn send_once(
        &self,
        auth: &Auth,
        method: &Method,
        path: &str,
        body: Option<String>,
    ) -> Result<Response, GitHubError> {
        let mut builder = http::Request::builder()
            .method(method.clone())
            .uri(path)
            .header(http::header::ACCEPT, "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .header(
                http::header::USER_AGENT,
                concat!("upkeep/", env!("CARGO_PKG_VERSION")),
            );
        match auth {
            Auth::None => {}
            Auth::App(token) | Auth::Installation(_, token) => {
                let mut value =
                    http::HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
                        .map_err(|_| {
                            GitHubError::Jwt("token is not a valid header value".into())
                        })?;
                value.set_sensitive(true);
                builder = builder.header(http::header::AUTHORIZATION, value);
            }
        }
        if body.is_some() {
            builder = builder.header(http::header::CONTENT_TYPE, "application/json");
        }
        let request = builder
            .body(body.unwrap_or_default())
            .map_err(|e| transport(method, path, e.to_string()))?;
        let started = Instant::now();
        let timeout = self.policy.request_timeout;
        let call = async {
            let response = self
                .octocrab
                .execute(request)
                .await
                .map_err(|e| transport(method, path, e.to_string()))?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| transport(method, path, e.to_string()))?
                .to_bytes();
            Ok::<_, GitHubError>(Response {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        let result = match tokio::time::timeout(timeout, call).await {
            Ok(r) => r,
            Err(_) => Err(GitHubError::Timeout {
                method: method.to_string(),
                path: path.to_owned(),
                seconds: timeout.as_secs(),
            }),
        };
        let status_label = match &result {
            Ok(r) => r.status.as_u16().to_string(),
            Err(GitHubError::Timeout { .. }) => "timeout".into(),
            Err(_) => "error".into(),
        };
        debug!(%method, path, status = %status_label, elapsed_ms = started.elapsed().as_millis() as u64, "GitHub request");
        crate::tally::github_answered(&status_label);
        metrics::counter!("upkeep_github_requests_total", "status" => status_label).increment(1);
        metrics::histogram!("upkeep_github_request_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        result
    }

    /// `Unavailable` once the bucket's breaker is open: no retry is worth sending then.
    fn unless_open(&self, bucket: &str) -> Result<(), GitHubError> {
        match self.breakers.blocked_until(bucket) {
            Some(until_ms) => Err(GitHubError::Unavailable { until_ms }),
            None => Ok(()),
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let full = self
            .policy
            .base_backoff
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
            .min(self.policy.max_backoff);
        let half = full / 2;
        half + half.mul_f64(rand::rng().random_range(0.0..=1.0))
    }

    /// Remembers an exhausted primary limit so the next request waits instead of being refused.
    fn learn_limits(&self, bucket: &str, headers: &HeaderMap) {
        let remaining = header_i64(headers, "x-ratelimit-remaining");
        let reset = header_i64(headers, "x-ratelimit-reset");
        let limit = header_i64(headers, "x-ratelimit-limit");
        if let (Some(limit), Some(left), Some(reset), Ok(mut budgets)) =
            (limit, remaining, reset, self.budgets.lock())
        {
            let limit = u32::try_from(limit.max(0)).unwrap_or(u32::MAX);
            let left = u32::try_from(left.max(0)).unwrap_or(u32::MAX);
            let next = Budget::observe(
                budgets.get(bucket),
                now_ms(),
                limit,
                left,
                reset.saturating_mul(1000),
            );
            budgets.insert(bucket.to_owned(), next);
        }
        if let (Some(0), Some(reset)) = (remaining, reset) {
            self.block(bucket, reset.saturating_mul(1000));
        }
    }

    fn block(&self, bucket: &str, until_ms: i64) {
        if let Ok(mut map) = self.blocked_until.lock() {
            let entry = map.entry(bucket.to_owned()).or_insert(0);
            *entry = (*entry).max(until_ms);
        }
    }

    /// Waits while `bucket` is blocked (and, for a write, while its writes are).
    async fn wait_for_bucket(&self, bucket: &str, idempotent: bool) -> Result<(), GitHubError> {
        let until = self
            .blocked_until
            .lock()
            .ok()
            .map(|m| {
                let all = m.get(bucket).copied().unwrap_or(0);
                let writes = (!idempotent)
                    .then(|| m.get(&writes(bucket)).copied())
                    .flatten()
                    .unwrap_or(0);
                all.max(writes)
            })
            .unwrap_or(0);
        let now = now_ms();
        if until <= now {
            return Ok(());
        }
        let wait = Duration::from_millis(u64::try_from(until - now).unwrap_or(0));
        if wait > self.policy.max_wait {
            return Err(GitHubError::RateLimited { until_ms: until });
        }
        tokio::time::sleep(wait).await;
        Ok(())
    }
}

/// How long GitHub asks us to wait, when this answer is a rate limit: `Retry-After` on 403/429
/// (secondary limits), or the reset time when the primary limit is exhausted.
pub fn rate_limit_wait(status: StatusCode, headers: &HeaderMap, now_ms: i64) -> Option<Duration> {
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    if let Some(secs) = header_i64(headers, "retry-after") {
        return Some(Duration::from_secs(u64::try_from(secs.max(0)).unwrap_or(0)));
    }
    if header_i64(headers, "x-ratelimit-remaining") == Some(0) {
        let reset_ms = header_i64(headers, "x-ratelimit-reset")?.saturating_mul(1000);
        // One second of slack: GitHub's reset second may still refuse.
        return Some(Duration::from_millis(
            u64::try_from(reset_ms - now_ms + 1000).unwrap_or(0),
        ));
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        // A secondary limit without advice: GitHub asks for at least a minute.
        return Some(Duration::from_secs(60));
    }
    None
}

/// The key under which a bucket's writes alone are blocked.
fn writes(bucket: &str) -> String {
    format!("{bucket}:writes")
}

/// What an attempt says about GitHub being up: a 5xx, a timeout or a connection that failed is a
/// failure; any other answer (a 404, a 403, a rate limit) is GitHub answering.
fn failure_kind(result: &Result<Response, GitHubError>) -> Option<&'static str> {
    match result {
        Ok(r) if r.status.is_server_error() => Some("5xx"),
        Ok(_) => None,
        Err(GitHubError::Timeout { .. }) => Some("timeout"),
        Err(GitHubError::Transport { .. }) => Some("connection"),
        Err(_) => None,
    }
}

fn header_i64(headers: &HeaderMap, name: &str) -> Option<i64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn transport(method: &Method, path: &str, message: String) -> GitHubError {
    GitHubError::Transport {
        method: method.to_string(),
        path: path.to_owned(),
        message,
    }
}

pub(crate) fn status_error(method: &Method, path: &str, response: &Response) -> GitHubError {
    #[derive(serde::Deserialize)]
    struct Message {
        message: String,
    }
    let message = serde_json::from_slice::<Message>(&response.body)
        .map(|m| m.message)
        .unwrap_or_else(|_| {
            String::from_utf8_lossy(&response.body)
                .chars()
                .take(200)
                .collect()
        });
    GitHubError::Status {
        status: response.status.as_u16(),
        method: method.to_string(),
        path: path.to_owned(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn secondary_limits_wait_for_retry_after() {
        let h = headers(&[("retry-after", "7")]);
        assert_eq!(
            rate_limit_wait(StatusCode::FORBIDDEN, &h, 0),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            rate_limit_wait(StatusCode::TOO_MANY_REQUESTS, &h, 0),
            Some(Duration::from_secs(7))
        );
    }

    #[test]
    fn an_exhausted_primary_limit_waits_for_the_reset() {
        let h = headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "100")]);
        assert_eq!(
            rate_limit_wait(StatusCode::FORBIDDEN, &h, 90_000),
            Some(Duration::from_millis(11_000))
        );
    }

    #[test]
    fn a_plain_forbidden_is_not_a_rate_limit() {
        let h = headers(&[("x-ratelimit-remaining", "4000")]);
        assert_eq!(rate_limit_wait(StatusCode::FORBIDDEN, &h, 0), None);
        assert_eq!(
            rate_limit_wait(StatusCode::NOT_FOUND, &headers(&[("retry-after", "1")]), 0),
            None
        );
    }
}
