//! What every route works with: the request as a route sees it (`Ctx`), the answer it gives
//! (`Reply`, including injected faults), the caller's authentication as GitHub checks it (the
//! App's JWT, an installation token and the repositories it may see), and the small encoders
//! GitHub's answers need (times, query decoding). A leaf: the routes use it, it uses no route.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use wiremock::ResponseTemplate;

use crate::openapi::Spec;
use crate::world::World;

/// A fault injected into the next calls of one operation.
#[derive(Debug, Clone)]
pub struct Fault {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    pub delay: Option<Duration>,
    pub times: usize,
}

impl Fault {
    /// A server error (500, 502, 503…).
    pub fn server_error(status: u16) -> Fault {
        Fault {
            status,
            headers: vec![],
            body: serde_json::json!({ "message": "Server Error" }),
            delay: None,
            times: 1,
        }
    }

    /// A secondary rate limit: 403 with `Retry-After`.
    pub fn secondary_rate_limit(retry_after_secs: u64) -> Fault {
        Fault {
            status: 403,
            headers: vec![("retry-after".into(), retry_after_secs.to_string())],
            body: serde_json::json!({
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
            }),
            delay: None,
            times: 1,
        }
    }

    /// The primary limit spent: 403, `x-ratelimit-remaining: 0`, reset `reset_in` from now.
    pub fn primary_rate_limit(reset_in: Duration) -> Fault {
        let reset = (now_secs() + reset_in.as_secs_f64().ceil() as i64).to_string();
        Fault {
            status: 403,
            headers: vec![
                ("x-ratelimit-remaining".into(), "0".into()),
                ("x-ratelimit-reset".into(), reset),
            ],
            body: serde_json::json!({
                "message": "API rate limit exceeded for installation.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
            }),
            delay: None,
            times: 1,
        }
    }

    /// The answer arrives only after `delay` (a hanging GitHub).
    pub fn timeout(delay: Duration) -> Fault {
        Fault {
            status: 504,
            headers: vec![],
            body: serde_json::json!({ "message": "Gateway Timeout" }),
            delay: Some(delay),
            times: 1,
        }
    }

    /// GitHub's own refusals: 409 (merge conflict, ref exists…) or 422 (validation failed).
    pub fn refusal(status: u16, message: &str) -> Fault {
        Fault {
            status,
            headers: vec![],
            body: serde_json::json!({ "message": message, "documentation_url": "https://docs.github.com/rest" }),
            delay: None,
            times: 1,
        }
    }

    /// Applies to this many calls in a row.
    pub fn times(mut self, n: usize) -> Fault {
        self.times = n;
        self
    }
}

/// A request as the routes see it.
pub(crate) struct Ctx<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a http::HeaderMap,
    pub body: Option<&'a Value>,
    pub spec: &'static Spec,
}

impl Ctx<'_> {
    /// A query parameter's raw value.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }

    pub fn segment(&self, i: usize) -> &str {
        self.path.split('/').nth(i + 1).unwrap_or("")
    }

    fn bearer(&self) -> Option<&str> {
        self.headers
            .get("authorization")?
            .to_str()
            .ok()?
            .strip_prefix("Bearer ")
            .or_else(|| {
                self.headers
                    .get("authorization")?
                    .to_str()
                    .ok()?
                    .strip_prefix("token ")
            })
    }
}

/// An answer.
pub(crate) struct Reply {
    pub status: u16,
    pub body: Option<Value>,
    pub headers: Vec<(String, String)>,
    pub delay: Option<Duration>,
    /// Whether to hold it to the description (injected faults are not).
    pub checked: bool,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body: Some(body),
            headers: vec![],
            delay: None,
            checked: true,
        }
    }

    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            body: None,
            headers: vec![],
            delay: None,
            checked: true,
        }
    }

    /// A 302 to `location`, as GitHub answers artifact downloads.
    pub fn redirect(location: &str) -> Reply {
        Reply {
            status: 302,
            body: None,
            headers: vec![("location".into(), location.to_owned())],
            delay: None,
            checked: true,
        }
    }

    pub fn fault(f: Fault) -> Reply {
        Reply {
            status: f.status,
            body: Some(f.body),
            headers: f.headers,
            delay: f.delay,
            checked: false,
        }
    }

    pub fn message(status: u16, message: &str) -> Reply {
        Reply::json(
            status,
            json!({ "message": message, "documentation_url": "https://docs.github.com/rest", "status": status.to_string() }),
        )
    }

    pub fn into_template(self, remaining: u32) -> ResponseTemplate {
        let reset = now_secs() + 3600;
        let mut t = ResponseTemplate::new(self.status)
            .insert_header(
                "x-ratelimit-limit",
                crate::world::RATE_LIMIT.to_string().as_str(),
            )
            .insert_header("x-ratelimit-remaining", remaining.to_string().as_str())
            .insert_header("x-ratelimit-reset", reset.to_string().as_str())
            .insert_header(
                "x-ratelimit-used",
                (crate::world::RATE_LIMIT - remaining).to_string().as_str(),
            )
            .insert_header("x-ratelimit-resource", "core");
        for (k, v) in &self.headers {
            t = t.insert_header(k.as_str(), v.as_str());
        }
        if let Some(body) = self.body {
            t = t.set_body_json(body);
        }
        if let Some(d) = self.delay {
            t = t.set_delay(d);
        }
        t
    }
}

