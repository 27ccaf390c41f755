//! A stateful fake GitHub for upkeep's tests, served by wiremock and held to GitHub's OpenAPI
//! description: every request must match an operation of the description and validate against
//! its request schema, every answer validates against the response schema for its status, and a
//! request to an operation the fake does not model fails the test loudly. See docs/TESTING.md.
//!
//! ```ignore
//! let github = FakeGitHub::builder().app(42, PUBLIC_KEY).installation(7, "octo-org").repository(7, "octo-org/lib").start().await;
//! // … point the app at github.uri(), act …
//! assert_eq!(github.calls_to("apps/create-installation-access-token"), 1);
//! ```

mod actions_routes;
mod code_scanning_routes;
mod exchange;
mod front;
pub mod git;
mod git_routes;
mod graphql;
mod hook_routes;
mod issue_routes;
pub mod merge_routes;
mod mergeable;
pub mod openapi;
mod people;
mod routes;
pub mod webhooks;
mod world;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openapi::{Spec, Violation};
use serde_json::Value;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub use exchange::Fault;
pub use world::{Artifact, HookConfig, HookDelivery, Installation, Repository, SarifUpload, World};

/// Every operation the fake models (REST operation ids, and `graphql`).
pub fn modelled_operations() -> Vec<&'static str> {
    let mut ops: Vec<&'static str> = routes::OPS.to_vec();
    ops.extend(git_routes::OPS);
    ops.extend(issue_routes::OPS);
    ops.extend(actions_routes::OPS);
    ops.extend(actions_routes::EXTRA);
    ops.extend(merge_routes::OPS);
    ops.extend(hook_routes::OPS);
    ops.extend(code_scanning_routes::OPS);
    ops.push("graphql");
    ops
}

/// One request the app made, as the fake saw it.
#[derive(Debug, Clone)]
pub struct Call {
    pub at: Instant,
    /// When it arrived on the fake's clock (ms since the epoch, moved by `skip_ahead`).
    pub at_ms: i64,
    /// The installation whose token it carried (`None`: the App's JWT, or nothing).
    pub installation: Option<i64>,
    pub method: String,
    pub path: String,
    pub operation: Option<String>,
    pub status: u16,
    pub body: Option<Value>,
}

/// What the fake holds between calls.
pub(crate) struct State {
    pub world: World,
    pub calls: Vec<Call>,
    pub violations: Vec<Violation>,
    pub faults: Vec<(String, Fault)>,
    pub stall: Option<Stall>,
    /// While set, every API call is answered with this status (`FakeGitHub::outage`).
    pub outage: Option<u16>,
    /// Every answer arrives this late (a struggling GitHub), until `fast`.
    pub slow: Option<Duration>,
    /// How far `skip_ahead` moved the fake's clock (ms).
    pub skipped_ms: i64,
}

impl State {
    /// While GitHub is down (`FakeGitHub::outage`): records the call and gives the outage's
    /// answer.
    fn answer_outage(
        &mut self,
        method: &str,
        path: &str,
        operation: &str,
        body: Option<Value>,
        installation: Option<i64>,
    ) -> Option<ResponseTemplate> {
        let status = self.outage?;
        let call = self.call(
            method,
            path,
            Some(operation.to_owned()),
            status,
            body,
            installation,
        );
        self.calls.push(call);
        Some(
            ResponseTemplate::new(status)
                .set_body_json(serde_json::json!({ "message": "Service Unavailable" })),
        )
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        operation: Option<String>,
        status: u16,
        body: Option<Value>,
        installation: Option<i64>,
    ) -> Call {
        Call {
            at: Instant::now(),
            at_ms: exchange::now_ms() + self.skipped_ms,
            installation,
            method: method.to_owned(),
            path: path.to_owned(),
            operation,
            status,
            body,
        }
    }
}

/// The call that never gets its answer (`FakeGitHub::stall`).
#[derive(Debug, Clone)]
pub(crate) struct Stall {
    /// REST calls to let through first.
    countdown: usize,
    /// Whether GitHub applies the call before the answer is lost.
    after_effect: bool,
    /// The operation that was stalled, once it was.
    stalled: Option<String>,
}

/// How long a stalled answer is held: longer than any test.
const STALL: Duration = Duration::from_secs(3600);

/// Builds the world before the fake starts.
pub struct Builder {
    world: World,
}

impl Builder {
    /// The App: its id and the public half of its key (JWTs are verified with it).
    pub fn app(mut self, id: u64, public_key_pem: &[u8]) -> Self {
        self.world.app_id = id;
        self.world.app_public_key = Some(public_key_pem.to_vec());
        self
    }

