//! Per-delivery cost on the webhook path: signature check, envelope parse, and the whole intake
//! (check + parse + store with its job) into a SQLite file, alone and in a burst of 64.
//! Run: `cargo bench --bench webhook`.

use std::path::PathBuf;

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
// The allocator the server runs with (src/main.rs), so the benchmarks measure what production
// does; it also narrowed the spread between runs of the same code (docs/PERFORMANCE.md,
// "Reducing the noise upkeep owns").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use http::HeaderMap;
use upkeep::store::Store;
use upkeep::webhook::{self, events::Envelope, writer::DeliveryWriter};

const SECRET: &[u8] = b"bench-webhook-secret-0123456789";

fn push_payload() -> Vec<u8> {
    let shared = std::env::var_os("UPKEEP_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let path = shared.join("github-webhooks/push/payload.json");
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (set UPKEEP_SHARED_DIR)", path.display()))
}

fn bench(c: &mut Criterion) {
    let body = push_payload();
    let signature = webhook::sign(SECRET, &body);
    let mut group = c.benchmark_group("webhook");
    group.throughput(Throughput::Bytes(body.len() as u64));

    group.bench_function("verify_signature", |b| {
        b.iter(|| webhook::verify(SECRET, &body, Some(signature.as_bytes())).unwrap())
    });
    group.bench_function("parse_envelope", |b| {
        b.iter(|| serde_json::from_slice::<Envelope>(&body).unwrap())
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = runtime.block_on(Store::open(&url)).unwrap();
    let writer = runtime.block_on(async {
        DeliveryWriter::start(
            store.clone(),
            webhook::DELIVERY_JOB,
            upkeep::heal::dependencies::Dependencies::new(std::time::Duration::from_secs(3600))
                .database,
        )
    });
    let body = Bytes::from(body);
    let counter = AtomicU64::new(0);
    let one = |writer: DeliveryWriter, body: Bytes, n: u64| {
        let mut headers = HeaderMap::new();
        headers.insert("x-hub-signature-256", signature.parse().unwrap());
        headers.insert("x-github-event", "push".parse().unwrap());
        headers.insert("x-github-delivery", format!("bench-{n}").parse().unwrap());
        async move {
            match webhook::ingest(&writer, SECRET, &headers, body, upkeep::time::now_ms()).await {
                webhook::Outcome::Accepted { .. } => {}
                other => panic!("{other:?}"),
            }
        }
    };
    // One delivery at a time: the latency of a lone delivery.
    group.bench_function("ingest_sqlite", |b| {
        b.to_async(&runtime).iter(|| {
            one(
                writer.clone(),
                body.clone(),
                counter.fetch_add(1, Ordering::Relaxed),
            )
        })
    });
    // A burst of 64 at once, as under load: group commit shares transactions among them.
    group.throughput(Throughput::Elements(64));
    group.bench_function("ingest_sqlite_burst_64", |b| {
        b.to_async(&runtime).iter(|| async {
            let tasks: Vec<_> = (0..64)
                .map(|_| {
                    tokio::spawn(one(
                        writer.clone(),
                        body.clone(),
                        counter.fetch_add(1, Ordering::Relaxed),
                    ))
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
