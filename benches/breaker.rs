//! What the circuit breaker and the adaptive limiter cost a pass. A pass is GitHub requests;
//! the breaker adds one `admit` and one `record` to each, the limiter one `record` of the
//! answer (and each job one pass through the gate). Measured: that pair alone (with 1,000 installations'
//! breakers in the map, as a large deployment holds), and one whole request through the
//! transport to a loopback server, the cheapest request a pass can ever make (GitHub's own take
//! 50–300 ms). The ratio of the two bounds the breaker's share of a pass from above.
//! Run: `cargo bench --bench breaker`. Target (issue 21): both together < 2% of a pass.

use criterion::{criterion_group, criterion_main, Criterion};
use http::Method;
use upkeep::github::{Auth, RetryPolicy, Transport};
use upkeep::heal::aimd::AimdPolicy;
use upkeep::heal::breaker::BreakerPolicy;
use upkeep::heal::breakers::Breakers;
use upkeep::heal::workers::WorkerLimit;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn breaker(c: &mut Criterion) {
    let breakers = Breakers::new("github", BreakerPolicy::default());
    let scopes: Vec<String> = (0..1000).map(|i| format!("installation:{i}")).collect();
    for scope in &scopes {
        breakers.record(scope, None);
    }
    let mut i = 0usize;
    c.bench_function("breaker/admit_and_record", |b| {
        b.iter(|| {
            i = (i + 7) % scopes.len();
            let scope = &scopes[i];
            let admission = breakers.admit(scope);
            breakers.record(scope, None);
            admission
        })
    });

    // The limiter: each answer feeds the adaptive limit, each job passes the gate.
    let limit = WorkerLimit::new(8, AimdPolicy::default());
    let gate = limit.gate();
    c.bench_function("limiter/record_and_gate", |b| {
        b.iter(|| {
            limit.record(std::time::Duration::from_millis(120), false);
            gate.try_enter().is_some()
        })
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let server = runtime.block_on(async {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
            .mount(&server)
            .await;
        server
    });
    let url = url::Url::parse(&server.uri()).expect("url");
    // octocrab's client needs a runtime to be built in.
    let _entered = runtime.enter();
    let transport = Transport::new(&url, RetryPolicy::default()).expect("transport");
    c.bench_function("breaker/loopback_request", |b| {
        b.to_async(&runtime).iter(|| async {
            transport
                .send(&Auth::None, Method::GET, "/repos/o/r", None)
                .await
                .expect("answer")
                .status
        })
    });
}

criterion_group!(benches, breaker);
criterion_main!(benches);