    /// An installation on an account.
    pub fn installation(mut self, id: i64, account: &str) -> Self {
        self.world.add_installation(id, account);
        self
    }

    /// A repository `owner/name` granted to an installation, default branch `main`.
    pub fn repository(mut self, installation: i64, full_name: &str) -> Self {
        self.world.add_repository(installation, full_name);
        self
    }

    /// Files on the default branch of a repository, as one commit on top of what is there.
    pub fn files(mut self, full_name: &str, files: &[(&str, &str)]) -> Self {
        let files = files
            .iter()
            .map(|(p, c)| ((*p).to_owned(), c.as_bytes().to_vec()))
            .collect();
        let now = exchange::now_secs();
        if let Some(repo) = self.world.repositories.get_mut(full_name) {
            repo.commit_files(&files, "Initial commit", now);
        }
        self
    }

    /// A collaborator on a repository with a permission (`admin`, `maintain`, `write`,
    /// `triage`, `read`).
    pub fn collaborator(mut self, full_name: &str, login: &str, permission: &str) -> Self {
        if let Some(repo) = self.world.repositories.get_mut(full_name) {
            repo.permissions
                .insert(login.to_owned(), permission.to_owned());
        }
        self
    }

    /// A manifest code the conversion endpoint accepts once, returning these credentials.
    pub fn manifest_code(
        mut self,
        code: &str,
        app_id: u64,
        pem: &str,
        webhook_secret: &str,
    ) -> Self {
        self.world.manifest_codes.insert(
            code.to_owned(),
            (app_id, pem.to_owned(), webhook_secret.to_owned()),
        );
        self
    }

    /// Installation tokens live this long (GitHub: one hour).
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.world.token_lifetime = lifetime;
        self
    }

    pub async fn start(mut self) -> FakeGitHub {
        let server = MockServer::start().await;
        let front = match front::Front::start(*server.address()).await {
            Ok(f) => f,
            Err(e) => panic!("cannot start the fake GitHub's TCP front: {e}"),
        };
        self.world.base_url = format!("http://{}", front.addr);
        let state = Arc::new(Mutex::new(State {
            world: self.world,
            calls: Vec::new(),
            violations: Vec::new(),
            faults: Vec::new(),
            outage: None,
            slow: None,
            skipped_ms: 0,
            stall: None,
        }));
        Mock::given(wiremock::matchers::any())
            .respond_with(Dispatcher {
                state: Arc::clone(&state),
                spec: Spec::shared(),
            })
            .mount(&server)
            .await;
        FakeGitHub {
            server,
            state,
            front,
        }
    }
}

/// The running fake.
pub struct FakeGitHub {
    /// Kept alive for the fake's lifetime; requests reach it through `front`.
    #[allow(dead_code)]
    server: MockServer,
    state: Arc<Mutex<State>>,
    front: front::Front,
}

impl FakeGitHub {
    pub fn builder() -> Builder {
        Builder {
            world: World::default(),
        }
    }

    /// The base URL to point the app at.
    pub fn uri(&self) -> String {
        format!("http://{}", self.front.addr)
    }

    /// Resets the connection of the next `n` requests to arrive (a TCP reset, before GitHub
    /// sees them), as a dropped connection does.
    pub fn reset_connections(&self, n: usize) {
        self.front
            .resets
            .fetch_add(n, std::sync::atomic::Ordering::AcqRel);
    }

    /// Injects a fault into the next calls of an operation (by operation id).
    pub fn fault(&self, operation: &str, fault: Fault) {
        self.with(|s| s.faults.push((operation.to_owned(), fault)));
    }

    /// Drops the faults not yet used up.
    pub fn clear_faults(&self) {
        self.with(|s| s.faults.clear());
    }

    /// The REST call `n` calls from now (0: the next) gets no answer for an hour, as if the
    /// connection hung or the app died waiting: with `after_effect`, GitHub has applied it
    /// first (a comment posted, a PR opened), else it never saw it. Crash tests kill the app
    /// while it waits.
    pub fn stall(&self, n: usize, after_effect: bool) {
        self.with(|s| {
            s.stall = Some(Stall {
                countdown: n,
                after_effect,
                stalled: None,
            })
        });
    }

    /// The operation `stall` caught, once a call reached it.
    pub fn stalled(&self) -> Option<String> {
        self.with(|s| s.stall.as_ref().and_then(|st| st.stalled.clone()))
    }

    /// Lets calls through again after `stall`.
    pub fn unstall(&self) {
        self.with(|s| s.stall = None);
    }

