//! POST /webhook through the real server: every real GitHub payload is accepted and stored under
//! the right event, action and repository; anything unsigned, wrongly signed or altered is
//! refused and stores nothing; malformed input gets a clear 400; a redelivery is processed once.

mod common;

use common::{eventually, unique_delivery, TestDb, TestServer};
use serde_json::Value;

fn real_payloads() -> Option<Vec<(String, String, Vec<u8>)>> {
    let shared = common::shared_dir()?;
    let mut out = Vec::new();
    for event_dir in std::fs::read_dir(shared.join("github-webhooks")).unwrap() {
        let event_dir = event_dir.unwrap().path();
        if !event_dir.is_dir() {
            continue;
        }
        let event = event_dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for file in std::fs::read_dir(&event_dir).unwrap() {
            let file = file.unwrap().path();
            if file.extension().is_some_and(|e| e == "json") {
                let name = file.file_name().unwrap().to_string_lossy().into_owned();
                out.push((event.clone(), name, std::fs::read(&file).unwrap()));
            }
        }
    }
    out.sort();
    assert!(
        out.len() > 100,
        "expected the whole corpus, found {}",
        out.len()
    );
    Some(out)
}

#[tokio::test]
async fn every_real_payload_is_stored_with_its_event_action_and_repository() {
    let Some(payloads) = real_payloads() else {
        return;
    };
    let db = TestDb::sqlite();
    let server = TestServer::start(common::settings(&db.url, &[])).await;
    let store = db.store().await;
    for (event, name, body) in &payloads {
        let delivery = unique_delivery();
        let response = server.deliver(event, &delivery, body).await;
        assert!(
            response.status().is_success(),
            "{event}/{name}: {}",
            response.status()
        );
        let json: Value = serde_json::from_slice(body).unwrap();
        let stored = store
            .delivery(&delivery)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{event}/{name} was not stored"));
        assert_eq!(stored.event, *event, "{name}");
        assert_eq!(
            stored.action.as_deref(),
            json["action"].as_str(),
            "{event}/{name}"
        );
        assert_eq!(
            stored.repository.as_deref(),
            json["repository"]["full_name"].as_str(),
            "{event}/{name}"
        );
        assert_eq!(
            stored.installation_id,
            json["installation"]["id"].as_i64(),
            "{event}/{name}"
        );
        assert_eq!(
            stored.payload.as_bytes(),
            body.as_slice(),
            "{event}/{name}: payload altered"
        );
        let expected = if event == "ping" || !upkeep::webhook::events::is_handled(event) {
            200
        } else {
            202
        };
        assert_eq!(response.status().as_u16(), expected, "{event}/{name}");
    }
    server.stop().await;
}

#[tokio::test]
async fn every_real_payload_parses_into_our_typed_events() {
    let Some(payloads) = real_payloads() else {
        return;
    };
    for (event, name, body) in payloads {
        if let Err(e) = upkeep::webhook::Event::parse(&event, &body) {
            panic!("{event}/{name} does not parse: {e}");
        }
    }
}

#[tokio::test]
async fn unsigned_wrongly_signed_and_altered_copies_are_refused_and_nothing_is_stored() {
    let Some(payloads) = real_payloads() else {
        return;
    };
    let db = TestDb::sqlite();
    let server = TestServer::start(common::settings(&db.url, &[])).await;
    let store = db.store().await;
    for (event, name, body) in &payloads {
        let good = upkeep::webhook::sign(common::SECRET.as_bytes(), body);
        let wrong = upkeep::webhook::sign(b"not-the-secret-at-all", body);
        let mut altered = body.clone();
        let middle = altered.len() / 2;
        altered[middle] ^= 0x01;
        let attempts: [(&[u8], Option<String>); 3] =
            [(body, None), (body, Some(wrong)), (&altered, Some(good))];
        for (i, (sent, signature)) in attempts.into_iter().enumerate() {
            let delivery = unique_delivery();
            let response = server.post_webhook(event, &delivery, sent, signature).await;
            assert_eq!(response.status(), 401, "{event}/{name} copy {i}");
            let error: Value = response.json().await.unwrap();
            assert!(error["error"]
                .as_str()
                .unwrap()
                .contains("X-Hub-Signature-256"));
            assert!(
                store.delivery(&delivery).await.unwrap().is_none(),
                "{event}/{name} copy {i} was stored"
            );
        }
    }
    assert_eq!(store.count_deliveries().await.unwrap(), 0);
    server.stop().await;
}

