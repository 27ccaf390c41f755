//! Memory under unauthenticated load, measured on the real binary: anyone on the internet can
//! POST to /webhook, so 20 concurrent 24 MB bodies with a forged signature must be refused
//! without the server's memory growing by more than 128 MiB (they used to be read whole first:
//! 366–442 MiB, kept). The figure is printed and recorded in docs/SECURITY.md.

mod common;

use std::time::Duration;

use common::binary::{kib, start};

/// A `ping` signed with the test secret, as GitHub sends one.
async fn signed_ping(http: &reqwest::Client, base: &str, ping: &[u8]) -> reqwest::Response {
    http.post(format!("{base}/webhook"))
        .header("x-github-event", "ping")
        .header("x-github-delivery", common::unique_delivery())
        .header(
            "x-hub-signature-256",
            upkeep::webhook::sign(common::SECRET.as_bytes(), ping),
        )
        .body(ping.to_vec())
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_forged_24_mb_bodies_are_refused_within_128_mib_of_memory() {
    let db = common::TestDb::sqlite();
    let data = tempfile::tempdir().unwrap();
    let server = start(&db, data.path(), "http://127.0.0.1:9").await;
    let pid = server.child.id();
    // Warm the server up with one real delivery, so the baseline includes what any use costs.
    let http = reqwest::Client::new();
    let ping = br#"{"zen":"Anything added dilutes everything else.","hook_id":1}"#;
    let warm = signed_ping(&http, &server.base, ping).await;
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
    let after = signed_ping(&http, &server.base, ping).await;
    assert_eq!(after.status(), 200);
    assert!(db.store().await.count_deliveries().await.unwrap() == 2);
}