    /// GitHub goes down: from now on every API call is answered with `status` (a 503, a 502)
    /// until `recover`.
    pub fn outage(&self, status: u16) {
        self.with(|s| s.outage = Some(status));
    }

    /// Every answer from now on arrives `delay` late (GitHub slow but up), until `fast`.
    pub fn slow(&self, delay: Duration) {
        self.with(|s| s.slow = Some(delay));
    }

    /// Answers arrive at once again after `slow`.
    pub fn fast(&self) {
        self.with(|s| s.slow = None);
    }

    /// GitHub answers again after `outage`.
    pub fn recover(&self) {
        self.with(|s| s.outage = None);
    }

    /// Moves the clock calls are stamped with (`Call::at_ms`) forward, in step with upkeep's
    /// simulated clock (`upkeep::time::skip_ahead`); tokens and the delivery log keep real time.
    pub fn skip_ahead(&self, by: Duration) {
        self.with(|s| s.skipped_ms += by.as_millis() as i64);
    }

    /// Now on the clock calls are stamped with.
    pub fn now_ms(&self) -> i64 {
        self.with(|s| exchange::now_ms() + s.skipped_ms)
    }

    /// Every call made so far.
    pub fn calls(&self) -> Vec<Call> {
        self.with(|s| s.calls.clone())
    }

    /// How many calls went to an operation.
    pub fn calls_to(&self, operation: &str) -> usize {
        self.with(|s| {
            s.calls
                .iter()
                .filter(|c| c.operation.as_deref() == Some(operation))
                .count()
        })
    }

    /// Requests and answers GitHub would not have sent or accepted.
    pub fn violations(&self) -> Vec<Violation> {
        self.with(|s| s.violations.clone())
    }

