//! Hot reload of the `UPKEEP_CONFIG` file: read again when its content changes (checked every
//! couple of seconds) or on `SIGHUP`, parsed and checked as at start. When valid, what can
//! change live is applied at once: the webhook secret and the previous secret of a rotation,
//! the log level, the worker maximum, the advisory refresh interval, benchmark retention, the
//! daily window the schedule spreads passes over, and where alerts go (ops repository, webhook).
//! A change to what only a restart applies (listen address, database URL, data directory,
//! GitHub's API URL) is logged as needing one. When invalid, the error is logged
//! with its line and column, shown under `drift` on the status page, and the last good
//! configuration stays in force: no delivery is refused for it. Variables set in the
//! environment win over the file, as at start, so the file cannot change them.
//!
//! The credentials file the first-run setup writes is watched the same way (a new App, key or
//! secret in it is used at once), and so is the private key file `UPKEEP_PRIVATE_KEY_PATH`
//! names: a key replaced on disk is read before GitHub has to refuse the old one.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::watch;
use tracing::{error, info, warn};

use super::settings::{parse_file, AppCredentials, FileSettings, Settings, StoredCredentials};
use super::state::AppState;
use crate::drift::finding::Drift;

/// This check's name on the drift board.
pub const CHECK: &str = "config_reload";

/// What a valid file changes.
#[derive(Default)]
pub struct Reload {
    /// A new webhook secret (`None`: unchanged).
    pub webhook_secret: Option<SecretString>,
    /// The previous secret as the file now says (`None`: not set there).
    pub webhook_secret_previous: Option<SecretString>,
    /// A new log filter (`None`: unchanged or not in the file).
    pub log_level: Option<String>,
    /// A new worker maximum (`None`: unchanged or not in the file).
    pub workers: Option<usize>,
    /// A new advisory refresh interval (`None`: not in the file).
    pub advisory_refresh: Option<Duration>,
    /// A new benchmark retention in days (`None`: not in the file).
    pub bench_retention_days: Option<u64>,
    /// The daily window now: the file's, the environment's, or the whole day.
    pub daily_window: crate::queue::window::DailyWindow,
    /// Where alerts go now (a key taken out of the file stops that route).
    pub alert_routes: crate::alerts::escalate::Routes,
    /// Settings the file changed that only a restart applies.
    pub needs_restart: Vec<&'static str>,
}

/// What `text` changes against `settings`, or why it cannot be used.
pub fn plan(settings: &Settings, text: &str) -> Result<Reload, String> {
    let file: FileSettings = parse_file(text)?;
    let from_file = |var: &str, v: &Option<String>| -> Option<String> {
        (!settings.env_set.contains(var))
            .then(|| v.clone())
            .flatten()
    };
    let secret = |var: &str, v: &Option<String>| -> Result<Option<SecretString>, String> {
        match from_file(var, v) {
            Some(s) if s.len() >= 16 => Ok(Some(SecretString::from(s))),
            Some(_) => Err(format!("{var}: must be at least 16 characters")),
            None => Ok(None),
        }
    };
    let mut reload = Reload {
        webhook_secret: secret("UPKEEP_WEBHOOK_SECRET", &file.webhook_secret)?,
        webhook_secret_previous: secret(
            "UPKEEP_WEBHOOK_SECRET_PREVIOUS",
            &file.webhook_secret_previous,
        )?,
        log_level: from_file("UPKEEP_LOG_LEVEL", &file.log_level)
            .map(|l| super::settings::parse_log_level(&l))
            .transpose()
            .map_err(|p| p.to_string())?
            .filter(|l| *l != settings.log_level),
        workers: from_file("UPKEEP_WORKERS", &super::settings::toml_text(&file.workers))
            .map(|w| super::settings::parse_workers(&w))
            .transpose()
            .map_err(|p| p.to_string())?,
        advisory_refresh: from_file(
            "UPKEEP_ADVISORY_REFRESH_MINUTES",
            &super::settings::toml_text(&file.advisory_refresh_minutes),
        )
        .map(|m| super::settings::parse_advisory_refresh(&m))
        .transpose()
        .map_err(|p| p.to_string())?,
        bench_retention_days: from_file(
            "UPKEEP_BENCH_RETENTION_DAYS",
            &super::settings::toml_text(&file.bench_retention_days),
        )
        .map(|d| super::settings::parse_bench_retention(&d))
        .transpose()
        .map_err(|p| p.to_string())?,
        daily_window: env_or_file(
            settings,
            "UPKEEP_DAILY_WINDOW",
            Some(settings.daily_window),
            &file.daily_window,
            |w| super::settings::parse_daily_window(&w),
        )?
        .unwrap_or_default(),
        alert_routes: crate::alerts::escalate::Routes {
            ops_repo: env_or_file(
                settings,
                "UPKEEP_OPS_REPO",
                settings.ops_repo.clone(),
                &file.ops_repo,
                super::settings::parse_ops_repo,
            )?,
            webhook: env_or_file(
                settings,
                "UPKEEP_ALERT_WEBHOOK",
                settings.alert_webhook.clone(),
                &file.alert_webhook,
                |u| super::settings::parse_url("UPKEEP_ALERT_WEBHOOK", u),
            )?,
        },
        needs_restart: Vec::new(),
    };
    let changed = |var: &'static str, v: &Option<String>, now: &str| -> Option<&'static str> {
        from_file(var, v).filter(|v| v != now).map(|_| var)
    };
    reload.needs_restart.extend(
        [
            changed("UPKEEP_LISTEN", &file.listen, &settings.listen.to_string()),
            changed(
                "UPKEEP_DATABASE_URL",
                &file.database_url,
                &settings.database_url,
            ),
            changed(
                "UPKEEP_DATA_DIR",
                &file.data_dir,
                &settings.data_dir.display().to_string(),
            ),
            changed(
                "UPKEEP_GITHUB_API_URL",
                &file.github_api_url,
                settings.github_api_url.as_str(),
            ),
        ]
        .into_iter()
        .flatten(),
    );
    Ok(reload)
}

