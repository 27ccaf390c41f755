//! The world the conversation scenarios run in (tests/commands.rs, tests/ignore_commands.rs and
//! tests/dashboard.rs): the fixture workspace on the fake GitHub with upkeep's PRs opened by a
//! first pass, a loopback registry, the server and its store, people with write and read
//! access, and helpers that deliver comments and ticks and read back what upkeep did.
#![allow(dead_code)]

use crate::common::registry::LoopbackRegistry;
use crate::common::repo_world::{self, REPO};
use crate::common::{self, TestDb, TestServer};
use fake_github::webhooks::Endpoint;
use fake_github::FakeGitHub;
use serde_json::{json, Value};
use upkeep::store::Store;

pub const BOT: &str = "upkeep[bot]";

pub struct World {
    pub github: FakeGitHub,
    pub _registry: LoopbackRegistry,
    pub server: TestServer,
    /// What the server was started with (a crash test starts it again).
    pub settings: upkeep::server::settings::Settings,
    pub killable: bool,
    pub store: Store,
    pub _db: TestDb,
    /// Whether a dead job is expected (else `settled` fails on one).
    pub allow_dead: std::cell::Cell<bool>,
}

impl World {
    /// `.github/upkeep.toml` on the configuration PR's branch (the ignores commands asked for).
    pub fn ignores_config(&self) -> Option<String> {
        repo_world::file_on(&self.github, "upkeep/config/ignores", ".github/upkeep.toml")
    }

    /// The fixture workspace with `config`, upkeep's PRs opened by a first pass, the app
    /// installed, and `maintainer` (write) and `visitor` (read) on the repository.
    pub async fn new(config: &str) -> Option<World> {
        Self::start(config, true, false, |_| ()).await
    }

    /// The same world, with a server that `crash_and_restart` can kill dead.
    pub async fn new_killable(config: &str) -> Option<World> {
        Self::start(config, true, true, |_| ()).await
    }

    /// The repository with no upkeep PR yet, on a killable server over `db` (PostgreSQL, say)
    /// running its background work by `background`: `before` prepares the fake GitHub, then the app is installed and the first daily pass
    /// starts. Returns without waiting for it.
    pub async fn installing_on(
        db: TestDb,
        background: upkeep::server::Background,
        config: &str,
        before: impl FnOnce(&FakeGitHub),
    ) -> Option<World> {
        Self::starting(config, false, Some(background), db, &[], before).await
    }

    /// A killable world whose server runs its background work by `background`.
    pub async fn with_background(
        config: &str,
        background: upkeep::server::Background,
    ) -> Option<World> {
        Self::starting(
            config,
            true,
            Some(background),
            TestDb::sqlite(),
            &[],
            |_| (),
        )
        .await
    }

    /// The repository with no upkeep PR yet, on a killable server: `before` prepares the fake
    /// GitHub (a stall, say), then the app is installed and the server's first daily pass
    /// starts. Returns without waiting for it.
    pub async fn installing_killable(
        config: &str,
        before: impl FnOnce(&FakeGitHub),
    ) -> Option<World> {
        Self::start(config, false, true, before).await
    }

    async fn start(
        config: &str,
        pre_pass: bool,
        killable: bool,
        before: impl FnOnce(&FakeGitHub),
    ) -> Option<World> {
        let background = killable.then(common::crash_background);
        Self::starting(config, pre_pass, background, TestDb::sqlite(), &[], before).await
    }

    /// A killable world whose server runs its background work by `background`, with `extra`
    /// settings (as `common::settings` takes them).
    pub async fn with_settings(
        config: &str,
        background: upkeep::server::Background,
        extra: &[(&str, &str)],
    ) -> Option<World> {
        Self::starting(
            config,
            true,
            Some(background),
            TestDb::sqlite(),
            extra,
            |_| (),
        )
        .await
    }

