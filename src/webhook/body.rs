//! Reading a webhook body as a stranger may send it. Anyone on the internet can POST to
//! `/webhook`, and nothing about a request is trusted until its HMAC matches, so the body is read
//! under three bounds before it is believed:
//!
//! - the signature header must be present and well formed, and `Content-Length` must be given
//!   and at most GitHub's 25 MB cap — both checked before a byte of the body is read;
//! - the bytes every unverified body may hold at once are a fixed budget shared by all requests
//!   ([`Budget`]): a request that does not fit within a short wait is answered 503 with
//!   `Retry-After`, still before its body is read, so memory never grows with the number of
//!   requests, only up to the budget;
//! - the HMAC is computed as the pieces arrive and the whole body must arrive within a deadline
//!   (a slow sender cannot hold its share of the budget for ever).
//!
//! The buffer is allocated once at the declared length and freed with the request.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, StatusCode};
use http_body_util::BodyExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::signature::{SignatureError, Verifier};

/// Bytes of webhook bodies held in memory at once, before and while their signature is checked:
/// one delivery at GitHub's 25 MB cap fits beside many ordinary ones (most are under 100 kB).
pub const DEFAULT_BUDGET: usize = 48 * 1024 * 1024;

/// GitHub caps webhook payloads at 25 MB.
pub const MAX_BODY: usize = 25 * 1024 * 1024;

/// How the intake bounds what it reads.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest body accepted (GitHub caps webhook payloads at 25 MB).
    pub max_body: usize,
    /// How long a request may wait for room in the budget before it is turned away.
    pub budget_wait: Duration,
    /// How long the whole body may take to arrive.
    pub read_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: MAX_BODY,
            budget_wait: Duration::from_secs(2),
            read_timeout: Duration::from_secs(30),
        }
    }
}

/// The bytes all unverified bodies may hold at once, shared by every request.
#[derive(Clone)]
pub struct Budget {
    bytes: Arc<Semaphore>,
    total: usize,
}

impl Budget {
    pub fn new(total: usize) -> Self {
        Budget {
            bytes: Arc::new(Semaphore::new(total)),
            total,
        }
    }

    /// Room for `bytes`, waiting at most `wait` for other requests to finish.
    async fn reserve(&self, bytes: usize, wait: Duration) -> Option<OwnedSemaphorePermit> {
        let n = u32::try_from(bytes.max(1)).ok()?;
        if bytes > self.total {
            return None;
        }
        tokio::time::timeout(wait, Arc::clone(&self.bytes).acquire_many_owned(n))
            .await
            .ok()?
            .ok()
    }

    /// Bytes free now (for tests and metrics).
    pub fn available(&self) -> usize {
        self.bytes.available_permits()
    }
}

/// Why a body was refused. The messages say nothing about the secret or the body.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error("Content-Length is required")]
    LengthRequired,
    #[error("Content-Length is not a number")]
    BadLength,
    #[error("the body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("webhook intake is at its memory budget; retry later")]
    Busy,
    #[error("the body did not arrive within {0:?}")]
    Slow(Duration),
    #[error("the body is longer than its Content-Length")]
    LongerThanDeclared,
    #[error("the body ended before its Content-Length")]
    ShorterThanDeclared,
    #[error("reading the body failed")]
    Read,
}

impl BodyError {
    pub fn status(&self) -> StatusCode {
        match self {
            BodyError::Signature(_) => StatusCode::UNAUTHORIZED,
            BodyError::LengthRequired => StatusCode::LENGTH_REQUIRED,
            BodyError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            BodyError::Slow(_) => StatusCode::REQUEST_TIMEOUT,
            BodyError::BadLength
            | BodyError::LongerThanDeclared
            | BodyError::ShorterThanDeclared
            | BodyError::Read => StatusCode::BAD_REQUEST,
        }
    }

    /// The `outcome` label of `upkeep_webhook_deliveries_total`.
    pub fn label(&self) -> &'static str {
        match self {
            BodyError::Signature(_) => "unauthorized",
            BodyError::TooLarge { .. } => "too_large",
            BodyError::Busy => "busy",
            BodyError::Slow(_) => "slow",
            _ => "bad_request",
        }
    }
}

/// A body whose signature matched, with its share of the budget (released when dropped).
pub struct SignedBody {
    pub bytes: Bytes,
    /// Which of the secrets signed it: 0 the current one, 1 the previous one.
    pub matched: usize,
    _room: OwnedSemaphorePermit,
}

