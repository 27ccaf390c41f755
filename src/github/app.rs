//! The App's identity: RS256 JWTs (issued 60 s in the past and expiring 9 minutes ahead, both
//! by GitHub's clock as its answers tell it, so a host whose clock is off still signs tokens
//! GitHub takes; one refused is signed again and sent once more) and installation tokens, cached per installation and refreshed five minutes
//! before they expire. One exchange at a time per installation, so a burst of jobs for the same
//! installation costs one token request.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use http::Method;
use jsonwebtoken::EncodingKey;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;
use tracing::{info, warn};

use super::client::{Auth, Response, RetryPolicy, Transport};
use super::GitHubError;

/// Refresh a cached token when less than this is left.
pub const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(300);

#[derive(Clone)]
struct CachedToken {
    token: SecretString,
    expires_at: DateTime<Utc>,
}

/// The GitHub App: JWT signer, token cache and the shared transport.
pub struct GitHubApp {
    app_id: u64,
    /// The signing key; re-read from `key_path` when GitHub refuses a JWT.
    key: std::sync::Mutex<Arc<EncodingKey>>,
    /// The PEM file the key came from (`UPKEEP_PRIVATE_KEY_PATH`), if it came from a file.
    key_path: Option<std::path::PathBuf>,
    transport: Transport,
    tokens: std::sync::Mutex<HashMap<i64, Arc<Mutex<Option<CachedToken>>>>>,
    /// The last JWT and when it was signed: an RS256 signature is the costliest step of an
    /// App-level request, and a JWT is good for nine minutes.
    jwt: std::sync::Mutex<Option<(SecretString, std::time::Instant)>>,
}

/// A signed JWT is reused this long (it expires after nine minutes).
const JWT_REUSE: Duration = Duration::from_secs(300);

impl GitHubApp {
    pub fn new(
        app_id: u64,
        private_key: &SecretString,
        base_url: &url::Url,
        policy: RetryPolicy,
    ) -> Result<Self, GitHubError> {
        Self::with_transport(app_id, private_key, Transport::new(base_url, policy)?)
    }

    /// The App over a transport the caller built (with its own breaker policy, say).
    pub fn with_transport(
        app_id: u64,
        private_key: &SecretString,
        transport: Transport,
    ) -> Result<Self, GitHubError> {
        let key = EncodingKey::from_rsa_pem(private_key.expose_secret().as_bytes())
            .map_err(|e| GitHubError::Jwt(e.to_string()))?;
        Ok(GitHubApp {
            app_id,
            key: std::sync::Mutex::new(Arc::new(key)),
            key_path: None,
            transport,
            tokens: std::sync::Mutex::new(HashMap::new()),
            jwt: std::sync::Mutex::new(None),
        })
    }

    /// The same App, its key re-read from `path` when GitHub refuses a JWT (a key rotated on
    /// the App's settings page and replaced on disk).
    pub fn with_key_file(mut self, path: Option<std::path::PathBuf>) -> Self {
        self.key_path = path;
        self
    }

    /// Reads the key file again; true when it held a usable key that differs from the one in
    /// use. A file that is missing or not a key leaves the current key in use.
    fn reread_key(&self) -> bool {
        let Some(path) = &self.key_path else {
            return false;
        };
        let pem = match std::fs::read(path) {
            Ok(pem) => pem,
            Err(e) => {
                warn!(path = %path.display(), error = %e, "the App's key file cannot be read; the key in use stays");
                return false;
            }
        };
        match EncodingKey::from_rsa_pem(&pem) {
            Ok(key) => {
                if let Ok(mut current) = self.key.lock() {
                    *current = Arc::new(key);
                }
                info!(path = %path.display(), "the App's key was read again from its file");
                true
            }
            Err(_) => {
                warn!(path = %path.display(), "the App's key file does not hold an RSA key; the key in use stays");
                false
            }
        }
    }

    /// The key file changed on disk: read it now rather than after GitHub refuses the old
    /// key; true when a new key is in use (the cached JWT is dropped with the old key).
    pub fn reload_key(&self) -> bool {
        let reread = self.reread_key();
        if reread {
            if let Ok(mut cached) = self.jwt.lock() {
                *cached = None;
            }
        }
        reread
    }

    pub fn app_id(&self) -> u64 {
        self.app_id
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// A JWT authenticating as the App: signed afresh at most every five minutes, by GitHub's
    /// clock.
    pub fn jwt(&self) -> Result<SecretString, GitHubError> {
        if let Ok(cached) = self.jwt.lock() {
            if let Some((token, signed)) = cached.as_ref() {
                if signed.elapsed() < JWT_REUSE {
                    return Ok(token.clone());
                }
            }
        }
        #[derive(serde::Serialize)]
        struct Claims {
            iat: i64,
            exp: i64,
            iss: u64,
        }
        let now_s = self.transport.clock().now_ms() / 1000;
        let claims = Claims {
            iat: now_s - 60,
            exp: now_s + 9 * 60,
            iss: self.app_id,
        };
        let key = self
            .key
            .lock()
            .map(|k| Arc::clone(&k))
            .map_err(|_| GitHubError::Jwt("key lock poisoned".into()))?;
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
            &claims,
            &key,
        )
        .map(SecretString::from)
        .map_err(|e| GitHubError::Jwt(e.to_string()))?;
        if let Ok(mut cached) = self.jwt.lock() {
            *cached = Some((token.clone(), std::time::Instant::now()));
        }
        Ok(token)
    }