    /// Reads or changes the world (for a test's setup or assertions).
    pub fn with_world<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        self.with(|s| f(&mut s.world))
    }

    /// Takes the violations seen so far (a test of the fake itself that provokes them).
    pub fn take_violations(&self) -> Vec<Violation> {
        self.with(|s| std::mem::take(&mut s.violations))
    }

    /// A pull request as the world holds it (GitHub's shape), to put into a webhook payload.
    pub fn pull_request(&self, repo: &str, number: i64) -> Option<Value> {
        self.with(|s| {
            s.world
                .repositories
                .get(repo)
                .and_then(|r| r.pulls.iter().find(|p| p["number"] == number).cloned())
        })
    }

    /// Sends the app a webhook GitHub would send: the shared sample `<event>/<file>`, filled in
    /// with this world's installation and repository, changed by `edit`, signed with the
    /// endpoint's secret. Returns the delivery with the app's HTTP status.
    pub async fn deliver(
        &self,
        to: &webhooks::Endpoint,
        event: &str,
        file: &str,
        installation: i64,
        repository: Option<&str>,
        edit: impl FnOnce(&mut Value),
    ) -> webhooks::Delivery {
        let mut payload = webhooks::sample(event, file);
        self.with(|s| webhooks::fill(&s.world, &mut payload, installation, repository));
        edit(&mut payload);
        self.send(to, event, payload).await
    }

    /// GitHub sends `payload` as event `event` to `to` and logs the attempt with the app's
    /// answer (0 when it could not connect), as `GET /app/hook/deliveries` lists it.
    pub async fn send(
        &self,
        to: &webhooks::Endpoint,
        event: &str,
        payload: Value,
    ) -> webhooks::Delivery {
        self.send_logged(to, event, payload, webhooks::new_guid())
            .await
    }

    async fn send_logged(
        &self,
        to: &webhooks::Endpoint,
        event: &str,
        payload: Value,
        guid: String,
    ) -> webhooks::Delivery {
        let d = webhooks::send_as(to, event, payload, guid).await;
        self.with(|s| s.world.log_delivery(&d.id, &d.event, &d.payload, d.status));
        d
    }

    /// Logs `payload` as a delivery attempt that failed with `status_code`; its delivery id.
    pub fn lose(&self, status_code: u16, event: &str, payload: Value) -> String {
        let guid = webhooks::new_guid();
        self.with(|s| s.world.log_delivery(&guid, event, &payload, status_code));
        guid
    }

    /// Someone presses "Redeliver" on delivery `guid` in the App's settings: GitHub sends its
    /// payload again under the same delivery id and logs the new attempt.
    pub async fn redeliver(&self, to: &webhooks::Endpoint, guid: &str) -> webhooks::Delivery {
        let (event, payload) = self
            .with(|s| {
                s.world
                    .hook_deliveries
                    .iter()
                    .find(|d| d.guid == guid)
                    .map(|d| (d.event.clone(), d.payload.clone()))
            })
            .unwrap_or_else(|| panic!("no delivery {guid} to redeliver"));
        self.send_logged(to, &event, payload, guid.to_owned()).await
    }

    /// Sends `workflow_run` completed for run `id` of `repo` as the world has it now (its id,
    /// name, workflow, event, branch, commit, conclusion and attempt), the run's head repository
    /// being `head_repository` (`repo` itself, or a fork's full name).
    /// Delivers the `status` event of commit status `id` of `repo`, naming `branch` as a branch
    /// that holds the commit.
    pub async fn deliver_status(
        &self,
        to: &webhooks::Endpoint,
        installation: i64,
        repo: &str,
        id: i64,
        branch: &str,
    ) -> webhooks::Delivery {
        let status = self
            .with(|s| s.world.status(repo, id))
            .unwrap_or_else(|| panic!("no commit status {id} in {repo}"));
        self.deliver(
            to,
            "status",
            "with-installation.payload.json",
            installation,
            Some(repo),
            |p| {
                for key in ["id", "sha", "context", "state", "target_url"] {
                    p[key] = status[key].clone();
                }
                p["branches"] = serde_json::json!([{
                    "name": branch,
                    "commit": { "sha": status["sha"], "url": "" },
                    "protected": false
                }]);
            },
        )
        .await
    }

    pub async fn deliver_workflow_run(
        &self,
        to: &webhooks::Endpoint,
        installation: i64,
        repo: &str,
        id: i64,
        head_repository: &str,
    ) -> webhooks::Delivery {
        let run = self
            .with(|s| s.world.workflow_run(repo, id))
            .unwrap_or_else(|| panic!("no workflow run {id} in {repo}"));
        self.deliver(
            to,
            "workflow_run",
            "completed.payload.json",
            installation,
            Some(repo),
            |p| {
                let r = &mut p["workflow_run"];
                for key in [
                    "id",
                    "name",
                    "workflow_id",
                    "event",
                    "head_branch",
                    "head_sha",
                    "conclusion",
                    "run_attempt",
                ] {
                    r[key] = run[key].clone();
                }
                r["status"] = serde_json::json!("completed");
                r["html_url"] =
                    serde_json::json!(format!("https://github.com/{repo}/actions/runs/{id}"));
                r["head_repository"]["full_name"] = serde_json::json!(head_repository);
            },
        )
        .await
    }

    /// Fails the test if any request or answer broke GitHub's description.
    pub fn assert_conformant(&self) {
        let v = self.violations();
        assert!(v.is_empty(), "requests GitHub would refuse:\n{}", list(&v));
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let v = self.violations();
            if !v.is_empty() {
                panic!(
                    "the fake GitHub saw requests GitHub would refuse:\n{}",
                    list(&v)
                );
            }
        }
    }
}

