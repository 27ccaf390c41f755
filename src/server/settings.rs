//! The app's own configuration: environment variables, an optional TOML file named by
//! `UPKEEP_CONFIG`, a credentials file written by the first-run setup, and detection of where we
//! run. Loading checks everything and reports every problem at once, naming the variable; secrets
//! live in `SecretString` so they never print.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// GitHub's public REST API.
pub const DEFAULT_GITHUB_API_URL: &str = "https://api.github.com";
/// Name of the credentials file the setup flow writes into the data directory.
pub const CREDENTIALS_FILE: &str = "upkeep-credentials.json";

/// One problem found while loading settings, tied to the variable that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub variable: &'static str,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.message)
    }
}

/// Every problem found at start-up, reported together.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct SettingsError(pub Vec<Problem>);

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

/// The GitHub App's identity and secrets.
#[derive(Clone)]
pub struct AppCredentials {
    pub app_id: u64,
    pub private_key: SecretString,
    pub webhook_secret: SecretString,
    /// The secret being rotated out (`UPKEEP_WEBHOOK_SECRET_PREVIOUS`): accepted as well
    /// until it is removed.
    pub webhook_secret_previous: Option<SecretString>,
    /// The PEM file the key was read from (`UPKEEP_PRIVATE_KEY_PATH`): read again when GitHub
    /// refuses a JWT.
    pub private_key_path: Option<PathBuf>,
}

impl fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCredentials")
            .field("app_id", &self.app_id)
            .field("private_key", &"[redacted]")
            .field("webhook_secret", &"[redacted]")
            .field(
                "webhook_secret_previous",
                &self.webhook_secret_previous.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// Everything the server needs to know about its surroundings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub github_api_url: url::Url,
    /// GitHub's web host, for the manifest flow (`https://github.com`).
    pub github_web_url: url::Url,
    /// Where GitHub reaches this server, for the manifest's webhook URL.
    pub public_url: Option<url::Url>,
    /// `None` until the app is registered: the server then runs the first-run setup.
    pub app: Option<AppCredentials>,
    pub log_format: LogFormat,
    /// The log filter (`UPKEEP_LOG_LEVEL`: `info`, `debug`, or `tracing` directives such as
    /// `info,upkeep::deps=debug`); `RUST_LOG` wins when set. Reloaded live.
    pub log_level: String,
    pub workers: usize,
    /// How often the advisory database is fetched (`UPKEEP_ADVISORY_REFRESH_MINUTES`, 5 to
    /// 1440; `None`: hourly). Reloaded live.
    pub advisory_refresh: Option<std::time::Duration>,
    /// Where alerts that outlast their grace period open an issue (`UPKEEP_OPS_REPO`,
    /// `owner/name`, a repository the App is installed on).
    pub ops_repo: Option<String>,
    /// Where alert events are posted as JSON with a Slack-compatible `text`
    /// (`UPKEEP_ALERT_WEBHOOK`).
    pub alert_webhook: Option<url::Url>,
    /// Days benchmark results are kept (`UPKEEP_BENCH_RETENTION_DAYS`, 7 to 3650; `None`: 90).
    /// Reloaded live.
    pub bench_retention_days: Option<u64>,
    /// The part of the day (UTC) daily passes are spread over (`UPKEEP_DAILY_WINDOW`,
    /// `HH:MM-HH:MM`; the whole day when unset). Reloads live.
    pub daily_window: crate::queue::window::DailyWindow,
    /// The sparse index versions come from (`UPKEEP_INDEX_URL`, default crates.io's).
    pub index_url: url::Url,
    /// A local RustSec advisory database (`UPKEEP_ADVISORY_DB`), used without the network.
    pub advisory_db: Option<PathBuf>,
    /// Where the advisory database is fetched from otherwise (`UPKEEP_ADVISORY_DB_URL`).
    pub advisory_db_url: String,
    /// Hosts git dependencies may be fetched from while resolving lockfiles, besides GitHub's
    /// own (`UPKEEP_GIT_HOSTS`, comma-separated).
    pub git_hosts: Vec<String>,
    /// The name people mention in comments (`@upkeep rebase`): `UPKEEP_SLUG`, else the App's
    /// slug from the credentials file, else `upkeep`.
    pub slug: String,
    /// The TOML file named by `UPKEEP_CONFIG`, watched for changes (`server::reload`).
    pub config_path: Option<PathBuf>,
    /// The `UPKEEP_*` variables set in the environment (names only): they win over the file,
    /// so a reloaded file does not change them.
    pub env_set: std::collections::BTreeSet<String>,
}