/// A live setting as it stands after a reload: the environment's (`env`) while the variable is
/// set there, as at start; else the file's, parsed, or `None` when the file leaves it out.
fn env_or_file<T>(
    settings: &Settings,
    var: &str,
    env: Option<T>,
    file: &Option<String>,
    parse: impl FnOnce(String) -> Result<T, super::settings::Problem>,
) -> Result<Option<T>, String> {
    if settings.env_set.contains(var) {
        return Ok(env);
    }
    file.clone()
        .map(parse)
        .transpose()
        .map_err(|p| p.to_string())
}

/// Applies a valid reload; returns what changed, for the log.
fn apply(state: &AppState, reload: Reload) -> Vec<&'static str> {
    let mut changed = Vec::new();
    if let Some(level) = &reload.log_level {
        if super::telemetry::set_log_level(level) {
            changed.push("log level");
        }
    }
    if let Some(mut workers) = reload.workers {
        // The workers started are the ceiling until a restart starts more.
        let started = state.settings.workers.max(super::cpus::MAX_WORKERS);
        if workers > started {
            warn!(
                workers,
                started, "a worker maximum above the workers started applies at the next restart"
            );
            workers = started;
        }
        if workers != state.worker_limit.max() {
            state.worker_limit.set_max(workers);
            changed.push("worker maximum");
        }
    }
    if let Some(every) = reload.advisory_refresh {
        if every != state.live.advisory_refresh() {
            state.live.set_advisory_refresh(every);
            changed.push("advisory refresh");
        }
    }
    if let Some(days) = reload.bench_retention_days {
        if days != state.live.bench_retention_days() {
            state.live.set_bench_retention_days(days);
            changed.push("benchmark retention");
        }
    }
    if reload.daily_window != state.live.daily_window() {
        info!(window = %reload.daily_window.label(), "daily passes move to the new window");
        state.live.set_daily_window(reload.daily_window);
        changed.push("daily window");
    }
    if reload.alert_routes != state.live.alert_routes() {
        state.live.set_alert_routes(reload.alert_routes);
        changed.push("alert routes");
    }
    let Some(current) = state.credentials() else {
        return changed;
    };
    let mut next = (*current).clone();
    if let Some(secret) = reload.webhook_secret {
        if secret.expose_secret() != current.webhook_secret.expose_secret() {
            next.webhook_secret = secret;
            changed.push("webhook secret");
        }
    }
    let previous_now = current
        .webhook_secret_previous
        .as_ref()
        .map(|s| s.expose_secret().to_owned());
    let previous_next = reload
        .webhook_secret_previous
        .as_ref()
        .map(|s| s.expose_secret().to_owned());
    if !state
        .settings
        .env_set
        .contains("UPKEEP_WEBHOOK_SECRET_PREVIOUS")
        && previous_now != previous_next
    {
        next.webhook_secret_previous = reload.webhook_secret_previous;
        changed.push("previous webhook secret");
    }
    if !changed.is_empty() {
        state.replace_credentials(next);
    }
    changed
}

/// Reads the file again and applies it, or keeps the last good configuration.
fn reload_now(state: &AppState, path: &PathBuf) {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            report(state, format!("cannot read {}: {e}", path.display()));
            return;
        }
    };
    match plan(&state.settings, &text) {
        Ok(reload) => {
            state.drift.set(CHECK, Vec::new());
            for setting in &reload.needs_restart {
                warn!(
                    setting,
                    "changed in UPKEEP_CONFIG; applied at the next restart"
                );
            }
            let changed = apply(state, reload);
            info!(?changed, "UPKEEP_CONFIG reloaded");
        }
        Err(e) => report(state, format!("{}: {e}", path.display())),
    }
}

fn report(state: &AppState, message: String) {
    report_as(state, CHECK, message);
}