fn list(v: &[Violation]) -> String {
    v.iter()
        .map(|v| format!("  - {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The one responder: match the operation, check the request, inject faults, run the route,
/// check the answer, record everything.
struct Dispatcher {
    state: Arc<Mutex<State>>,
    spec: &'static Spec,
}

impl Respond for Dispatcher {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let method = request.method.as_str().to_owned();
        let path = request.url.path().to_owned();
        if path.starts_with(actions_routes::BLOB_PREFIX) {
            return self.blob(&method, &path);
        }
        if path == "/graphql" && method == "POST" {
            return self.graphql(request);
        }
        let body: Option<Value> = if request.body.is_empty() {
            None
        } else {
            match serde_json::from_slice(&request.body) {
                Ok(v) => Some(v),
                Err(e) => {
                    return self.refuse(
                        &method,
                        &path,
                        None,
                        None,
                        format!("the body is not JSON: {e}"),
                    );
                }
            }
        };
        let Some(op) = self.spec.find(&method, &path) else {
            return self.refuse(
                &method,
                &path,
                None,
                body,
                "GitHub's OpenAPI description has no such operation".into(),
            );
        };
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(v) = self.spec.check_request(op, body.as_ref()) {
            state.violations.push(v);
        }
        let caller = exchange::installation_of(&state.world, &request.headers);
        if let Some(down) = state.answer_outage(&method, &path, &op.id, body.clone(), caller) {
            return down;
        }
        // The delivery log is read by upkeep's background sweep, whenever it likes: a stall
        // counts the calls of the work under test, not those.
        let background = hook_routes::OPS.contains(&op.id.as_str());
        let stall = match state.stall.as_mut() {
            _ if background => None,
            Some(st) if st.stalled.is_none() && st.countdown == 0 => {
                st.stalled = Some(op.id.clone());
                Some(st.after_effect)
            }
            Some(st) if st.stalled.is_none() => {
                st.countdown -= 1;
                None
            }
            _ => None,
        };
        if stall == Some(false) {
            return ResponseTemplate::new(504).set_delay(STALL);
        }
        let reply = match take_fault(&mut state.faults, &op.id) {
            Some(fault) => exchange::Reply::fault(fault),
            None => {
                let ctx = exchange::Ctx {
                    method: &method,
                    path: &path,
                    query: request.url.query().unwrap_or(""),
                    headers: &request.headers,
                    body: body.as_ref(),
                    spec: self.spec,
                };
                match routes::route(&op.id, &mut state.world, &ctx) {
                    Some(reply) => reply,
                    None => {
                        state.violations.push(Violation {
                            operation: op.id.clone(),
                            message: format!("{method} {path} is not modelled by the fake GitHub (add a route: docs/TESTING.md)"),
                        });
                        exchange::Reply::json(
                            501,
                            serde_json::json!({ "message": "not modelled by the fake" }),
                        )
                    }
                }
            }
        };
        if reply.checked && reply.status != 501 {
            if let Err(v) = self
                .spec
                .check_response(op, reply.status, reply.body.as_ref())
            {
                state.violations.push(Violation {
                    operation: v.operation,
                    message: format!("the fake's own answer is wrong: {}", v.message),
                });
            }
        }
        let installation = exchange::installation_of(&state.world, &request.headers);
        let remaining = state.world.spend_rate_limit(installation);
        let call = state.call(
            &method,
            &path,
            Some(op.id.clone()),
            reply.status,
            body,
            installation,
        );
        state.calls.push(call);
        let template = reply.into_template(remaining);
        if stall == Some(true) {
            return template.set_delay(STALL);
        }
        match state.slow {
            Some(delay) => template.set_delay(delay),
            None => template,
        }
    }
}

impl Dispatcher {
    /// GitHub's blob storage behind an artifact redirect: not the API, so not held to it.
    fn blob(&self, method: &str, path: &str) -> ResponseTemplate {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let body = actions_routes::blob(&state.world, path);
        let status = if body.is_some() { 200 } else { 404 };
        let call = state.call(method, path, None, status, None, None);
        state.calls.push(call);
        match body {
            Some(zip) => ResponseTemplate::new(200).set_body_raw(zip, "application/zip"),
            None => ResponseTemplate::new(404),
        }
    }

    /// The GraphQL endpoint, outside the REST description: `graphql.rs` checks what it models.
    fn graphql(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let installation = exchange::installation_of(&state.world, &request.headers);
        if let Some(down) = state.answer_outage(
            "POST",
            "/graphql",
            "graphql",
            Some(body.clone()),
            installation,
        ) {
            return down;
        }
        let (status, answer) =
            match graphql::answer(&mut state.world, self.spec, installation, &body) {
                Ok(a) if a.get("message").is_some() => (401, a),
                Ok(a) => (200, a),
                Err(message) => {
                    state.violations.push(Violation {
                        operation: "graphql".into(),
                        message: message.clone(),
                    });
                    (
                        400,
                        serde_json::json!({ "errors": [{ "message": message }] }),
                    )
                }
            };
        let call = state.call(
            "POST",
            "/graphql",
            Some("graphql".into()),
            status,
            Some(body),
            installation,
        );
        state.calls.push(call);
        ResponseTemplate::new(status).set_body_json(answer)
    }

    fn refuse(
        &self,
        method: &str,
        path: &str,
        op: Option<String>,
        body: Option<Value>,
        message: String,
    ) -> ResponseTemplate {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.violations.push(Violation {
            operation: format!("{method} {path}"),
            message: message.clone(),
        });
        let call = state.call(method, path, op, 404, body, None);
        state.calls.push(call);
        ResponseTemplate::new(404).set_body_json(serde_json::json!({ "message": message }))
    }
}

fn take_fault(faults: &mut Vec<(String, Fault)>, op: &str) -> Option<Fault> {
    let i = faults.iter().position(|(o, _)| o == op)?;
    let fault = faults[i].1.clone();
    if faults[i].1.times <= 1 {
        faults.remove(i);
    } else {
        faults[i].1.times -= 1;
    }
    Some(fault)
}
pub use code_scanning_routes::schema_problem as code_scanning_schema_problem;