    /// `background`: a killable server with it; `None`: a plain one.
    async fn starting(
        config: &str,
        pre_pass: bool,
        background: Option<upkeep::server::Background>,
        db: TestDb,
        extra: &[(&str, &str)],
        before: impl FnOnce(&FakeGitHub),
    ) -> Option<World> {
        let killable = background.is_some();
        common::shared_dir()?;
        let github = repo_world::github_with(&repo_world::fixture_files(Some(config))).await;
        github.with_world(|w| {
            let perms = &mut w.repositories.get_mut(REPO).unwrap().permissions;
            perms.insert("maintainer".into(), "write".into());
            perms.insert("visitor".into(), "read".into());
        });
        let registry = LoopbackRegistry::start().await;
        if pre_pass {
            let client = repo_world::installation_client(&github);
            repo_world::deps_pass(&registry)
                .run(&client, REPO, &Default::default())
                .await
                .unwrap();
        }
        let uri = github.uri();
        let index = registry.url();
        let mut settings_env = vec![
            ("UPKEEP_GITHUB_API_URL", uri.as_str()),
            ("UPKEEP_INDEX_URL", index.as_str()),
        ];
        settings_env.extend_from_slice(extra);
        let settings = common::settings(&db.url, &settings_env);
        let server = match background {
            Some(background) => TestServer::start_killable(settings.clone(), background).await,
            None => TestServer::start(settings.clone()).await,
        };
        let store = Store::open(&db.url).await.unwrap();
        let world = World {
            github,
            _registry: registry,
            server,
            settings,
            killable,
            store,
            _db: db,
            allow_dead: std::cell::Cell::new(false),
        };
        let repo_id = world.github.with_world(|w| w.repositories[REPO].id);
        // The App's own checks at start (its permissions, its installations, the delivery
        // log) are done before `before` runs, so a stall counted from there is the pass's.
        common::eventually(30, "the App's start-up checks done", || {
            let done = [
                "apps/get-authenticated",
                "apps/list-installations",
                "apps/list-webhook-deliveries",
            ]
            .iter()
            .all(|op| world.github.calls_to(op) >= 1);
            async move { done.then_some(()) }
        })
        .await;
        before(&world.github);
        let d = world
            .github
            .deliver(&world.endpoint(), "installation", "created.payload.json", 7, None, |p| {
                p["repositories"] = json!([{
                    "id": repo_id, "node_id": "R_1", "name": "r", "full_name": REPO, "private": false
                }]);
            })
            .await;
        assert_eq!(d.status, 202);
        if pre_pass {
            world.settled().await;
        }
        Some(world)
    }

    /// Kills the server wherever it is (as SIGKILL would), lets the leases of the jobs it was
    /// running run out (the clock moved on), and starts it again on the same database.
    pub async fn crash_and_restart(&mut self) {
        assert!(self.killable, "World::new_killable for crash tests");
        self.server
            .crash_and_restart(&self.settings, &self.store)
            .await;
    }

    /// `crash_and_restart` with the claims read beforehand (`common::running_claims`), for when
    /// another replica starts meanwhile.
    pub async fn crash_and_restart_after(&mut self, claims: Vec<(i64, String)>) {
        assert!(self.killable, "World::new_killable for crash tests");
        self.server
            .crash_and_restart_after(&self.settings, &self.store, claims)
            .await;
    }

    /// `login` comments `body` on `number` and GitHub delivers it; upkeep has stored it (202)
    /// but may not have acted yet.
    pub async fn say_without_waiting(&self, number: i64, login: &str, body: &str) -> i64 {
        let (id, payload) = self.comment_delivery(number, login, body);
        let d = self
            .github
            .send(&self.endpoint(), "issue_comment", payload)
            .await;
        assert_eq!(d.status, 202);
        id
    }

    /// `login` comments `body` on `number`, and GitHub's delivery of it fails with
    /// `status_code` (0: timed out) before it reaches upkeep; GitHub logs the failed attempt.
    /// The comment's id and the delivery's id.
    pub fn lose_comment(
        &self,
        number: i64,
        login: &str,
        body: &str,
        status_code: u16,
    ) -> (i64, String) {
        let (id, payload) = self.comment_delivery(number, login, body);
        let guid = self.github.lose(status_code, "issue_comment", payload);
        (id, guid)
    }