    /// Sends as the App. A 401 means GitHub refused the JWT: a clock GitHub's answer (this
    /// one's `Date`) has just corrected, or a key rotated on GitHub whose new file is on disk;
    /// the key is read again, the JWT signed again, and the request sent once more.
    async fn as_app(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Response, GitHubError> {
        // Boxed: both sends are large futures, and an App request sits deep in many jobs.
        let response =
            Box::pin(
                self.transport
                    .send(&Auth::App(self.jwt()?), method.clone(), path, body),
            )
            .await?;
        if response.status.as_u16() == 401 {
            if let Ok(mut cached) = self.jwt.lock() {
                *cached = None;
            }
            self.reread_key();
            warn!(
                path,
                skew_s = self.transport.clock().skew_ms() / 1000,
                "GitHub refused the App's JWT; signing a new one by GitHub's clock"
            );
            return Box::pin(
                self.transport
                    .send_ok(&Auth::App(self.jwt()?), method, path, body),
            )
            .await;
        }
        if response.status.is_success() {
            Ok(response)
        } else {
            Err(super::client::status_error(&method, path, &response))
        }
    }

    /// An installation token, from the cache while it has more than five minutes left.
    pub async fn installation_token(
        &self,
        installation_id: i64,
    ) -> Result<SecretString, GitHubError> {
        let slot = {
            let mut tokens = self
                .tokens
                .lock()
                .map_err(|_| GitHubError::Jwt("token cache poisoned".into()))?;
            tokens.entry(installation_id).or_default().clone()
        };
        let mut cached = slot.lock().await;
        if let Some(token) = cached.as_ref() {
            let margin = chrono::Duration::from_std(TOKEN_REFRESH_MARGIN).unwrap_or_default();
            if token.expires_at - margin > Utc::now() {
                return Ok(token.token.clone());
            }
        }
        #[derive(serde::Deserialize)]
        struct AccessToken {
            token: String,
            expires_at: DateTime<Utc>,
        }
        let path = format!("/app/installations/{installation_id}/access_tokens");
        let response = self.as_app(Method::POST, &path, None).await?;
        let fresh: AccessToken = response.json(&path)?;
        let token = SecretString::from(fresh.token);
        *cached = Some(CachedToken {
            token: token.clone(),
            expires_at: fresh.expires_at,
        });
        Ok(token)
    }

    /// A client acting as the given installation.
    pub fn installation(self: &Arc<Self>, installation_id: i64) -> InstallationClient {
        InstallationClient {
            app: Arc::clone(self),
            installation_id,
        }
    }

    /// A request as the App itself (JWT).
    pub async fn app_request(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Response, GitHubError> {
        self.as_app(method, path, body).await
    }
}

/// The App once registered, shared by the server and the job workers (`None` during first-run
/// setup; set once when credentials arrive).
pub type SharedApp = Arc<std::sync::RwLock<Option<Arc<GitHubApp>>>>;

/// The App in `shared`, once its credentials exist.
pub fn registered(shared: &SharedApp) -> Option<Arc<GitHubApp>> {
    shared.read().ok().and_then(|g| g.clone())
}

/// Requests made as one installation.
#[derive(Clone)]
pub struct InstallationClient {
    app: Arc<GitHubApp>,
    installation_id: i64,
}

impl InstallationClient {
    pub fn installation_id(&self) -> i64 {
        self.installation_id
    }

    /// The App's id.
    pub fn app_id(&self) -> u64 {
        self.app.app_id()
    }

    /// Sends a request; any status comes back (4xx included) for the caller to judge.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Response, GitHubError> {
        let token = self.app.installation_token(self.installation_id).await?;
        self.app
            .transport
            .send(
                &Auth::Installation(self.installation_id, token),
                method,
                path,
                body,
            )
            .await
    }

    /// GET a JSON document; a non-2xx answer is an error.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, GitHubError> {
        self.json(Method::GET, path, None).await
    }

    /// Any method with a JSON body and a JSON answer; a non-2xx answer is an error.
    pub async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<T, GitHubError> {
        let token = self.app.installation_token(self.installation_id).await?;
        self.app
            .transport
            .send_ok(
                &Auth::Installation(self.installation_id, token),
                method,
                path,
                body,
            )
            .await?
            .json(path)
    }
}
