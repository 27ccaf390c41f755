//! The `upkeep` command line: a thin edge over the library.

use anyhow::Context;
use clap::{Parser, Subcommand};

use upkeep::server::settings::Settings;
use upkeep::server::{self, Background};
use upkeep::store::Store;

// mimalloc: webhook intake allocates a few buffers per delivery (body, header map, compressed
// payload, bound parameters) across tokio threads; against glibc malloc it served 3.7 % more
// deliveries per second (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "upkeep",
    version,
    about = "Keeps Rust repositories healthy: a GitHub App."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the GitHub App server: webhooks, job workers and the daily scheduler.
    Serve,
    /// Print the GitHub App manifest as JSON (URLs from UPKEEP_PUBLIC_URL).
    Manifest,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Preview on a local checkout what upkeep would do: the dependency plan, as text or JSON.
    Check {
        /// The repository's root directory.
        #[arg(default_value = ".")]
        path: std::path::PathBuf,
        /// The sparse index to read versions from.
        #[arg(long, env = "UPKEEP_INDEX_URL", default_value = upkeep::index::CRATES_IO)]
        index: String,
        /// A local RustSec advisory database: each update lists the advisories it fixes.
        #[arg(long, env = "UPKEEP_ADVISORY_DB")]
        advisory_db: Option<std::path::PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Write the planned manifests and the lockfile cargo resolves for them into the work tree.
        #[arg(long)]
        apply: bool,
    },
    /// List queued, running, failed and dead jobs.
    Jobs {
        /// Only these states (queued, running, failed, dead, quarantined, done); repeatable.
        #[arg(long = "state")]
        states: Vec<String>,
        /// At most this many jobs.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// The self-tuning alerts, offline.
    Alerts {
        #[command(subcommand)]
        command: AlertsCommand,
    },
}

#[derive(Subcommand)]
enum AlertsCommand {
    /// Run the alert core over a trace of JSON lines {"t", "signal", "value"} (time order, one
    /// sample a minute per signal) and print one JSON line per event
    /// {"t", "signal", "event": "open"|"close", "value", "threshold"}.
    Replay {
        /// The trace; `-` reads standard input.
        file: std::path::PathBuf,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(run(cli));
    // Blocking threads (a comment being parsed, cargo resolving) are not waited for: the
    // server's own shutdown deadline has passed by now.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Manifest => {
            let public = std::env::var("UPKEEP_PUBLIC_URL")
                .unwrap_or_else(|_| "http://127.0.0.1:3000".into());
            let url = url::Url::parse(&public).context("UPKEEP_PUBLIC_URL is not a URL")?;
            println!(
                "{}",
                serde_json::to_string_pretty(&upkeep::app_manifest::manifest(&url)?)?
            );
            Ok(())
        }
        Command::Serve => {
            let settings = Settings::from_env()?;
            upkeep::server::telemetry::init_logging(settings.log_format, &settings.log_level);
            server::serve(settings, Background::default(), shutdown_signal()).await?;
            Ok(())
        }
        Command::Alerts {
            command: AlertsCommand::Replay { file },
        } => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let samples = if file.as_os_str() == "-" {
                upkeep::alerts::replay::replay(std::io::stdin().lock(), &mut out)
            } else {
                let f = std::fs::File::open(&file)
                    .with_context(|| format!("opening {}", file.display()))?;
                upkeep::alerts::replay::replay(std::io::BufReader::new(f), &mut out)
            }
            .with_context(|| format!("replaying {}", file.display()))?;
            std::io::Write::flush(&mut out)?;
            eprintln!("{samples} samples replayed");
            Ok(())
        }
        Command::Migrate => {
            let settings = Settings::from_env()?;
            Store::open(&settings.database_url).await?;
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Check {
            path,
            index,
            advisory_db,
            format,
            apply,
        } => {
            let client = upkeep::index::IndexClient::new(
                &index,
                std::time::Duration::from_secs(30),
                std::time::Duration::from_secs(300),
            )?;
            // Locally, a private registry on the user's own network is theirs to read.
            let registries = upkeep::index::registries::Registries::new(client.clone())
                .allow_private_hosts(true);
            let db = advisory_db
                .map(|dir| upkeep::audit::AdvisoryDb::open(&dir))
                .transpose()?;
            let report = upkeep::check::run(&path, &registries, db.as_ref()).await?;
            match format {
                Format::Text => print!("{}", upkeep::check::render::text(&report)),
                Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
            }
            if apply {
                let resolver = upkeep::cargo::Resolver {
                    index: (client.base().as_str() != upkeep::index::CRATES_IO)
                        .then(|| client.base().to_string()),
                    ..upkeep::cargo::Resolver::default()
                };
                for file in upkeep::check::apply(&path, &report, &resolver).await? {
                    eprintln!("updated {file}");
                }
            }
            Ok(())
        }
        Command::Jobs { states, limit } => {
            let settings = Settings::from_env()?;
            let store = Store::open(&settings.database_url).await?;
            let states: Vec<&str> = if states.is_empty() {
                vec!["queued", "running", "failed", "dead", "quarantined"]
            } else {
                states.iter().map(String::as_str).collect()
            };
            for s in &states {
                anyhow::ensure!(
                    upkeep::store::jobs::STATES.contains(s),
                    "unknown state {s:?}; one of {:?}",
                    upkeep::store::jobs::STATES
                );
            }
            let jobs = store.list_jobs(&states, limit).await?;
            println!(
                "{:>8}  {:<11}  {:<10}  {:>8}  {:<24}  {:<40}  last error",
                "id", "state", "kind", "attempts", "run at (UTC)", "key"
            );
            for j in &jobs {
                let run_at = chrono::DateTime::from_timestamp_millis(j.run_at)
                    .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_default();
                println!(
                    "{:>8}  {:<11}  {:<10}  {:>5}/{:<2}  {:<24}  {:<40}  {}",
                    j.id,
                    j.state,
                    j.kind,
                    j.attempts,
                    j.max_attempts,
                    run_at,
                    j.dedupe_key,
                    j.last_error.as_deref().unwrap_or("")
                );
            }
            for (state, n) in store.job_counts().await? {
                eprintln!("{state}: {n}");
            }
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