/// Reads `body` within `limits` and `budget`, checking its HMAC under `secrets` (the current
/// secret, then the previous one during a rotation) as it arrives.
pub async fn read_signed<B>(
    body: B,
    headers: &HeaderMap,
    secrets: &[&[u8]],
    budget: &Budget,
    limits: &Limits,
) -> Result<SignedBody, BodyError>
where
    B: axum::body::HttpBody<Data = Bytes> + Unpin,
{
    let mut verifier = Verifier::any_of(
        secrets,
        headers.get("x-hub-signature-256").map(|v| v.as_bytes()),
    )?;
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .ok_or(BodyError::LengthRequired)?
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or(BodyError::BadLength)?;
    let declared = usize::try_from(declared)
        .ok()
        .filter(|n| *n <= limits.max_body)
        .ok_or(BodyError::TooLarge {
            limit: limits.max_body,
        })?;
    let room = budget
        .reserve(declared, limits.budget_wait)
        .await
        .ok_or(BodyError::Busy)?;
    let read = async {
        let mut body = body;
        let mut buffer = BytesMut::with_capacity(declared);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| BodyError::Read)?;
            let Ok(data) = frame.into_data() else {
                continue; // trailers: not part of the signed bytes
            };
            if buffer.len() + data.len() > declared {
                return Err(BodyError::LongerThanDeclared);
            }
            verifier.update(&data);
            buffer.extend_from_slice(&data);
        }
        if buffer.len() < declared {
            return Err(BodyError::ShorterThanDeclared);
        }
        let matched = verifier.finish_matching()?;
        Ok((buffer.freeze(), matched))
    };
    let (bytes, matched) = tokio::time::timeout(limits.read_timeout, read)
        .await
        .map_err(|_| BodyError::Slow(limits.read_timeout))??;
    Ok(SignedBody {
        bytes,
        matched,
        _room: room,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;

    fn headers(body: &[u8], signature: Option<String>, length: Option<usize>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(s) = signature {
            h.insert("x-hub-signature-256", s.parse().unwrap());
        }
        if let Some(n) = length.or(Some(body.len())) {
            h.insert(http::header::CONTENT_LENGTH, n.into());
        }
        h
    }

    async fn read(
        body: &'static [u8],
        h: &HeaderMap,
        budget: &Budget,
    ) -> Result<SignedBody, BodyError> {
        read_signed(
            Full::new(Bytes::from_static(body)),
            h,
            &[b"secret"],
            budget,
            &Limits {
                budget_wait: Duration::from_millis(20),
                ..Limits::default()
            },
        )
        .await
    }

    #[tokio::test]
    async fn a_signed_body_is_read_and_its_room_given_back_after() {
        let budget = Budget::new(1024);
        let h = headers(b"{}", Some(super::super::sign(b"secret", b"{}")), None);
        let body = read(b"{}", &h, &budget).await.unwrap();
        assert_eq!(&body.bytes[..], b"{}");
        assert_eq!(budget.available(), 1022);
        drop(body);
        assert_eq!(budget.available(), 1024);
    }

    #[tokio::test]
    async fn refusals_come_before_the_body_where_they_can() {
        let budget = Budget::new(1024);
        let sig = || Some(super::super::sign(b"secret", b"{}"));
        let no_sig = headers(b"{}", None, None);
        assert!(matches!(
            read(b"{}", &no_sig, &budget).await,
            Err(BodyError::Signature(SignatureError::Missing))
        ));
        let mut no_length = headers(b"{}", sig(), None);
        no_length.remove(http::header::CONTENT_LENGTH);
        assert!(matches!(
            read(b"{}", &no_length, &budget).await,
            Err(BodyError::LengthRequired)
        ));
        let huge = headers(b"{}", sig(), Some(26 * 1024 * 1024));
        assert!(matches!(
            read(b"{}", &huge, &budget).await,
            Err(BodyError::TooLarge { .. })
        ));
        let over_budget = headers(b"{}", sig(), Some(2048));
        assert!(matches!(
            read(b"{}", &over_budget, &budget).await,
            Err(BodyError::Busy)
        ));
        let lying_short = headers(b"{}", sig(), Some(1));
        assert!(matches!(
            read(b"{}", &lying_short, &budget).await,
            Err(BodyError::LongerThanDeclared)
        ));
        let lying_long = headers(b"{}", sig(), Some(3));
        assert!(matches!(
            read(b"{}", &lying_long, &budget).await,
            Err(BodyError::ShorterThanDeclared)
        ));
        let wrong = headers(b"{}", Some(super::super::sign(b"other", b"{}")), None);
        assert!(matches!(
            read(b"{}", &wrong, &budget).await,
            Err(BodyError::Signature(SignatureError::Mismatch))
        ));
        assert_eq!(budget.available(), 1024, "every refusal gave its room back");
    }

    #[tokio::test]
    async fn a_full_budget_turns_requests_away_until_room_is_given_back() {
        let budget = Budget::new(4);
        let h = headers(b"{}", Some(super::super::sign(b"secret", b"{}")), None);
        let first = read(b"{}", &h, &budget).await.unwrap();
        let second = read(b"{}", &h, &budget).await.unwrap();
        assert!(matches!(
            read(b"{}", &h, &budget).await,
            Err(BodyError::Busy)
        ));
        drop(first);
        assert!(read(b"{}", &h, &budget).await.is_ok());
        drop(second);
    }
}