/// The keys of the optional TOML file; each mirrors an `UPKEEP_*` variable.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub(crate) struct FileSettings {
    pub(crate) listen: Option<String>,
    pub(crate) database_url: Option<String>,
    pub(crate) data_dir: Option<String>,
    pub(crate) app_id: Option<toml::Value>,
    pub(crate) private_key: Option<String>,
    pub(crate) private_key_path: Option<String>,
    pub(crate) webhook_secret: Option<String>,
    pub(crate) webhook_secret_previous: Option<String>,
    pub(crate) github_api_url: Option<String>,
    pub(crate) github_web_url: Option<String>,
    pub(crate) public_url: Option<String>,
    pub(crate) log_format: Option<String>,
    pub(crate) log_level: Option<String>,
    pub(crate) advisory_refresh_minutes: Option<toml::Value>,
    pub(crate) bench_retention_days: Option<toml::Value>,
    pub(crate) ops_repo: Option<String>,
    pub(crate) alert_webhook: Option<String>,
    pub(crate) daily_window: Option<String>,
    pub(crate) workers: Option<toml::Value>,
    pub(crate) index_url: Option<String>,
    pub(crate) advisory_db: Option<String>,
    pub(crate) advisory_db_url: Option<String>,
    pub(crate) git_hosts: Option<String>,
    pub(crate) slug: Option<String>,
}

/// The credentials the manifest flow receives, as stored on disk (mode 0600).
#[derive(Serialize, Deserialize)]
pub struct StoredCredentials {
    pub app_id: u64,
    pub slug: Option<String>,
    pub pem: String,
    pub webhook_secret: String,
}

/// Where the process runs, as far as defaults care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Workstation,
    Container,
}

impl Environment {
    /// A container or Fly.io Machine: `FLY_APP_NAME`, `/.dockerenv` or `/run/.containerenv`.
    pub fn detect(env: &HashMap<String, String>) -> Self {
        if env.contains_key("FLY_APP_NAME")
            || Path::new("/.dockerenv").exists()
            || Path::new("/run/.containerenv").exists()
        {
            Environment::Container
        } else {
            Environment::Workstation
        }
    }

    fn default_listen(self) -> &'static str {
        match self {
            Environment::Workstation => "127.0.0.1:3000",
            Environment::Container => "0.0.0.0:8080",
        }
    }
}

