//! The App's webhook delivery log: `GET /app/hook/deliveries` (newest attempt first, cursor
//! pagination through the `Link` header, the last three days only) and
//! `GET /app/hook/deliveries/{id}` (one attempt with the request GitHub sent); and the App's
//! webhook configuration, `GET`/`PATCH /app/hook/config` (the secret never shown: `********`).
//! And `GET /app`: the App with the permissions and events its settings page has. All need the
//! App's JWT, as on GitHub.

use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use crate::exchange::{check_app_jwt, rfc3339, Ctx, Reply};
use crate::world::{HookConfig, HookDelivery, World};

/// Operations answered in this file.
pub(crate) const OPS: [&str; 5] = [
    "apps/get-authenticated",
    "apps/list-webhook-deliveries",
    "apps/get-webhook-delivery",
    "apps/get-webhook-config-for-app",
    "apps/update-webhook-config-for-app",
];

/// How long GitHub keeps deliveries listed.
const KEPT: Duration = Duration::from_secs(3 * 24 * 3600);

pub(crate) fn route(op: &str, world: &mut World, ctx: &Ctx<'_>) -> Option<Reply> {
    Some(match op {
        "apps/list-webhook-deliveries" => list(world, ctx),
        "apps/get-webhook-delivery" => get(world, ctx),
        "apps/get-webhook-config-for-app" => get_config(world, ctx),
        "apps/get-authenticated" => get_app(world, ctx),
        "apps/update-webhook-config-for-app" => update_config(world, ctx),
        _ => return None,
    })
}

fn list(world: &mut World, ctx: &Ctx<'_>) -> Reply {
    if let Err(r) = check_app_jwt(world, ctx) {
        return r;
    }
    let per_page = ctx
        .param("per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    // The cursor names the newest attempt of the page: `v1_<id>`.
    let start = match ctx.param("cursor") {
        None => i64::MAX,
        Some(c) => match c.strip_prefix("v1_").and_then(|id| id.parse::<i64>().ok()) {
            Some(id) => id,
            None => return Reply::message(422, "Invalid cursor"),
        },
    };
    let failure_only = match ctx.param("status") {
        None => None,
        Some("success") => Some(false),
        Some("failure") => Some(true),
        Some(_) => return Reply::message(422, "Invalid status"),
    };
    let oldest = SystemTime::now() - KEPT;
    let mut listed = world
        .hook_deliveries
        .iter()
        .rev()
        .filter(|d| d.id <= start && d.delivered_at >= oldest)
        .filter(|d| match failure_only {
            None => true,
            Some(failed) => (400..600).contains(&d.status_code) == failed,
        });
    let page: Vec<Value> = listed.by_ref().take(per_page).map(item).collect();
    let mut reply = Reply::json(200, Value::Array(page));
    if let Some(next) = listed.next() {
        let mut query = format!("per_page={per_page}&cursor=v1_{}", next.id);
        if let Some(status) = ctx.param("status") {
            query.push_str(&format!("&status={status}"));
        }
        reply.headers.push((
            "link".into(),
            format!(
                "<{}/app/hook/deliveries?{query}>; rel=\"next\"",
                world.base_url
            ),
        ));
    }
    reply
}

fn get(world: &mut World, ctx: &Ctx<'_>) -> Reply {
    if let Err(r) = check_app_jwt(world, ctx) {
        return r;
    }
    let Some(d) = ctx
        .segment(3)
        .parse::<i64>()
        .ok()
        .and_then(|id| world.hook_deliveries.iter().find(|d| d.id == id))
    else {
        return Reply::message(404, "Not Found");
    };
    let mut body = item(d);
    body["url"] = json!("https://upkeep.example/webhook");
    body["request"] = json!({
        "headers": {
            "Accept": "*/*",
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/fake",
            "X-GitHub-Delivery": d.guid,
            "X-GitHub-Event": d.event,
            "X-GitHub-Hook-ID": "1",
            "X-Hub-Signature-256": "sha256=(redacted)"
        },
        "payload": d.payload,
    });
    body["response"] = json!({ "headers": {}, "payload": Value::Null });
    Reply::json(200, body)
}

/// An attempt as the list shows it (`hook-delivery-item`).
fn item(d: &HookDelivery) -> Value {
    let status = match d.status_code {
        0 => "timed out".to_owned(),
        200..=299 => "OK".to_owned(),
        code => format!("Invalid HTTP Response: {code}"),
    };
    json!({
        "id": d.id,
        "guid": d.guid,
        "delivered_at": rfc3339(d.delivered_at),
        "redelivery": d.redelivery,
        "duration": 0.05,
        "status": status,
        "status_code": d.status_code,
        "event": d.event,
        "action": d.action,
        "installation_id": d.installation_id,
        "repository_id": d.repository_id,
        "throttled_at": Value::Null,
    })
}

/// The configuration as GitHub shows it (`webhook-config`).
fn config_body(c: &HookConfig) -> Value {
    let mut body = json!({
        "url": c.url,
        "content_type": c.content_type,
        "insecure_ssl": c.insecure_ssl,
    });
    if c.secret.is_some() {
        body["secret"] = json!("********");
    }
    body
}

fn get_config(world: &mut World, ctx: &Ctx<'_>) -> Reply {
    if let Err(r) = check_app_jwt(world, ctx) {
        return r;
    }
    Reply::json(200, config_body(&world.hook_config))
}

fn update_config(world: &mut World, ctx: &Ctx<'_>) -> Reply {
    if let Err(r) = check_app_jwt(world, ctx) {
        return r;
    }
    let Some(body) = ctx.body else {
        return Reply::message(400, "Problems parsing JSON");
    };
    let mut next = world.hook_config.clone();
    if let Some(url) = body.get("url") {
        match url.as_str() {
            Some(u)
                if (u.starts_with("https://") || u.starts_with("http://"))
                    && !u.contains(char::is_whitespace) =>
            {
                next.url = u.to_owned()
            }
            _ => return Reply::message(422, "Validation Failed: url is not a valid URL"),
        }
    }
    if let Some(ct) = body.get("content_type") {
        match ct.as_str() {
            Some(ct @ ("json" | "form")) => next.content_type = ct.to_owned(),
            _ => return Reply::message(422, "Validation Failed: content_type"),
        }
    }
    if let Some(insecure) = body.get("insecure_ssl") {
        next.insecure_ssl = match insecure {
            Value::String(s) if s == "0" || s == "1" => s.clone(),
            Value::Number(n) if n.as_u64() == Some(0) || n.as_u64() == Some(1) => n.to_string(),
            _ => return Reply::message(422, "Validation Failed: insecure_ssl"),
        };
    }
    if let Some(secret) = body.get("secret") {
        next.secret = secret.as_str().map(str::to_owned);
    }
    world.hook_config = next;
    Reply::json(200, config_body(&world.hook_config))
}

fn get_app(world: &mut World, ctx: &Ctx<'_>) -> Reply {
    if let Err(r) = check_app_jwt(world, ctx) {
        return r;
    }
    let mut app = ctx.spec.example("integration").unwrap_or_else(|| json!({}));
    app["id"] = json!(world.app_id);
    app["slug"] = json!("upkeep");
    app["name"] = json!("upkeep");
    app["permissions"] = json!(world.app_permissions);
    app["events"] = json!(world.app_events);
    Reply::json(200, app)
}