#[tokio::test]
async fn malformed_json_and_missing_headers_get_a_clear_400() {
    let db = TestDb::sqlite();
    let server = TestServer::start(common::settings(&db.url, &[])).await;
    let store = db.store().await;

    let response = server
        .deliver("push", &unique_delivery(), b"{not json")
        .await;
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert!(error["error"].as_str().unwrap().contains("JSON"), "{error}");

    let body = br#"{"action":"opened"}"#;
    let sig = upkeep::webhook::sign(common::SECRET.as_bytes(), body);
    let no_event = server
        .http
        .post(server.url("/webhook"))
        .header("x-github-delivery", unique_delivery())
        .header("x-hub-signature-256", &sig)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(no_event.status(), 400);
    let error: Value = no_event.json().await.unwrap();
    assert!(error["error"].as_str().unwrap().contains("X-GitHub-Event"));

    let no_delivery = server
        .http
        .post(server.url("/webhook"))
        .header("x-github-event", "issues")
        .header("x-hub-signature-256", &sig)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(no_delivery.status(), 400);
    let error: Value = no_delivery.json().await.unwrap();
    assert!(error["error"]
        .as_str()
        .unwrap()
        .contains("X-GitHub-Delivery"));
    assert_eq!(store.count_deliveries().await.unwrap(), 0);
    server.stop().await;
}

#[tokio::test]
async fn a_body_over_25_mib_gets_413_and_is_not_stored() {
    let db = TestDb::sqlite();
    let server = TestServer::start(common::settings(&db.url, &[])).await;
    let mut body = br#"{"action":"opened","pad":""#.to_vec();
    body.resize(upkeep::server::MAX_WEBHOOK_BODY + 10, b'a');
    body.extend_from_slice(b"\"}");
    let response = server.deliver("issues", &unique_delivery(), &body).await;
    assert_eq!(response.status(), 413);
    assert_eq!(db.store().await.count_deliveries().await.unwrap(), 0);
    server.stop().await;
}

#[tokio::test]
async fn ping_is_answered_200_and_stored() {
    let db = TestDb::sqlite();
    let server = TestServer::start(common::settings(&db.url, &[])).await;
    let delivery = unique_delivery();
    let response = server
        .deliver(
            "ping",
            &delivery,
            br#"{"zen":"Keep it logically awesome.","hook_id":1}"#,
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(db
        .store()
        .await
        .delivery(&delivery)
        .await
        .unwrap()
        .is_some());
    server.stop().await;
}

async fn installation_created_twice_is_processed_once(db: TestDb) {
    let server = TestServer::start(common::settings(&db.url, &[])).await;
    let store = db.store().await;
    let body = br#"{"action":"created","installation":{"id":77,"account":{"id":5,"login":"octo-org","type":"Organization"}},"repositories":[{"id":901,"full_name":"octo-org/lib","private":false}],"sender":{"id":5,"login":"octo-org","type":"Organization"}}"#;
    let delivery = unique_delivery();
    let first = server.deliver("installation", &delivery, body).await;
    assert_eq!(first.status(), 202);
    let second = server.deliver("installation", &delivery, body).await;
    assert_eq!(second.status(), 200);
    let answer: Value = second.json().await.unwrap();
    assert_eq!(answer["status"], "duplicate");

    let job = eventually(10, "the delivery job to finish", || {
        let store = store.clone();
        let key = format!("delivery:{delivery}");
        async move {
            store
                .job_by_key(&key)
                .await
                .unwrap()
                .filter(|j| j.state == "done")
        }
    })
    .await;
    assert_eq!(job.attempts, 1, "processed more than once");
    assert_eq!(
        job.max_attempts,
        upkeep::queue::DEFAULT_MAX_ATTEMPTS,
        "the trigger and the code disagree"
    );
    assert_eq!(job.repository_id, None);
    assert_eq!(store.count_deliveries().await.unwrap(), 1);
    let stored = store.delivery(&delivery).await.unwrap().unwrap();
    assert_eq!(stored.outcome.as_deref(), Some("installation synced"));
    let repos = store.active_repositories().await.unwrap();
    assert_eq!(repos.len(), 1);
    assert_eq!(repos[0].full_name, "octo-org/lib");
    server.stop().await;
}

#[tokio::test]
async fn the_same_delivery_sent_twice_is_processed_once_on_sqlite() {
    installation_created_twice_is_processed_once(TestDb::sqlite()).await;
}

#[tokio::test]
async fn the_same_delivery_sent_twice_is_processed_once_on_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    installation_created_twice_is_processed_once(db).await;
}