/// The App's credentials file (written by the first-run setup) changed: its App, key and
/// secret are used from now on. The same content as in use changes nothing; a file that is
/// not valid keeps what is in use and is reported.
fn reload_credentials(state: &AppState, path: &PathBuf) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    let stored: StoredCredentials = match serde_json::from_str(&text) {
        Ok(c) => c,
        Err(e) => {
            report_as(
                state,
                CREDENTIALS_CHECK,
                format!(
                    "{}: line {}, column {}: not valid",
                    path.display(),
                    e.line(),
                    e.column()
                ),
            );
            return;
        }
    };
    let current = state.credentials();
    let same = current.as_ref().is_some_and(|c| {
        c.app_id == stored.app_id
            && c.private_key.expose_secret() == stored.pem
            && c.webhook_secret.expose_secret() == stored.webhook_secret
    });
    if same {
        state.drift.set(CREDENTIALS_CHECK, Vec::new());
        return;
    }
    let creds = AppCredentials {
        app_id: stored.app_id,
        private_key: SecretString::from(stored.pem),
        webhook_secret: SecretString::from(stored.webhook_secret),
        webhook_secret_previous: current.and_then(|c| c.webhook_secret_previous.clone()),
        private_key_path: None,
    };
    match state.install_credentials(creds) {
        Ok(()) => {
            state.drift.set(CREDENTIALS_CHECK, Vec::new());
            info!(
                app_id = stored.app_id,
                "the credentials file changed; its App, key and secret are in use"
            );
        }
        Err(e) => report_as(
            state,
            CREDENTIALS_CHECK,
            format!("{}: the key is unusable ({e})", path.display()),
        ),
    }
}

/// This check's name on the drift board for the credentials file.
pub const CREDENTIALS_CHECK: &str = "credentials_reload";

fn report_as(state: &AppState, check: &'static str, message: String) {
    error!(error = %message, "not reloaded; what is in use stays");
    state.drift.set(
        check,
        vec![Drift {
            kind: check.to_owned(),
            detail: message,
            fix: "correct the file; it is read again as soon as it changes".to_owned(),
        }],
    );
}

/// A file's content now, when it can be read.
fn content(path: &Path) -> Option<Vec<u8>> {
    std::fs::read(path).ok()
}

/// Watches `UPKEEP_CONFIG` (content checked every `every`, and `SIGHUP`), the credentials
/// file the setup wrote (unless the App comes from the environment) and the private key file,
/// until `shutdown`.
pub async fn run(state: Arc<AppState>, every: Duration, mut shutdown: watch::Receiver<bool>) {
    let config = state.settings.config_path.clone();
    let mut last = config.as_deref().and_then(content);
    let credentials = (!state.settings.env_set.contains("UPKEEP_APP_ID"))
        .then(|| state.settings.credentials_path());
    let mut last_credentials = credentials.as_deref().and_then(content);
    let key_file = || state.credentials().and_then(|c| c.private_key_path.clone());
    let mut last_key = key_file().map(|p| (content(&p), p));
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    loop {
        let hup = async {
            match hangup.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        let forced = tokio::select! {
            _ = tokio::time::sleep(every) => false,
            _ = hup => true,
            _ = shutdown.changed() => return,
        };
        if let Some(path) = &config {
            let now = content(path);
            if forced || now != last {
                last = now;
                reload_now(&state, path);
            }
        }
        if let Some(path) = &credentials {
            let now = content(path);
            if now.is_some() && (forced || now != last_credentials) {
                reload_credentials(&state, path);
            }
            last_credentials = now;
        }
        if let Some(path) = key_file() {
            let now = content(&path);
            let changed = match &last_key {
                Some((before, p)) => *p != path || *before != now,
                None => true,
            };
            if changed && now.is_some() {
                if let Some(app) = crate::github::app::registered(&state.github) {
                    if app.reload_key() {
                        info!(path = %path.display(), "the private key file changed; the new key is in use");
                    }
                }
            }
            last_key = Some((now, path));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::server::settings::Environment;

    fn settings(env: &[(&str, &str)]) -> Settings {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::load(&env, Environment::Workstation).unwrap()
    }

    #[test]
    fn what_only_a_restart_applies_is_named_and_the_environment_wins() {
        let s = settings(&[("UPKEEP_DATABASE_URL", "sqlite://a.db")]);
        let r = plan(
            &s,
            "listen = \"127.0.0.1:9999\"\ndatabase_url = \"sqlite://b.db\"\n",
        )
        .unwrap();
        assert_eq!(r.needs_restart, ["UPKEEP_LISTEN"], "the env var wins");
        let same = plan(&s, &format!("listen = \"{}\"\n", s.listen)).unwrap();
        assert!(same.needs_restart.is_empty());
    }

    #[test]
    fn a_bad_file_names_the_line_and_column_and_never_its_text() {
        let s = settings(&[]);
        let e = plan(&s, "workers = 4\nwebhook_secret = \"short-one\"\n")
            .err()
            .unwrap();
        assert!(e.contains("UPKEEP_WEBHOOK_SECRET"), "{e}");
        assert!(!e.contains("short-one"), "{e}");
        let e = plan(&s, "workers = 4\n  lisen = \"x\"\n").err().unwrap();
        assert!(e.starts_with("line 2, column 3"), "{e}");
    }
}