    /// `login` comments `body` on `number` (as GitHub records it): the comment's id and the
    /// `issue_comment` created payload GitHub would deliver, for a test to send when it likes.
    pub fn comment_delivery(&self, number: i64, login: &str, body: &str) -> (i64, Value) {
        let id = self
            .github
            .with_world(|w| w.add_comment(REPO, number, login, body));
        let is_pr = self.github.pull_request(REPO, number).is_some();
        let mut payload = fake_github::webhooks::sample("issue_comment", "created.payload.json");
        self.github.with_world(|w| {
            fake_github::webhooks::fill(w, &mut payload, 7, Some(REPO));
        });
        comment_payload(&mut payload, number, is_pr, id, login, body);
        (id, payload)
    }

    pub fn endpoint(&self) -> Endpoint {
        Endpoint {
            url: self.server.url("/webhook"),
            secret: common::SECRET.into(),
        }
    }

    /// Waits until no job is queued or running.
    pub async fn settled(&self) {
        common::jobs_settled(&self.store).await;
        if self.allow_dead.get() {
            return;
        }
        let dead = self.store.list_jobs(&["dead"], 10).await.unwrap();
        assert!(
            dead.is_empty(),
            "jobs died: {:#?}",
            dead.iter()
                .map(|j| (&j.kind, &j.last_error))
                .collect::<Vec<_>>()
        );
    }

    /// Each of `comments` on `number` got exactly one answer (`before` replies were there
    /// first) and was acknowledged and done (👀 then 👍).
    pub fn assert_each_answered_once(&self, number: i64, before: usize, comments: &[i64]) {
        assert_eq!(
            self.replies(number).len(),
            before + comments.len(),
            "each command answered exactly once"
        );
        for comment in comments {
            assert_eq!(
                self.reactions(*comment),
                ["eyes", "+1"],
                "comment {comment}"
            );
        }
    }

    /// The open PR on `branch`.
    pub fn pr(&self, branch: &str) -> Value {
        self.github.with_world(|w| {
            w.repositories[REPO]
                .pulls
                .iter()
                .find(|p| p["head"]["ref"] == branch)
                .unwrap_or_else(|| panic!("no PR on {branch}"))
                .clone()
        })
    }

    pub fn number(&self, branch: &str) -> i64 {
        self.pr(branch)["number"].as_i64().unwrap()
    }

    /// `login` comments `body` on issue or PR `number` (as GitHub records it), and GitHub
    /// delivers `issue_comment` created; returns the comment id once upkeep is done with it.
    pub async fn say(&self, number: i64, login: &str, body: &str) -> i64 {
        let id = self
            .github
            .with_world(|w| w.add_comment(REPO, number, login, body));
        self.deliver_comment("created.payload.json", number, id, login, body)
            .await;
        id
    }

    /// `login` edits comment `id` to `body`.
    pub async fn edit(&self, number: i64, id: i64, login: &str, body: &str) {
        self.github.with_world(|w| {
            let c = w
                .repositories
                .get_mut(REPO)
                .unwrap()
                .comments
                .iter_mut()
                .find(|c| c["id"] == id)
                .unwrap();
            c["body"] = json!(body);
        });
        self.deliver_comment("edited.payload.json", number, id, login, body)
            .await;
    }

    pub async fn deliver_comment(&self, file: &str, number: i64, id: i64, login: &str, body: &str) {
        let is_pr = self.github.pull_request(REPO, number).is_some();
        let d = self
            .github
            .deliver(
                &self.endpoint(),
                "issue_comment",
                file,
                7,
                Some(REPO),
                |p| comment_payload(p, number, is_pr, id, login, body),
            )
            .await;
        assert_eq!(d.status, 202);
        self.settled().await;
    }

    /// `sender` does `action` to issue `number` (written by `author`) whose body is now `body`:
    /// GitHub's `issues` delivery, processed.
    pub async fn issue_event(
        &self,
        action: &str,
        number: i64,
        author: &str,
        body: &str,
        sender: &str,
    ) {
        let kind = |login: &str| {
            if login.ends_with("[bot]") {
                "Bot"
            } else {
                "User"
            }
        };
        let d = self
            .github
            .deliver(
                &self.endpoint(),
                "issues",
                "edited.payload.json",
                7,
                Some(REPO),
                |p| {
                    p["action"] = json!(action);
                    p["issue"]["number"] = json!(number);
                    p["issue"]["body"] = json!(body);
                    p["issue"]["state"] = json!(if action == "closed" { "closed" } else { "open" });
                    p["issue"]["user"] = json!({"login": author, "id": 1, "type": kind(author)});
                    p["sender"]["login"] = json!(sender);
                    p["sender"]["type"] = json!(kind(sender));
                },
            )
            .await;
        assert_eq!(d.status, 202);
        self.settled().await;
    }

