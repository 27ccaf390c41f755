//! Hot reload of the `UPKEEP_CONFIG` file: read again when its content changes (checked every
//! couple of seconds) or on `SIGHUP`, parsed and checked as at start. When valid, what can
//! change live is applied at once: the webhook secret and the previous secret of a rotation.
//! A change to what only a restart applies (listen address, database URL, data directory,
//! GitHub's API URL) is logged as needing one. When invalid, the error is logged
//! with its line and column, shown under `drift` on the status page, and the last good
//! configuration stays in force: no delivery is refused for it. Variables set in the
//! environment win over the file, as at start, so the file cannot change them.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::watch;
use tracing::{error, info, warn};

use super::settings::{parse_file, FileSettings, Settings};
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

/// Applies a valid reload; returns what changed, for the log.
fn apply(state: &AppState, reload: Reload) -> Vec<&'static str> {
    let mut changed = Vec::new();
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
    error!(error = %message, "UPKEEP_CONFIG not reloaded; the last good configuration stays in force");
    state.drift.set(
        CHECK,
        vec![Drift {
            kind: CHECK.to_owned(),
            detail: message,
            fix: "correct the file; it is read again as soon as it changes".to_owned(),
        }],
    );
}

/// Watches `UPKEEP_CONFIG` (content checked every `every`, and `SIGHUP`) until `shutdown`.
pub async fn run(state: Arc<AppState>, every: Duration, mut shutdown: watch::Receiver<bool>) {
    let Some(path) = state.settings.config_path.clone() else {
        return;
    };
    let mut last = std::fs::read(&path).ok();
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
        let now = std::fs::read(&path).ok();
        if forced || now != last {
            last = now;
            reload_now(&state, &path);
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
