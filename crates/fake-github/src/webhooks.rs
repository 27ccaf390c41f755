//! Webhooks out of the world: a real payload from `../shared/github-webhooks/<event>/`, filled in
//! with the world's installation and repository, signed as GitHub signs it and delivered to the
//! app. Tests change the payload further (a comment body, a check conclusion) with a closure.

use hmac::{Hmac, Mac};
use rand::Rng;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::openapi::shared_dir;
use crate::world::World;

/// Where deliveries go and the secret they are signed with.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub url: String,
    pub secret: String,
}

/// A delivery as sent.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    pub event: String,
    pub payload: Value,
    pub status: u16,
}

/// Reads `<event>/<file>` from the shared payloads.
pub fn sample(event: &str, file: &str) -> Value {
    let path = shared_dir().join("github-webhooks").join(event).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Puts the world's installation and repository into a sample payload, where it has them.
pub fn fill(world: &World, payload: &mut Value, installation: i64, repository: Option<&str>) {
    if let Some(map) = payload.as_object_mut() {
        if map.contains_key("installation") || installation != 0 {
            let account = world
                .installations
                .get(&installation)
                .map(|i| i.account.clone())
                .unwrap_or_default();
            let node = json!({ "id": installation, "node_id": format!("MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u{installation}") });
            match map.get_mut("installation") {
                Some(Value::Object(i)) => {
                    i.insert("id".into(), json!(installation));
                    let accepted = world.installations.get(&installation);
                    if let (true, Some(inst)) = (i.contains_key("permissions"), accepted) {
                        i.insert("permissions".into(), json!(inst.permissions));
                    }
                    if let Some(Value::Object(a)) = i.get_mut("account") {
                        a.insert("login".into(), json!(account));
                    }
                }
                _ => {
                    map.insert("installation".into(), node);
                }
            }
        }
        if let Some(repo) = repository.and_then(|name| world.repositories.get(name)) {
            if let Some(Value::Object(r)) = map.get_mut("repository") {
                let (owner, name) = repo
                    .full_name
                    .split_once('/')
                    .unwrap_or(("", &repo.full_name));
                r.insert("id".into(), json!(repo.id));
                r.insert("name".into(), json!(name));
                r.insert("full_name".into(), json!(repo.full_name));
                r.insert("default_branch".into(), json!(repo.default_branch));
                r.insert("private".into(), json!(repo.private));
                if let Some(Value::Object(o)) = r.get_mut("owner") {
                    o.insert("login".into(), json!(owner));
                    o.insert("name".into(), json!(owner));
                }
            }
        }
    }
}

/// `sha256=` + hex HMAC-SHA256 of the body, as GitHub sends it.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A fresh delivery id in GitHub's shape (a UUID).
pub fn new_guid() -> String {
    format!(
        "{:08x}-{:04x}-11ef-{:04x}-{:012x}",
        rand::rng().random::<u32>(),
        rand::rng().random::<u16>(),
        rand::rng().random::<u16>(),
        rand::rng().random::<u64>() & 0xffff_ffff_ffff
    )
}

/// Sends one signed delivery (not logged: a forged or hand-made request; `FakeGitHub::send`
/// is GitHub sending it).
pub async fn send(endpoint: &Endpoint, event: &str, payload: Value) -> Delivery {
    send_as(endpoint, event, payload, new_guid()).await
}

/// Sends one signed delivery with delivery id `id`.
pub async fn send_as(endpoint: &Endpoint, event: &str, payload: Value, id: String) -> Delivery {
    let body = serde_json::to_vec(&payload).unwrap_or_default();
    let response = reqwest::Client::new()
        .post(&endpoint.url)
        .header("content-type", "application/json")
        .header("user-agent", "GitHub-Hookshot/fake")
        .header("x-github-event", event)
        .header("x-github-delivery", &id)
        .header("x-github-hook-id", "1")
        .header("x-hub-signature-256", sign(&endpoint.secret, &body))
        .body(body)
        .send()
        .await;
    let status = response.map(|r| r.status().as_u16()).unwrap_or(0);
    Delivery {
        id,
        event: event.to_owned(),
        payload,
        status,
    }
}