#[tokio::test]
async fn installation_events_keep_installations_and_repositories_in_sync() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let db = TestDb::sqlite();
    let server = TestServer::start(common::settings(&db.url, &[])).await;
    let store = db.store().await;
    let hooks = shared.join("github-webhooks");
    let read = |p: &str| std::fs::read(hooks.join(p)).unwrap();
    let created: Value =
        serde_json::from_slice(&read("installation/created.payload.json")).unwrap();
    let installation_id = created["installation"]["id"].as_i64().unwrap();

    let deliver_and_wait = |event: &'static str, body: Vec<u8>| {
        let server = &server;
        let store = store.clone();
        async move {
            let delivery = unique_delivery();
            assert_eq!(server.deliver(event, &delivery, &body).await.status(), 202);
            eventually(10, "processing", || {
                let store = store.clone();
                let delivery = delivery.clone();
                async move {
                    store
                        .delivery(&delivery)
                        .await
                        .unwrap()
                        .filter(|d| d.processed_at.is_some())
                }
            })
            .await;
        }
    };

    deliver_and_wait("installation", read("installation/created.payload.json")).await;
    let names: Vec<String> = store
        .active_repositories()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.full_name)
        .collect();
    let expected: Vec<String> = created["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["full_name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, expected);

    // GitHub's sample payloads come from different installations: file them under this one.
    let mut added: Value =
        serde_json::from_slice(&read("installation_repositories/added.payload.json")).unwrap();
    added["installation"]["id"] = installation_id.into();
    deliver_and_wait("installation_repositories", added.to_string().into_bytes()).await;
    let after_add = store.active_repositories().await.unwrap().len();
    assert_eq!(
        after_add,
        expected.len() + added["repositories_added"].as_array().unwrap().len()
    );

    let mut removed: Value =
        serde_json::from_slice(&read("installation_repositories/removed.payload.json")).unwrap();
    removed["installation"]["id"] = installation_id.into();
    removed["repositories_removed"] = added["repositories_added"].clone();
    deliver_and_wait(
        "installation_repositories",
        removed.to_string().into_bytes(),
    )
    .await;
    assert_eq!(
        store.active_repositories().await.unwrap().len(),
        expected.len()
    );

    let mut suspend: Value =
        serde_json::from_slice(&read("installation/suspend.payload.json")).unwrap();
    suspend["installation"]["id"] = installation_id.into();
    deliver_and_wait("installation", suspend.to_string().into_bytes()).await;
    assert!(
        store
            .installation(installation_id)
            .await
            .unwrap()
            .unwrap()
            .suspended
    );
    assert!(
        store.active_repositories().await.unwrap().is_empty(),
        "a suspended installation gets no work"
    );

    let mut unsuspend: Value =
        serde_json::from_slice(&read("installation/unsuspend.payload.json")).unwrap();
    unsuspend["installation"]["id"] = installation_id.into();
    deliver_and_wait("installation", unsuspend.to_string().into_bytes()).await;
    assert!(
        !store
            .installation(installation_id)
            .await
            .unwrap()
            .unwrap()
            .suspended
    );

    let mut deleted: Value =
        serde_json::from_slice(&read("installation/deleted.payload.json")).unwrap();
    deleted["installation"]["id"] = installation_id.into();
    deliver_and_wait("installation", deleted.to_string().into_bytes()).await;
    assert!(
        store
            .installation(installation_id)
            .await
            .unwrap()
            .unwrap()
            .deleted
    );
    assert!(store.active_repositories().await.unwrap().is_empty());
    server.stop().await;
}