impl Settings {
    /// Loads from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        Self::load(&env, Environment::detect(&env))
    }

    /// Loads from the given variables (tests pass their own) and environment kind.
    pub fn load(env: &HashMap<String, String>, kind: Environment) -> Result<Self, SettingsError> {
        let mut problems = Vec::new();
        let file = match env.get("UPKEEP_CONFIG") {
            Some(path) => match std::fs::read_to_string(path) {
                Ok(text) => match parse_file(&text) {
                    Ok(f) => f,
                    Err(e) => {
                        problems.push(problem("UPKEEP_CONFIG", format!("{path}: {e}")));
                        FileSettings::default()
                    }
                },
                Err(e) => {
                    problems.push(problem("UPKEEP_CONFIG", format!("cannot read {path}: {e}")));
                    FileSettings::default()
                }
            },
            None => FileSettings::default(),
        };
        let value = |var: &str, from_file: &Option<String>| -> Option<String> {
            env.get(var)
                .filter(|v| !v.is_empty())
                .cloned()
                .or_else(|| from_file.clone())
        };
        let listen_text = value("UPKEEP_LISTEN", &file.listen)
            .unwrap_or_else(|| kind.default_listen().to_owned());
        let listen = listen_text.parse::<SocketAddr>().map_err(|e| {
            problem(
                "UPKEEP_LISTEN",
                format!("{listen_text:?} is not an address like 127.0.0.1:3000: {e}"),
            )
        });

        let database_url = value("UPKEEP_DATABASE_URL", &file.database_url)
            .unwrap_or_else(|| "sqlite://upkeep.db".to_owned());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            problems.push(problem(
                "UPKEEP_DATABASE_URL",
                "must start with sqlite: or postgres:// (the password, if any, is not shown)"
                    .to_owned(),
            ));
        }

        let data_dir =
            PathBuf::from(value("UPKEEP_DATA_DIR", &file.data_dir).unwrap_or_else(|| ".".into()));

        let github_api_url = parse_url(
            "UPKEEP_GITHUB_API_URL",
            value("UPKEEP_GITHUB_API_URL", &file.github_api_url)
                .unwrap_or_else(|| DEFAULT_GITHUB_API_URL.into()),
        );
        let github_web_url = parse_url(
            "UPKEEP_GITHUB_WEB_URL",
            value("UPKEEP_GITHUB_WEB_URL", &file.github_web_url)
                .unwrap_or_else(|| "https://github.com".into()),
        );
        // On Fly.io the app's own name gives its public address.
        let public_url = value("UPKEEP_PUBLIC_URL", &file.public_url)
            .or_else(|| fly_public_url(env))
            .map(|u| parse_url("UPKEEP_PUBLIC_URL", u))
            .transpose();

        let log_format = match value("UPKEEP_LOG_FORMAT", &file.log_format).as_deref() {
            None => Ok(match kind {
                Environment::Container => LogFormat::Json,
                Environment::Workstation => LogFormat::Text,
            }),
            Some("json") => Ok(LogFormat::Json),
            Some("text") => Ok(LogFormat::Text),
            Some(other) => Err(problem(
                "UPKEEP_LOG_FORMAT",
                format!("{other:?} is not one of json, text"),
            )),
        };

        let log_level = parse_log_level(
            &value("UPKEEP_LOG_LEVEL", &file.log_level).unwrap_or_else(|| "info".into()),
        );
        let advisory_refresh = value(
            "UPKEEP_ADVISORY_REFRESH_MINUTES",
            &toml_text(&file.advisory_refresh_minutes),
        )
        .map(|m| parse_advisory_refresh(&m))
        .transpose();
        let bench_retention_days = value(
            "UPKEEP_BENCH_RETENTION_DAYS",
            &toml_text(&file.bench_retention_days),
        )
        .map(|d| parse_bench_retention(&d))
        .transpose();
        let ops_repo = value("UPKEEP_OPS_REPO", &file.ops_repo)
            .map(parse_ops_repo)
            .transpose();
        let alert_webhook = value("UPKEEP_ALERT_WEBHOOK", &file.alert_webhook)
            .map(|u| parse_url("UPKEEP_ALERT_WEBHOOK", u))
            .transpose();
        let daily_window = value("UPKEEP_DAILY_WINDOW", &file.daily_window)
            .map(|w| parse_daily_window(&w))
            .transpose();
        let workers = match value("UPKEEP_WORKERS", &toml_text(&file.workers)) {
            None => Ok(super::cpus::default_workers()),
            Some(w) => parse_workers(&w),
        };

        let index_url = parse_url(
            "UPKEEP_INDEX_URL",
            value("UPKEEP_INDEX_URL", &file.index_url)
                .map(|u| u.strip_prefix("sparse+").unwrap_or(&u).to_owned())
                .unwrap_or_else(|| crate::index::CRATES_IO.into()),
        );

        let advisory_db = value("UPKEEP_ADVISORY_DB", &file.advisory_db).map(PathBuf::from);
        if let Some(dir) = &advisory_db {
            if !dir.join("crates").is_dir() {
                problems.push(problem(
                    "UPKEEP_ADVISORY_DB",
                    format!(
                        "{} is not a RustSec advisory database (no crates/ directory)",
                        dir.display()
                    ),
                ));
            }
        }

        let advisory_db_url = value("UPKEEP_ADVISORY_DB_URL", &file.advisory_db_url)
            .unwrap_or_else(|| crate::audit::source::DEFAULT_URL.to_owned());
        let git_hosts: Vec<String> = value("UPKEEP_GIT_HOSTS", &file.git_hosts)
            .map(|v| {
                v.split(',')
                    .map(|h| h.trim().to_ascii_lowercase())
                    .filter(|h| !h.is_empty())
                    .collect()
            })
            .unwrap_or_default();

        let app = load_app(env, &file, &data_dir, &mut problems);
        let slug = match value("UPKEEP_SLUG", &file.slug) {
            Some(s)
                if !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
            {
                s.to_owned()
            }
            Some(s) => {
                problems.push(problem(
                    "UPKEEP_SLUG",
                    format!("`{s}` is not a GitHub App slug (letters, digits, `-`)"),
                ));
                String::new()
            }
            None => std::fs::read_to_string(data_dir.join(CREDENTIALS_FILE))
                .ok()
                .and_then(|t| serde_json::from_str::<StoredCredentials>(&t).ok())
                .and_then(|c| c.slug)
                .unwrap_or_else(|| "upkeep".to_owned()),
        };

        let listen = listen.map_err(|p| problems.push(p)).ok();
        let github_api_url = github_api_url.map_err(|p| problems.push(p)).ok();
        let github_web_url = github_web_url.map_err(|p| problems.push(p)).ok();
        let public_url = public_url.map_err(|p| problems.push(p)).ok();
        let log_format = log_format.map_err(|p| problems.push(p)).ok();
        let log_level = log_level.map_err(|p| problems.push(p)).ok();
        let advisory_refresh = advisory_refresh.map_err(|p| problems.push(p)).ok();
        let bench_retention_days = bench_retention_days.map_err(|p| problems.push(p)).ok();
        let ops_repo = ops_repo.map_err(|p| problems.push(p)).ok();
        let alert_webhook = alert_webhook.map_err(|p| problems.push(p)).ok();
        let daily_window = daily_window.map_err(|p| problems.push(p)).ok();
        let workers = workers.map_err(|p| problems.push(p)).ok();
        let index_url = index_url.map_err(|p| problems.push(p)).ok();

        match (
            listen,
            github_api_url,
            github_web_url,
            public_url,
            log_format,
            workers,
            index_url,
            log_level,
            advisory_refresh,
            bench_retention_days,
            ops_repo,
            alert_webhook,
            daily_window,
        ) {
            (
                Some(listen),
                Some(github_api_url),
                Some(github_web_url),
                Some(public_url),
                Some(log_format),
                Some(workers),
                Some(index_url),
                Some(log_level),
                Some(advisory_refresh),
                Some(bench_retention_days),
                Some(ops_repo),
                Some(alert_webhook),
                Some(daily_window),
            ) if problems.is_empty() => Ok(Settings {
                listen,
                database_url,
                data_dir,
                github_api_url,
                github_web_url,
                public_url,
                app,
                log_format,
                log_level,
                workers,
                advisory_refresh,
                bench_retention_days,
                ops_repo,
                alert_webhook,
                daily_window: daily_window.unwrap_or_default(),
                index_url,
                advisory_db,
                advisory_db_url,
                git_hosts,
                slug,
                config_path: env.get("UPKEEP_CONFIG").map(PathBuf::from),
                env_set: env
                    .iter()
                    .filter(|(k, v)| k.starts_with("UPKEEP_") && !v.is_empty())
                    .map(|(k, _)| k.clone())
                    .collect(),
            }),
            _ => Err(SettingsError(problems)),
        }
    }

    /// Path of the credentials file in the data directory.
    pub fn credentials_path(&self) -> PathBuf {
        self.data_dir.join(CREDENTIALS_FILE)
    }
}

