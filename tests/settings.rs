//! Settings from the environment and an optional TOML file: defaults by where the process
//! runs, every problem reported at once without a secret, the file filling in under the
//! environment, and the slug people mention.
use std::collections::HashMap;

use upkeep::server::settings::{Environment, LogFormat, Settings};

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_follow_the_environment_kind() {
    let dir = tempfile::tempdir().unwrap();
    let e = env(&[("UPKEEP_DATA_DIR", dir.path().to_str().unwrap())]);
    let ws = Settings::load(&e, Environment::Workstation).unwrap();
    assert_eq!(ws.listen.to_string(), "127.0.0.1:3000");
    assert_eq!(ws.database_url, "sqlite://upkeep.db");
    assert!(ws.app.is_none());
    let c = Settings::load(&e, Environment::Container).unwrap();
    assert_eq!(c.listen.to_string(), "0.0.0.0:8080");
    assert_eq!(c.log_format, LogFormat::Json);
}

#[test]
fn every_problem_is_reported_at_once_without_secrets() {
    let e = env(&[
        ("UPKEEP_LISTEN", "nowhere"),
        ("UPKEEP_DATABASE_URL", "mysql://x"),
        ("UPKEEP_APP_ID", "abc"),
        ("UPKEEP_PRIVATE_KEY", "not-a-key-hunter2"),
        ("UPKEEP_WEBHOOK_SECRET", "short-hunter2"),
        ("UPKEEP_GITHUB_API_URL", "ftp://x"),
    ]);
    let err = Settings::load(&e, Environment::Workstation).unwrap_err();
    let vars: Vec<_> = err.0.iter().map(|p| p.variable).collect();
    for v in [
        "UPKEEP_LISTEN",
        "UPKEEP_DATABASE_URL",
        "UPKEEP_APP_ID",
        "UPKEEP_PRIVATE_KEY",
        "UPKEEP_WEBHOOK_SECRET",
        "UPKEEP_GITHUB_API_URL",
    ] {
        assert!(vars.contains(&v), "{v} missing from {err}");
    }
    assert!(
        !err.to_string().contains("hunter2"),
        "a secret leaked: {err}"
    );
}

#[test]
fn a_toml_file_fills_in_and_the_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("upkeep.toml");
    std::fs::write(&path, "listen = \"127.0.0.1:4000\"\nworkers = 2\n").unwrap();
    let e = env(&[
        ("UPKEEP_CONFIG", path.to_str().unwrap()),
        ("UPKEEP_WORKERS", "3"),
        ("UPKEEP_DATA_DIR", dir.path().to_str().unwrap()),
    ]);
    let s = Settings::load(&e, Environment::Workstation).unwrap();
    assert_eq!(s.listen.to_string(), "127.0.0.1:4000");
    assert_eq!(s.workers, 3);
}

#[test]
fn an_unknown_key_in_the_file_is_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("upkeep.toml");
    std::fs::write(&path, "lisen = \"127.0.0.1:4000\"\n").unwrap();
    let e = env(&[("UPKEEP_CONFIG", path.to_str().unwrap())]);
    let err = Settings::load(&e, Environment::Workstation).unwrap_err();
    assert_eq!(err.0[0].variable, "UPKEEP_CONFIG");
    assert!(err.0[0].message.contains("lisen"));
}

#[test]
fn the_slug_people_mention_comes_from_upkeep_slug_else_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let s = Settings::load(&env(&[("UPKEEP_DATA_DIR", d)]), Environment::Workstation).unwrap();
    assert_eq!(s.slug, "upkeep");
    let s = Settings::load(
        &env(&[("UPKEEP_DATA_DIR", d), ("UPKEEP_SLUG", "keeper-acme")]),
        Environment::Workstation,
    )
    .unwrap();
    assert_eq!(s.slug, "keeper-acme");
    let err = Settings::load(
        &env(&[("UPKEEP_DATA_DIR", d), ("UPKEEP_SLUG", "@keeper")]),
        Environment::Workstation,
    )
    .unwrap_err();
    assert!(err.to_string().contains("UPKEEP_SLUG"), "{err}");
}

#[test]
fn on_fly_io_the_public_url_comes_from_the_app_name_unless_it_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let fly = Settings::load(
        &env(&[("UPKEEP_DATA_DIR", data), ("FLY_APP_NAME", "upkeep-prod")]),
        Environment::Container,
    )
    .unwrap();
    assert_eq!(
        fly.public_url.unwrap().as_str(),
        "https://upkeep-prod.fly.dev/"
    );
    let set = Settings::load(
        &env(&[
            ("UPKEEP_DATA_DIR", data),
            ("FLY_APP_NAME", "upkeep-prod"),
            ("UPKEEP_PUBLIC_URL", "https://bot.example.org"),
        ]),
        Environment::Container,
    )
    .unwrap();
    assert_eq!(set.public_url.unwrap().as_str(), "https://bot.example.org/");
    let odd = Settings::load(
        &env(&[("UPKEEP_DATA_DIR", data), ("FLY_APP_NAME", "not a name/x")]),
        Environment::Container,
    )
    .unwrap();
    assert!(odd.public_url.is_none());
}