/// The installation a request is made as (by its token), for rate-limit accounting.
pub(crate) fn installation_of(world: &World, headers: &http::HeaderMap) -> Option<i64> {
    let token = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?;
    world.token_installation(token)
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub(crate) fn rfc3339(t: SystemTime) -> String {
    rfc3339_secs(
        t.duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
    )
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the epoch.
pub(crate) fn rfc3339_secs(secs: i64) -> String {
    let secs = secs.max(0) as u64;
    // Civil date from days since the epoch (Howard Hinnant's algorithm), to avoid a date crate.
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The App's JWT, checked as GitHub does: RS256 under the App's key, `iss` the App id, at most
/// ten minutes long, not expired.
pub(crate) fn check_app_jwt(world: &World, ctx: &Ctx<'_>) -> Result<(), Reply> {
    let refuse = |why: &str| {
        Reply::message(
            401,
            &format!("A JSON web token could not be decoded ({why})"),
        )
    };
    let token = ctx.bearer().ok_or_else(|| refuse("no bearer token"))?;
    let key = world
        .app_public_key
        .as_ref()
        .ok_or_else(|| refuse("the world has no App key"))?;
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(key)
        .map_err(|_| refuse("bad App key in the world"))?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_required_spec_claims(&["exp", "iat"]);
    validation.leeway = 0;
    let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map_err(|e| refuse(&e.to_string()))?
        .claims;
    let iss_ok = claims["iss"].as_u64() == Some(world.app_id)
        || claims["iss"].as_str() == Some(&world.app_id.to_string());
    if !iss_ok {
        return Err(refuse("iss is not the App id"));
    }
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap_or(0),
        claims["exp"].as_i64().unwrap_or(0),
    );
    if exp - iat > 600 || iat > now_secs() + 60 {
        return Err(refuse(
            "'Expiration time' claim ('exp') is too far in the future",
        ));
    }
    Ok(())
}

/// The installation an installation token acts as, or the 401 GitHub gives.
pub(crate) fn installation_auth(world: &World, ctx: &Ctx<'_>) -> Result<i64, Reply> {
    ctx.bearer()
        .and_then(|t| world.token_installation(t))
        .ok_or_else(|| Reply::message(401, "Bad credentials"))
}

/// `owner/repo` from `/repos/{owner}/{repo}/…`, if the installation may see it.
fn repository_name(world: &World, ctx: &Ctx<'_>, installation: i64) -> Result<String, Reply> {
    let name = format!("{}/{}", ctx.segment(1), ctx.segment(2));
    match world.repositories.get(&name) {
        Some(r) if r.installation == installation => Ok(name),
        // A public repository's releases are readable with any installation's token.
        Some(r) if !r.private && ctx.method == "GET" && ctx.segment(3) == "releases" => Ok(name),
        _ => Err(Reply::message(404, "Not Found")),
    }
}

/// The repository a request names, when its installation token may see it.
pub(crate) fn authorised_repository(world: &World, ctx: &Ctx<'_>) -> Result<String, Reply> {
    let installation = installation_auth(world, ctx)?;
    let name = repository_name(world, ctx, installation)?;
    // What the installation has accepted bounds what its token may do, as on GitHub.
    let needs = match ctx.segment(3) {
        "actions" => Some("actions"),
        "check-runs" | "check-suites" => Some("checks"),
        "code-scanning" => Some("security_events"),
        _ => None,
    };
    if let (Some(permission), Some(i)) = (needs, world.installations.get(&installation)) {
        let level = |l: &str| match l {
            "read" => 1,
            "write" => 2,
            "admin" => 3,
            _ => 0,
        };
        let want = if ctx.method == "GET" { 1 } else { 2 };
        let have = i.permissions.get(permission).map_or(0, |l| level(l));
        if have < want {
            return Err(Reply::message(
                403,
                "Resource not accessible by integration",
            ));
        }
    }
    Ok(name)
}

/// `%XX` and `+` decoding for a query value.
pub(crate) fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&text[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