/// `https://<app>.fly.dev` from `FLY_APP_NAME` (a Fly.io app's public address), when it is a
/// valid app name.
fn fly_public_url(env: &HashMap<String, String>) -> Option<String> {
    let name = env.get("FLY_APP_NAME")?;
    let valid = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    valid.then(|| format!("https://{name}.fly.dev"))
}

/// The `UPKEEP_CONFIG` file parsed, or what is wrong with it and where (line and column, the
/// line itself never shown: it may hold a secret).
pub(crate) fn parse_file(text: &str) -> Result<FileSettings, String> {
    toml::from_str::<FileSettings>(text).map_err(|e| match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.chars().rev().take_while(|c| *c != '\n').count() + 1;
            format!("line {line}, column {column}: {}", e.message())
        }
        None => e.message().to_owned(),
    })
}

/// `UPKEEP_WORKERS`: a whole number from 1 to 256.
pub(crate) fn parse_workers(w: &str) -> Result<usize, Problem> {
    match w.trim().parse::<usize>() {
        Ok(n) if (1..=256).contains(&n) => Ok(n),
        _ => Err(problem(
            "UPKEEP_WORKERS",
            format!("{w:?} is not a whole number from 1 to 256"),
        )),
    }
}

/// A file value as the environment would give it (`4` and `"4"` alike).
pub(crate) fn toml_text(v: &Option<toml::Value>) -> Option<String> {
    v.as_ref().map(|v| match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// `owner/name` with GitHub's characters.
fn is_repo_name(name: &str) -> bool {
    let ok = |part: &str| {
        !part.is_empty()
            && part.len() <= 100
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    matches!(name.split_once('/'), Some((owner, repo)) if ok(owner) && ok(repo))
}

/// `UPKEEP_OPS_REPO`: `owner/name`.
pub(crate) fn parse_ops_repo(name: String) -> Result<String, Problem> {
    if is_repo_name(&name) {
        Ok(name)
    } else {
        Err(problem(
            "UPKEEP_OPS_REPO",
            "is not a repository as owner/name".to_owned(),
        ))
    }
}

/// `UPKEEP_DAILY_WINDOW`: `HH:MM-HH:MM`, UTC.
pub(crate) fn parse_daily_window(w: &str) -> Result<crate::queue::window::DailyWindow, Problem> {
    crate::queue::window::DailyWindow::parse(w).map_err(|m| problem("UPKEEP_DAILY_WINDOW", m))
}

/// `UPKEEP_ADVISORY_REFRESH_MINUTES`: 5 to 1440.
pub(crate) fn parse_advisory_refresh(m: &str) -> Result<std::time::Duration, Problem> {
    match m.trim().parse::<u64>() {
        Ok(n) if (5..=1440).contains(&n) => Ok(std::time::Duration::from_secs(n * 60)),
        _ => Err(problem(
            "UPKEEP_ADVISORY_REFRESH_MINUTES",
            format!("{m:?} is not a whole number of minutes from 5 to 1440"),
        )),
    }
}

/// `UPKEEP_BENCH_RETENTION_DAYS`: 7 to 3650.
pub(crate) fn parse_bench_retention(d: &str) -> Result<u64, Problem> {
    match d.trim().parse::<u64>() {
        Ok(n) if (7..=3650).contains(&n) => Ok(n),
        _ => Err(problem(
            "UPKEEP_BENCH_RETENTION_DAYS",
            format!("{d:?} is not a whole number of days from 7 to 3650"),
        )),
    }
}

/// `UPKEEP_LOG_LEVEL`: a level or `tracing` filter directives, checked as the logger reads them.
/// Each comma-separated part is a level, or `target=level`: a bare word that is not a level
/// (which `tracing` would take for a target) is a mistake here.
pub(crate) fn parse_log_level(level: &str) -> Result<String, Problem> {
    const LEVELS: &[&str] = &["off", "error", "warn", "info", "debug", "trace"];
    let is_level = |l: &str| LEVELS.contains(&l.trim().to_ascii_lowercase().as_str());
    let parts_ok = level.split(',').all(|part| match part.split_once('=') {
        Some((target, l)) => !target.trim().is_empty() && is_level(l),
        None => is_level(part),
    });
    match tracing_subscriber::EnvFilter::try_new(level) {
        Ok(_) if parts_ok => Ok(level.trim().to_owned()),
        _ => Err(problem(
            "UPKEEP_LOG_LEVEL",
            "is not a log level (error, warn, info, debug, trace) or filter directives".to_owned(),
        )),
    }
}

fn problem(variable: &'static str, message: String) -> Problem {
    Problem { variable, message }
}

pub(crate) fn parse_url(variable: &'static str, text: String) -> Result<url::Url, Problem> {
    match url::Url::parse(&text) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => Ok(u),
        Ok(_) => Err(problem(
            variable,
            format!("{text:?} must be an http(s) URL"),
        )),
        Err(e) => Err(problem(variable, format!("{text:?} is not a URL: {e}"))),
    }
}

/// App id, key and webhook secret: from variables or the file, else from the credentials file the
/// setup flow wrote; absent altogether means first-run setup mode.
fn load_app(
    env: &HashMap<String, String>,
    file: &FileSettings,
    data_dir: &Path,
    problems: &mut Vec<Problem>,
) -> Option<AppCredentials> {
    let get = |var: &str, from_file: &Option<String>| {
        env.get(var)
            .filter(|v| !v.is_empty())
            .cloned()
            .or_else(|| from_file.clone())
    };
    let app_id_text = get(
        "UPKEEP_APP_ID",
        &file.app_id.as_ref().map(|v| match v {
            toml::Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
    );
    let key_inline = get("UPKEEP_PRIVATE_KEY", &file.private_key);
    let key_path = get("UPKEEP_PRIVATE_KEY_PATH", &file.private_key_path);
    let private_key_path = key_path.as_ref().map(PathBuf::from);
    let secret = get("UPKEEP_WEBHOOK_SECRET", &file.webhook_secret);

    if app_id_text.is_none() && key_inline.is_none() && key_path.is_none() && secret.is_none() {
        return load_stored_credentials(&data_dir.join(CREDENTIALS_FILE), problems);
    }

    let before = problems.len();
    let app_id = match app_id_text {
        None => {
            problems.push(problem(
                "UPKEEP_APP_ID",
                "is required once any app credential is set".into(),
            ));
            None
        }
        Some(text) => match text.trim().parse::<u64>() {
            Ok(id) if id > 0 => Some(id),
            _ => {
                problems.push(problem(
                    "UPKEEP_APP_ID",
                    format!("{text:?} is not a positive number"),
                ));
                None
            }
        },
    };
    let private_key = match (key_inline, key_path) {
        (Some(_), Some(_)) => {
            problems.push(problem(
                "UPKEEP_PRIVATE_KEY",
                "set either UPKEEP_PRIVATE_KEY or UPKEEP_PRIVATE_KEY_PATH, not both".into(),
            ));
            None
        }
        (Some(pem), None) => check_pem("UPKEEP_PRIVATE_KEY", pem.replace("\\n", "\n"), problems),
        (None, Some(path)) => match std::fs::read_to_string(&path) {
            Ok(pem) => check_pem("UPKEEP_PRIVATE_KEY_PATH", pem, problems),
            Err(e) => {
                problems.push(problem(
                    "UPKEEP_PRIVATE_KEY_PATH",
                    format!("cannot read {path}: {e}"),
                ));
                None
            }
        },
        (None, None) => {
            problems.push(problem(
                "UPKEEP_PRIVATE_KEY",
                "is required (or UPKEEP_PRIVATE_KEY_PATH naming a PEM file)".into(),
            ));
            None
        }
    };
    let webhook_secret = match secret {
        Some(s) if s.len() >= 16 => Some(SecretString::from(s)),
        Some(_) => {
            problems.push(problem(
                "UPKEEP_WEBHOOK_SECRET",
                "must be at least 16 characters".into(),
            ));
            None
        }
        None => {
            problems.push(problem(
                "UPKEEP_WEBHOOK_SECRET",
                "is required once the app id is set".into(),
            ));
            None
        }
    };
    let webhook_secret_previous = match get(
        "UPKEEP_WEBHOOK_SECRET_PREVIOUS",
        &file.webhook_secret_previous,
    ) {
        Some(s) if s.len() >= 16 => Some(SecretString::from(s)),
        Some(_) => {
            problems.push(problem(
                "UPKEEP_WEBHOOK_SECRET_PREVIOUS",
                "must be at least 16 characters".into(),
            ));
            None
        }
        None => None,
    };
    if problems.len() > before {
        return None;
    }
    Some(AppCredentials {
        app_id: app_id?,
        private_key: private_key?,
        webhook_secret: webhook_secret?,
        webhook_secret_previous,
        private_key_path,
    })
}

fn check_pem(
    variable: &'static str,
    pem: String,
    problems: &mut Vec<Problem>,
) -> Option<SecretString> {
    match jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()) {
        Ok(_) => Some(SecretString::from(pem)),
        Err(e) => {
            problems.push(problem(
                variable,
                format!("is not an RSA private key in PEM form ({e})"),
            ));
            None
        }
    }
}

fn load_stored_credentials(path: &Path, problems: &mut Vec<Problem>) -> Option<AppCredentials> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            problems.push(problem(
                "UPKEEP_DATA_DIR",
                format!("cannot read {}: {e}", path.display()),
            ));
            return None;
        }
    };
    match serde_json::from_str::<StoredCredentials>(&text) {
        Ok(stored) => Some(AppCredentials {
            app_id: stored.app_id,
            private_key: check_pem("UPKEEP_DATA_DIR", stored.pem, problems)?,
            webhook_secret: SecretString::from(stored.webhook_secret),
            webhook_secret_previous: None,
            private_key_path: None,
        }),
        Err(e) => {
            problems.push(problem(
                "UPKEEP_DATA_DIR",
                format!("{} is not a valid credentials file: {e}", path.display()),
            ));
            None
        }
    }
}

/// Writes the credentials the manifest flow returned, readable by the owner only.
pub fn write_credentials(path: &Path, creds: &StoredCredentials) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("json.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(serde_json::to_string_pretty(creds)?.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

impl AppCredentials {
    /// The webhook secret's bytes, for the HMAC check only.
    pub fn webhook_secret_bytes(&self) -> &[u8] {
        self.webhook_secret.expose_secret().as_bytes()
    }

    /// The secrets a delivery may be signed with: the current one, then the previous one.
    pub fn webhook_secrets(&self) -> Vec<&[u8]> {
        std::iter::once(self.webhook_secret_bytes())
            .chain(
                self.webhook_secret_previous
                    .as_ref()
                    .map(|s| s.expose_secret().as_bytes()),
            )
            .collect()
    }
}
