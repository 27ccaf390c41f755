//! First run without credentials, as Probot does it: `/` offers a "Register GitHub App" button
//! that posts the manifest to GitHub's create-from-manifest form (personal account or an
//! organization); GitHub sends the browser back to `/setup/callback?code=…&state=…`, where the
//! state is checked (single use, one hour), the code exchanged for the App's id, key and webhook
//! secret, those written to the data directory with mode 0600, and the server goes on with them.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use secrecy::SecretString;
use serde::Deserialize;
use tracing::{error, info};

use crate::github::{manifest, RetryPolicy, Transport};
use crate::server::settings::{write_credentials, AppCredentials, StoredCredentials};
use crate::server::state::AppState;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(index))
        .route("/setup/org", get(org_form))
        .route("/setup/callback", get(callback))
        .route("/setup/installed", get(|| async { Html(page("upkeep is installed", "<p>upkeep is installed. It opens its first pull requests and its dashboard issue on the next daily pass.</p>")) }))
}

fn public_url(state: &AppState, headers: &HeaderMap) -> url::Url {
    if let Some(u) = &state.settings.public_url {
        return u.clone();
    }
    let host = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    url::Url::parse(&format!("http://{host}/"))
        .unwrap_or_else(|_| state.settings.github_web_url.clone())
}

async fn index(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Some(creds) = state.credentials() {
        let body = format!(
            "<p>upkeep is running as GitHub App {}. Install it on repositories from the App's page on GitHub.</p>\
             <p><a href=\"/readyz\">readiness</a> · <a href=\"/metrics\">metrics</a></p>",
            creds.app_id
        );
        return Html(page("upkeep", &body)).into_response();
    }
    let form = manifest_form(&state, &headers, None);
    let reach = reach_note(&public_url(&state, &headers));
    let body = format!(
        "{reach}<p>upkeep is not registered with GitHub yet. Register it as a GitHub App for your account:</p>{form}\
         <p>or for an organization:</p>\
         <form method=\"get\" action=\"/setup/org\"><input name=\"name\" placeholder=\"organization\" required> \
         <button type=\"submit\">Continue</button></form>"
    );
    Html(page("Set up upkeep", &body)).into_response()
}

#[derive(Deserialize)]
struct OrgQuery {
    name: String,
}

async fn org_form(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<OrgQuery>,
) -> Response {
    if !q
        .name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-')
        || q.name.is_empty()
    {
        return (
            StatusCode::BAD_REQUEST,
            Html(page(
                "Set up upkeep",
                "<p>That is not an organization name.</p>",
            )),
        )
            .into_response();
    }
    let form = manifest_form(&state, &headers, Some(&q.name));
    Html(page(
        "Set up upkeep",
        &format!("<p>Register upkeep for <b>{}</b>:</p>{form}", q.name),
    ))
    .into_response()
}

/// Said on the first-run page when GitHub could not deliver to the webhook URL it is about to
/// register (a loopback or private address): what upkeep does instead.
fn reach_note(public: &url::Url) -> String {
    if crate::heal::reach::reachable(Some(public)) {
        return String::new();
    }
    format!(
        "<p class=\"note\" id=\"unreachable\">GitHub cannot reach <code>{}</code> (a loopback or private \
         address), so it cannot deliver webhooks here. That is fine: upkeep fetches the App's \
         deliveries from GitHub itself every 30 seconds. To have them pushed instead, set \
         <code>UPKEEP_PUBLIC_URL</code> to an address GitHub can reach before registering.</p>",
        escape(&crate::drift::hook::webhook_url(public))
    )
}

/// The form that posts the manifest to GitHub; the `state` in its action is checked on return.
fn manifest_form(state: &AppState, headers: &HeaderMap, org: Option<&str>) -> String {
    let manifest = match crate::app_manifest::manifest(&public_url(state, headers)) {
        Ok(m) => m.to_string(),
        Err(e) => return format!("<p>{}</p>", escape(&e.to_string())),
    };
    let web = state.settings.github_web_url.as_str().trim_end_matches('/');
    let target = match org {
        Some(org) => format!("{web}/organizations/{org}/settings/apps/new"),
        None => format!("{web}/settings/apps/new"),
    };
    format!(
        "<form method=\"post\" action=\"{target}?state={}\"><input type=\"hidden\" name=\"manifest\" value=\"{}\">\
         <button type=\"submit\">Register GitHub App</button></form>",
        state.setup.issue(),
        escape(&manifest)
    )
}

#[derive(Deserialize)]
struct Callback {
    code: String,
    state: String,
}

async fn callback(State(state): State<Arc<AppState>>, Query(q): Query<Callback>) -> Response {
    if state.credentials().is_some() {
        return (
            StatusCode::CONFLICT,
            Html(page("upkeep", "<p>upkeep is already registered.</p>")),
        )
            .into_response();
    }
    if !state.setup.redeem(&q.state) {
        return (
            StatusCode::BAD_REQUEST,
            Html(page(
                "Set up upkeep",
                "<p>This link is stale or was not started here. <a href=\"/\">Start again</a>.</p>",
            )),
        )
            .into_response();
    }
    let result = async {
        let transport = Transport::new(&state.settings.github_api_url, RetryPolicy::default())?;
        manifest::convert(&transport, &q.code).await
    }
    .await;
    let conversion = match result {
        Ok(c) => c,
        Err(e) => {
            error!(error = %e, "manifest conversion failed");
            return (
                StatusCode::BAD_GATEWAY,
                Html(page(
                    "Set up upkeep",
                    &format!(
                        "<p>GitHub refused the registration: {}</p>",
                        escape(&e.to_string())
                    ),
                )),
            )
                .into_response();
        }
    };
    let Some(webhook_secret) = conversion.webhook_secret.filter(|s| !s.is_empty()) else {
        return (
            StatusCode::BAD_GATEWAY,
            Html(page(
                "Set up upkeep",
                "<p>GitHub returned no webhook secret.</p>",
            )),
        )
            .into_response();
    };
    let stored = StoredCredentials {
        app_id: conversion.id,
        slug: conversion.slug.clone(),
        pem: conversion.pem,
        webhook_secret,
    };
    let path = state.settings.credentials_path();
    if let Err(e) = write_credentials(&path, &stored) {
        error!(error = %e, path = %path.display(), "cannot write the credentials file");
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Html(page(
                "Set up upkeep",
                "<p>The credentials could not be saved; check the data directory.</p>",
            )),
        )
            .into_response();
    }
    let creds = AppCredentials {
        app_id: stored.app_id,
        private_key: SecretString::from(stored.pem),
        webhook_secret: SecretString::from(stored.webhook_secret),
        webhook_secret_previous: None,
        private_key_path: None,
    };
    if let Err(e) = state.install_credentials(creds) {
        error!(error = %e, "the returned key is unusable");
        return (
            StatusCode::BAD_GATEWAY,
            Html(page(
                "Set up upkeep",
                "<p>GitHub returned a key upkeep cannot use.</p>",
            )),
        )
            .into_response();
    }
    info!(app_id = stored.app_id, path = %path.display(), "GitHub App registered; credentials saved");
    let install = match (conversion.html_url, conversion.slug) {
        (Some(html), _) => format!("{}/installations/new", html.trim_end_matches('/')),
        (None, Some(slug)) => format!(
            "{}/apps/{slug}/installations/new",
            state.settings.github_web_url.as_str().trim_end_matches('/')
        ),
        (None, None) => "/".into(),
    };
    Redirect::to(&install).into_response()
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family:sans-serif;max-width:40em;margin:3em auto\"><h1>{}</h1>{body}</body></html>",
        escape(title),
        escape(title)
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
