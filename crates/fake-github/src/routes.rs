//! The operations the fake models, by operation id. Each route reads and changes the world and
//! answers in GitHub's shape, starting from the description's own examples where they exist.
//! Adding an endpoint: a match arm in `route` and a function here (docs/TESTING.md).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::Rng;
use serde_json::{json, Value};
use wiremock::ResponseTemplate;

use crate::openapi::Spec;
use crate::world::World;
use crate::Fault;

/// A request as the routes see it.
pub(crate) struct Ctx<'a> {
    #[allow(dead_code)]
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

/// Operations answered in this file.
pub(crate) const OPS: [&str; 5] = [
    "apps/create-installation-access-token",
    "apps/create-from-manifest",
    "repos/get",
    "issues/create",
    "search/issues-and-pull-requests",
];

/// Runs the route for an operation; `None` when the fake does not model it.
pub(crate) fn route(op: &str, world: &mut World, ctx: &Ctx<'_>) -> Option<Reply> {
    Some(match op {
        "apps/create-installation-access-token" => create_installation_token(world, ctx),
        "apps/create-from-manifest" => convert_manifest(world, ctx),
        "repos/get" => get_repository(world, ctx),
        "issues/create" => create_issue(world, ctx),
        "search/issues-and-pull-requests" => search_issues(world, ctx),
        _ => {
            return crate::git_routes::route(op, world, ctx)
                .or_else(|| crate::issue_routes::route(op, world, ctx))
                .or_else(|| crate::actions_routes::route(op, world, ctx))
                .or_else(|| crate::merge_routes::route(op, world, ctx));
        }
    })
}

pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn rfc3339(t: SystemTime) -> String {
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
fn check_app_jwt(world: &World, ctx: &Ctx<'_>) -> Result<(), Reply> {
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
fn installation_auth(world: &World, ctx: &Ctx<'_>) -> Result<i64, Reply> {
    ctx.bearer()
        .and_then(|t| world.token_installation(t))
        .ok_or_else(|| Reply::message(401, "Bad credentials"))
}

fn create_installation_token(world: &mut World, ctx: &Ctx<'_>) -> Reply {
    if let Err(r) = check_app_jwt(world, ctx) {
        return r;
    }
    let Ok(id) = ctx.segment(2).parse::<i64>() else {
        return Reply::message(404, "Not Found");
    };
    if !world.installations.contains_key(&id) {
        return Reply::message(404, "Not Found");
    }
    let token = format!("ghs_{:032x}", rand::rng().random::<u128>());
    let expiry = SystemTime::now() + world.token_lifetime;
    world.tokens.insert(token.clone(), (id, expiry));
    let mut body = ctx
        .spec
        .example("installation-token")
        .unwrap_or_else(|| json!({}));
    body["token"] = json!(token);
    body["expires_at"] = json!(rfc3339(expiry));
    Reply::json(201, body)
}

fn convert_manifest(world: &mut World, ctx: &Ctx<'_>) -> Reply {
    let code = ctx.segment(1).to_owned();
    let Some((id, pem, secret)) = world.manifest_codes.remove(&code) else {
        return Reply::message(404, "Not Found");
    };
    let mut body = ctx
        .spec
        .example("integration-from-manifest")
        .unwrap_or_else(|| json!({}));
    body["id"] = json!(id);
    body["pem"] = json!(pem);
    body["webhook_secret"] = json!(secret);
    let slug = body["slug"].as_str().unwrap_or("upkeep").to_owned();
    body["html_url"] = json!(format!("https://github.com/apps/{slug}"));
    Reply::json(201, body)
}

/// `owner/repo` from `/repos/{owner}/{repo}/…`, if the installation may see it.
fn repository_name(world: &World, ctx: &Ctx<'_>, installation: i64) -> Result<String, Reply> {
    let name = format!("{}/{}", ctx.segment(1), ctx.segment(2));
    match world.repositories.get(&name) {
        Some(r) if r.installation == installation => Ok(name),
        _ => Err(Reply::message(404, "Not Found")),
    }
}

/// The repository a request names, when its installation token may see it.
pub(crate) fn authorised_repository(world: &World, ctx: &Ctx<'_>) -> Result<String, Reply> {
    let installation = installation_auth(world, ctx)?;
    repository_name(world, ctx, installation)
}

fn get_repository(world: &mut World, ctx: &Ctx<'_>) -> Reply {
    let name = match authorised_repository(world, ctx) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let repo = &world.repositories[&name];
    let mut body = ctx
        .spec
        .example("full-repository")
        .unwrap_or_else(|| json!({}));
    let (owner, short) = name.split_once('/').unwrap_or((&name, &name));
    body["id"] = json!(repo.id);
    body["name"] = json!(short);
    body["full_name"] = json!(name);
    body["owner"]["login"] = json!(owner);
    body["default_branch"] = json!(repo.default_branch);
    body["private"] = json!(repo.private);
    // GitHub's own example predates this required field.
    body["has_discussions"] = json!(false);
    Reply::json(200, body)
}

fn create_issue(world: &mut World, ctx: &Ctx<'_>) -> Reply {
    let name = match authorised_repository(world, ctx) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let Some(title) = ctx.body.and_then(|b| b["title"].as_str()) else {
        return Reply::message(422, "Validation Failed");
    };
    let id = world.next_id();
    let Some(repo) = world.repositories.get_mut(&name) else {
        return Reply::message(404, "Not Found");
    };
    let number = repo.next_number();
    let mut issue = ctx.spec.example("issue").unwrap_or_else(|| json!({}));
    issue["id"] = json!(id);
    issue["number"] = json!(number);
    issue["title"] = json!(title);
    issue["body"] = ctx.body.map(|b| b["body"].clone()).unwrap_or(Value::Null);
    issue["state"] = json!("open");
    issue["html_url"] = json!(format!("https://github.com/{name}/issues/{number}"));
    // Opened by whoever is calling: the App's bot.
    issue["user"]["login"] = json!(crate::issue_routes::BOT);
    issue["user"]["type"] = json!("Bot");
    // A new issue: not a pull request, not closed, labelled as asked.
    if let Some(map) = issue.as_object_mut() {
        map.remove("pull_request");
    }
    issue["closed_at"] = Value::Null;
    issue["comments"] = json!(0);
    let labels: Vec<Value> = ctx
        .body
        .and_then(|b| b["labels"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|l| l.as_str())
        .enumerate()
        .map(|(i, l)| json!({"id": i + 1, "node_id": format!("L_{l}"), "url": format!("https://api.github.com/repos/{name}/labels/{l}"), "name": l, "description": "", "color": "ededed", "default": false}))
        .collect();
    issue["labels"] = Value::Array(labels);
    repo.issues.push(issue.clone());
    Reply::json(201, issue)
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

/// Issue and pull request search over the repositories the installation may see, with the
/// qualifiers upkeep uses: `repo:`, `is:issue`/`is:pr`, `is:open`/`is:closed`, `state:`,
/// `label:`, `in:body`/`in:title`, and quoted or bare words that must all appear.
fn search_issues(world: &mut World, ctx: &Ctx<'_>) -> Reply {
    let installation = match installation_auth(world, ctx) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let Some(q) = ctx.param("q").map(decode) else {
        return Reply::message(422, "Validation Failed");
    };
    let mut words = Vec::new();
    let mut rest = q.as_str();
    while let Some(start) = rest.find('"') {
        words.extend(rest[..start].split_whitespace().map(str::to_owned));
        let after = &rest[start + 1..];
        let end = after.find('"').unwrap_or(after.len());
        words.push(format!("\"{}", &after[..end]));
        rest = after.get(end + 1..).unwrap_or("");
    }
    words.extend(rest.split_whitespace().map(str::to_owned));
    let template = ctx
        .spec
        .example("issue-search-result-item-paginated")
        .and_then(|p| p["items"].get(0).cloned())
        .unwrap_or_else(|| json!({}));
    let mut items = Vec::new();
    for repo in world
        .repositories
        .values()
        .filter(|r| r.installation == installation)
    {
        let all = repo
            .issues
            .iter()
            .map(|i| (i, false))
            .chain(repo.pulls.iter().map(|p| (p, true)));
        for (item, is_pr) in all {
            let text = format!(
                "{} {}",
                item["title"].as_str().unwrap_or(""),
                item["body"].as_str().unwrap_or("")
            );
            let keep = words.iter().all(|w| match w.split_once(':') {
                _ if w.starts_with('"') => text.contains(&w[1..]),
                Some(("repo", name)) => repo.full_name == name,
                Some(("is", "issue")) => !is_pr,
                Some(("is", "pr")) => is_pr,
                Some(("is", state)) | Some(("state", state)) => item["state"] == state,
                Some(("label", label)) => item["labels"]
                    .as_array()
                    .is_some_and(|l| l.iter().any(|x| x["name"] == label)),
                Some(("in", _)) => true,
                _ => text.contains(w.as_str()),
            });
            if keep {
                let mut out = template.clone();
                for key in [
                    "id",
                    "node_id",
                    "number",
                    "title",
                    "body",
                    "state",
                    "labels",
                    "html_url",
                    "url",
                    "user",
                    "created_at",
                    "updated_at",
                    "closed_at",
                ] {
                    if !item[key].is_null() || key == "body" || key == "closed_at" {
                        out[key] = item[key].clone();
                    }
                }
                if !is_pr {
                    out.as_object_mut().map(|o| o.remove("pull_request"));
                }
                out["score"] = json!(1.0);
                items.push(out);
            }
        }
    }
    Reply::json(
        200,
        json!({ "total_count": items.len(), "incomplete_results": false, "items": items, "search_type": "lexical" }),
    )
}