    /// upkeep's replies to commands on issue or PR `number` (not what passes comment).
    pub fn replies(&self, number: i64) -> Vec<String> {
        self.github.with_world(|w| {
            w.repositories[REPO]
                .comments_on(number)
                .into_iter()
                .filter(|c| c["user"]["login"] == BOT)
                .map(|c| c["body"].as_str().unwrap().to_owned())
                .filter(|r| r.starts_with("> @upkeep"))
                .collect()
        })
    }

    /// The last reply to a command (passes running meanwhile may comment too).
    pub fn last_reply(&self, number: i64) -> String {
        self.replies(number).pop().unwrap_or_default()
    }

    /// upkeep's reactions on comment `id`.
    pub fn reactions(&self, id: i64) -> Vec<String> {
        self.github.with_world(|w| {
            w.repositories[REPO]
                .reactions
                .iter()
                .filter(|(c, _, u)| *c == id && u == BOT)
                .map(|(_, k, _)| k.clone())
                .collect()
        })
    }

    /// Waits until the server's first daily pass (queued by the scheduler once the installation
    /// is known) and everything it started are done, so a test's next step does not race it.
    pub async fn daily_done(&self) {
        // Generous: a crash test restarts the server mid-pass on a loaded two-core machine.
        common::eventually(180, "the first daily pass done", || async {
            (self.jobs_done(upkeep::queue::scheduler::DAILY_JOB).await > 0).then_some(())
        })
        .await;
        self.settled().await;
    }

    pub async fn jobs_done(&self, kind: &str) -> usize {
        self.store
            .list_jobs(&["done"], 500)
            .await
            .unwrap()
            .iter()
            .filter(|j| j.kind == kind)
            .count()
    }
}

/// An `issue_comment` payload for comment `id` by `login` on `number`.
fn comment_payload(p: &mut Value, number: i64, is_pr: bool, id: i64, login: &str, body: &str) {
    let kind = if login.ends_with("[bot]") {
        "Bot"
    } else {
        "User"
    };
    p["issue"]["number"] = json!(number);
    p["issue"]["user"] = json!({"login": "upkeep[bot]", "id": 1, "type": "Bot"});
    p["issue"]["pull_request"] = if is_pr {
        json!({ "url": format!("https://api.github.com/repos/{REPO}/pulls/{number}") })
    } else {
        Value::Null
    };
    p["comment"]["id"] = json!(id);
    p["comment"]["body"] = json!(body);
    p["comment"]["user"]["login"] = json!(login);
    p["comment"]["user"]["type"] = json!(kind);
    p["sender"]["login"] = json!(login);
    p["sender"]["type"] = json!(kind);
}

pub const CONFIG: &str = "labels = [\"deps\"]\n";

/// The dashboard issue on the fake GitHub.
pub fn dashboard(world: &World) -> Option<Value> {
    world.github.with_world(|w| {
        w.repositories[REPO]
            .issues_containing("<!-- upkeep:dashboard -->")
            .first()
            .map(|i| (*i).clone())
    })
}

/// Every PR's head branch, with how many PRs (open or closed) it has.
pub fn prs_by_branch(github: &FakeGitHub) -> std::collections::BTreeMap<String, (usize, usize)> {
    github.with_world(|w| {
        let mut by: std::collections::BTreeMap<String, (usize, usize)> =
            std::collections::BTreeMap::new();
        for p in &w.repositories[REPO].pulls {
            let e = by
                .entry(p["head"]["ref"].as_str().unwrap().to_owned())
                .or_default();
            e.0 += 1;
            if p["state"] == "open" {
                e.1 += 1;
            }
        }
        by
    })
}

pub fn dashboards(github: &FakeGitHub) -> usize {
    github.with_world(|w| {
        w.repositories[REPO]
            .issues_containing("<!-- upkeep:dashboard -->")
            .len()
    })
}
