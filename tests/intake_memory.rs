//! Memory under unauthenticated load, measured on the real binary: anyone on the internet can
//! POST to /webhook, so 20 concurrent 24 MB bodies with a forged signature must be refused
//! without the server's memory growing by more than 128 MiB (they used to be read whole first:
//! 366–442 MiB, kept). The figure is printed and recorded in docs/SECURITY.md.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `/proc/<pid>/status` field in KiB (`VmRSS`, `VmHWM`).
fn kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

async fn start(db: &common::TestDb, data: &std::path::Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_upkeep"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("UPKEEP_LISTEN", format!("127.0.0.1:{port}"))
        .env("UPKEEP_DATABASE_URL", &db.url)
        .env("UPKEEP_DATA_DIR", data)
        .env("UPKEEP_APP_ID", common::APP_ID.to_string())
        .env("UPKEEP_PRIVATE_KEY_PATH", common::private_key_path())
        .env("UPKEEP_WEBHOOK_SECRET", common::SECRET)
        .env("UPKEEP_GITHUB_API_URL", "http://127.0.0.1:9")
        .env(
            "UPKEEP_ADVISORY_DB",
            common::repo_root().join("tests/fixtures/advisory-db"),
        )
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    for _ in 0..400 {
        if let Ok(r) = http.get(format!("{}/healthz", server.base)).send().await {
            if r.status().is_success() {
                return server;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the server did not start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_forged_24_mb_bodies_are_refused_within_128_mib_of_memory() {
    let db = common::TestDb::sqlite();
    let data = tempfile::tempdir().unwrap();
    let server = start(&db, data.path()).await;
    let pid = server.child.id();
    // Warm the server up with one real delivery, so the baseline includes what any use costs.
    let http = reqwest::Client::new();
    let ping = br#"{"zen":"Anything added dilutes everything else.","hook_id":1}"#;
    let warm = http
        .post(format!("{}/webhook", server.base))
        .header("x-github-event", "ping")
        .header("x-github-delivery", common::unique_delivery())
        .header(
            "x-hub-signature-256",
            upkeep::webhook::sign(common::SECRET.as_bytes(), ping),
        )
        .body(ping.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status(), 200);
    let baseline = kib(pid, "VmRSS");

    let body = bytes::Bytes::from(vec![b'a'; 24 * 1000 * 1000]);
    let forged = format!("sha256={}", "0".repeat(64));
    let requests: Vec<_> = (0..20)
        .map(|_| {
            let http = http.clone();
            let url = format!("{}/webhook", server.base);
            let body = body.clone();
            let forged = forged.clone();
            tokio::spawn(async move {
                http.post(url)
                    .header("x-github-event", "issues")
                    .header("x-github-delivery", common::unique_delivery())
                    .header("x-hub-signature-256", forged)
                    .body(body)
                    .timeout(Duration::from_secs(120))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for r in requests {
        statuses.push(r.await.unwrap());
    }
    let peak = kib(pid, "VmHWM");
    let growth_mib = peak.saturating_sub(baseline) / 1024;
    println!(
        "20 forged 24 MB bodies: statuses {statuses:?}; RSS {} MiB before, peak {} MiB, growth {growth_mib} MiB",
        baseline / 1024,
        peak / 1024
    );
    assert!(
        statuses.iter().all(|s| matches!(s, 0 | 401 | 503)),
        "a forged body was accepted: {statuses:?}"
    );
    assert!(
        statuses.contains(&401),
        "no body was read to its end and refused: {statuses:?}"
    );
    assert!(growth_mib <= 128, "memory grew by {growth_mib} MiB");

    // A real delivery still gets in afterwards.
    let after = http
        .post(format!("{}/webhook", server.base))
        .header("x-github-event", "ping")
        .header("x-github-delivery", common::unique_delivery())
        .header(
            "x-hub-signature-256",
            upkeep::webhook::sign(common::SECRET.as_bytes(), ping),
        )
        .body(ping.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 200);
    assert!(db.store().await.count_deliveries().await.unwrap() == 2);
}