async fn a_concurrent_burst_with_repeats_stores_each_delivery_once(db: TestDb) {
    let server = TestServer::start(common::settings(&db.url, &[])).await;
    let store = db.store().await;
    let ids: Vec<String> = (0..100).map(|_| unique_delivery()).collect();
    let body: &'static [u8] = br#"{"action":"opened","issue":{"number":1,"title":"t","user":{"id":1,"login":"a"}},"repository":{"id":5,"full_name":"o/r"},"sender":{"id":1,"login":"a"}}"#;
    let signature = upkeep::webhook::sign(common::SECRET.as_bytes(), body);
    // Every id three times, all at once: group commit sees repeats inside one batch too.
    let tasks: Vec<_> = ids
        .iter()
        .cycle()
        .take(300)
        .map(|id| {
            let request = server
                .http
                .post(server.url("/webhook"))
                .header("x-github-event", "issues")
                .header("x-github-delivery", id.as_str())
                .header("x-hub-signature-256", signature.as_str())
                .body(body);
            tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let accepted = statuses.iter().filter(|s| **s == 202).count();
    let duplicates = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!((accepted, duplicates), (100, 200));
    assert_eq!(store.count_deliveries().await.unwrap(), 100);
    for id in &ids {
        assert!(
            store
                .job_by_key(&format!("delivery:{id}"))
                .await
                .unwrap()
                .is_some(),
            "no job for {id}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_concurrent_burst_with_repeats_stores_each_delivery_once_on_sqlite() {
    a_concurrent_burst_with_repeats_stores_each_delivery_once(TestDb::sqlite()).await;
}

#[tokio::test]
async fn a_concurrent_burst_with_repeats_stores_each_delivery_once_on_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    a_concurrent_burst_with_repeats_stores_each_delivery_once(db).await;
}

#[tokio::test]
async fn deliveries_out_of_the_fake_world_keep_installations_in_sync() {
    if common::shared_dir().is_none() {
        return;
    }
    let github = fake_github::FakeGitHub::builder()
        .installation(7, "octo-org")
        .repository(7, "octo-org/lib")
        .start()
        .await;
    let db = TestDb::sqlite();
    let server = TestServer::start(common::settings(
        &db.url,
        &[("UPKEEP_GITHUB_API_URL", &github.uri())],
    ))
    .await;
    let store = db.store().await;
    let app = fake_github::webhooks::Endpoint {
        url: server.url("/webhook"),
        secret: common::SECRET.into(),
    };
    let repo_id = github.with_world(|w| w.repositories["octo-org/lib"].id);
    let created = github
        .deliver(&app, "installation", "created.payload.json", 7, None, |p| {
            p["repositories"] = serde_json::json!([{ "id": repo_id, "full_name": "octo-org/lib", "name": "lib", "private": false, "node_id": "R_1" }]);
        })
        .await;
    assert_eq!(created.status, 202);
    eventually(10, "the installation to be synced", || {
        let store = store.clone();
        async move {
            store
                .active_repositories()
                .await
                .unwrap()
                .into_iter()
                .find(|r| r.full_name == "octo-org/lib")
        }
    })
    .await;
    let installation = store.installation(7).await.unwrap().unwrap();
    assert_eq!(installation.account_login, "octo-org");

    let comment = github
        .deliver(
            &app,
            "issue_comment",
            "created.payload.json",
            7,
            Some("octo-org/lib"),
            |p| {
                p["comment"]["body"] = "@upkeep help".into();
            },
        )
        .await;
    assert_eq!(comment.status, 202);
    let stored = store.delivery(&comment.id).await.unwrap().unwrap();
    assert_eq!(stored.repository.as_deref(), Some("octo-org/lib"));
    assert_eq!(stored.repository_id, Some(repo_id));
    assert_eq!(stored.installation_id, Some(7));
    server.stop().await;
}

#[tokio::test]
async fn a_signed_body_that_is_not_utf8_gets_400_and_is_not_stored() {
    let db = TestDb::sqlite();
    let server = TestServer::start(common::settings(&db.url, &[])).await;
    let body = b"{\"action\":\"opened\",\"x\":\"\xff\xfe\"}";
    let response = server.deliver("issues", &unique_delivery(), body).await;
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert!(
        error["error"].as_str().unwrap().contains("UTF-8"),
        "{error}"
    );
    assert_eq!(db.store().await.count_deliveries().await.unwrap(), 0);
    server.stop().await;
}

#[tokio::test]
async fn a_payload_stored_compressed_reads_back_and_a_corrupt_one_is_an_error() {
    use upkeep::store::deliveries::NewDelivery;
    use upkeep::store::StoreError;
    let db = TestDb::sqlite();
    let store = db.store().await;
    let body = r#"{"action":"opened","zen":"Keep it logically awesome."}"#;
    let delivery = NewDelivery {
        delivery_id: "d-1",
        event: "issues",
        action: Some("opened"),
        installation_id: None,
        repository_id: None,
        repository: None,
        received_at: 1,
        payload: body,
        enqueue: false,
    };
    store.store_delivery(&delivery, "delivery").await.unwrap();
    // On SQLite the text column is left empty and the bytes are compressed beside it.
    let (text, packed): (String, Option<Vec<u8>>) =
        sqlx::query_as("SELECT payload, payload_lz4 FROM deliveries WHERE delivery_id = 'd-1'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(text, "");
    assert!(packed.is_some());
    assert_eq!(store.delivery("d-1").await.unwrap().unwrap().payload, body);

    sqlx::query("UPDATE deliveries SET payload_lz4 = $1 WHERE delivery_id = 'd-1'")
        .bind(vec![0xffu8, 0xff, 0xff, 0x7f, 1, 2, 3])
        .execute(store.pool())
        .await
        .unwrap();
    assert!(matches!(
        store.delivery("d-1").await,
        Err(StoreError::CorruptPayload(id)) if id == "d-1"
    ));
}

#[tokio::test]
async fn the_intake_stores_deliveries_while_a_worker_holds_the_workers_connection() {
    let db = TestDb::sqlite();
    let store = db.store().await;
    // A worker busy on the workers' one SQLite connection (a long read, a slow step)...
    let held = store.pool().acquire().await.unwrap();
    // ...does not hold up the intake, which has its own.
    let intake = store.for_intake();
    let stored = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        intake.store_deliveries(
            &[upkeep::store::deliveries::NewDelivery {
                delivery_id: "while-busy",
                event: "ping",
                action: None,
                installation_id: None,
                repository_id: None,
                repository: None,
                received_at: upkeep::time::now_ms(),
                payload: "{}",
                enqueue: false,
            }],
            upkeep::webhook::DELIVERY_JOB,
        ),
    )
    .await
    .expect("the intake waited for the workers' connection")
    .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(
        tokio::time::timeout(
            std::time::Duration::from_secs(2),
            intake.ping(std::time::Duration::from_secs(1))
        )
        .await
        .is_ok(),
        "/readyz's probe waited for the workers' connection"
    );
    drop(held);
    assert!(store.delivery("while-busy").await.unwrap().is_some());
}
