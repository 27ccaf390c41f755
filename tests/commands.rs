//! Talking to upkeep through comments, end to end: real `issue_comment` and `issues`
//! deliveries to a running server, upkeep's PRs opened by a first pass on the fake GitHub, and
//! assertions on what upkeep did there — replies, reactions, PR state, the ignore PR, the
//! dashboard.

mod common;

use common::registry::LoopbackRegistry;
use common::repo_world::{self, REPO};
use common::{TestDb, TestServer};
use fake_github::webhooks::Endpoint;
use fake_github::FakeGitHub;
use serde_json::{json, Value};
use upkeep::store::Store;

const BOT: &str = "upkeep[bot]";

struct World {
    github: FakeGitHub,
    _registry: LoopbackRegistry,
    server: TestServer,
    store: Store,
    _db: TestDb,
    /// Whether a dead job is expected (else `settled` fails on one).
    allow_dead: std::cell::Cell<bool>,
}

impl World {
    /// The fixture workspace with `config`, upkeep's PRs opened by a first pass, the app
    /// installed, and `maintainer` (write) and `visitor` (read) on the repository.
    async fn new(config: &str) -> Option<World> {
        common::shared_dir()?;
        let github = repo_world::github_with(&repo_world::fixture_files(Some(config))).await;
        github.with_world(|w| {
            let perms = &mut w.repositories.get_mut(REPO).unwrap().permissions;
            perms.insert("maintainer".into(), "write".into());
            perms.insert("visitor".into(), "read".into());
        });
        let registry = LoopbackRegistry::start().await;
        let client = repo_world::installation_client(&github);
        repo_world::deps_pass(&registry)
            .run(&client, REPO, &Default::default())
            .await
            .unwrap();
        let db = TestDb::sqlite();
        let server = TestServer::start(common::settings(
            &db.url,
            &[
                ("UPKEEP_GITHUB_API_URL", &github.uri()),
                ("UPKEEP_INDEX_URL", &registry.url()),
            ],
        ))
        .await;
        let store = Store::open(&db.url).await.unwrap();
        let world = World {
            github,
            _registry: registry,
            server,
            store,
            _db: db,
            allow_dead: std::cell::Cell::new(false),
        };
        let repo_id = world.github.with_world(|w| w.repositories[REPO].id);
        let d = world
            .github
            .deliver(&world.endpoint(), "installation", "created.payload.json", 7, None, |p| {
                p["repositories"] = json!([{
                    "id": repo_id, "node_id": "R_1", "name": "r", "full_name": REPO, "private": false
                }]);
            })
            .await;
        assert_eq!(d.status, 202);
        world.settled().await;
        Some(world)
    }

    fn endpoint(&self) -> Endpoint {
        Endpoint {
            url: self.server.url("/webhook"),
            secret: common::SECRET.into(),
        }
    }

    /// Waits until no job is queued or running.
    async fn settled(&self) {
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

    /// The open PR on `branch`.
    fn pr(&self, branch: &str) -> Value {
        self.github.with_world(|w| {
            w.repositories[REPO]
                .pulls
                .iter()
                .find(|p| p["head"]["ref"] == branch)
                .unwrap_or_else(|| panic!("no PR on {branch}"))
                .clone()
        })
    }

    fn number(&self, branch: &str) -> i64 {
        self.pr(branch)["number"].as_i64().unwrap()
    }

    /// `login` comments `body` on issue or PR `number` (as GitHub records it), and GitHub
    /// delivers `issue_comment` created; returns the comment id once upkeep is done with it.
    async fn say(&self, number: i64, login: &str, body: &str) -> i64 {
        let id = self
            .github
            .with_world(|w| w.add_comment(REPO, number, login, body));
        self.deliver_comment("created.payload.json", number, id, login, body)
            .await;
        id
    }

    /// `login` edits comment `id` to `body`.
    async fn edit(&self, number: i64, id: i64, login: &str, body: &str) {
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

    async fn deliver_comment(&self, file: &str, number: i64, id: i64, login: &str, body: &str) {
        let is_pr = self.github.pull_request(REPO, number).is_some();
        let kind = if login.ends_with("[bot]") {
            "Bot"
        } else {
            "User"
        };
        let d = self
            .github
            .deliver(&self.endpoint(), "issue_comment", file, 7, Some(REPO), |p| {
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
            })
            .await;
        assert_eq!(d.status, 202);
        self.settled().await;
    }

    /// `sender` does `action` to issue `number` (written by `author`) whose body is now `body`:
    /// GitHub's `issues` delivery, processed.
    async fn issue_event(&self, action: &str, number: i64, author: &str, body: &str, sender: &str) {
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
    fn replies(&self, number: i64) -> Vec<String> {
        self.github.with_world(|w| {
            w.repositories[REPO]
                .comments
                .iter()
                .filter(|c| c["user"]["login"] == BOT)
                .filter(|c| {
                    c["issue_url"]
                        .as_str()
                        .unwrap_or_default()
                        .ends_with(&format!("/issues/{number}"))
                })
                .map(|c| c["body"].as_str().unwrap().to_owned())
                .filter(|r| r.starts_with("> @upkeep"))
                .collect()
        })
    }

    /// The last reply to a command (passes running meanwhile may comment too).
    fn last_reply(&self, number: i64) -> String {
        self.replies(number).pop().unwrap_or_default()
    }

    /// upkeep's reactions on comment `id`.
    fn reactions(&self, id: i64) -> Vec<String> {
        self.github.with_world(|w| {
            w.repositories[REPO]
                .reactions
                .iter()
                .filter(|(c, _, u)| *c == id && u == BOT)
                .map(|(_, k, _)| k.clone())
                .collect()
        })
    }

    async fn jobs_done(&self, kind: &str) -> usize {
        self.store
            .list_jobs(&["done"], 500)
            .await
            .unwrap()
            .iter()
            .filter(|j| j.kind == kind)
            .count()
    }
}

const CONFIG: &str = "labels = [\"deps\"]\n";

#[tokio::test]
async fn help_answers_and_a_typo_gets_a_did_you_mean() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    let id = world.say(pr, "visitor", "@upkeep help").await;
    assert!(
        world.last_reply(pr).contains("Commands for `@upkeep`"),
        "{}",
        world.last_reply(pr)
    );
    assert_eq!(
        world.reactions(id),
        ["eyes", "+1"],
        "anyone may ask for help"
    );

    let id = world.say(pr, "maintainer", "@upkeep rebsae").await;
    let reply = world.last_reply(pr);
    assert!(reply.contains("Did you mean `@upkeep rebase`?"), "{reply}");
    assert!(
        reply.contains("Commands for `@upkeep`"),
        "the help follows: {reply}"
    );
    assert_eq!(world.reactions(id), ["eyes", "confused"]);
}

#[tokio::test]
async fn a_read_only_user_is_refused_politely_and_nothing_changes() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    let id = world.say(pr, "visitor", "@upkeep close").await;
    let reply = world.last_reply(pr);
    assert!(
        reply.contains("Sorry @visitor")
            && reply.contains("needs write, maintain or admin permission")
            && reply.contains("you have `read`"),
        "{reply}"
    );
    assert_eq!(world.reactions(id), ["eyes", "confused"]);
    assert_eq!(world.pr("upkeep/cargo/lockfile-refresh")["state"], "open");
    // Someone who is not a collaborator at all is refused too.
    world.say(pr, "stranger", "@upkeep merge").await;
    assert!(
        world.last_reply(pr).contains("you have `none`"),
        "{}",
        world.last_reply(pr)
    );
}

#[tokio::test]
async fn bots_are_never_listened_to() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    let before = world.replies(pr).len();
    let id = world.say(pr, "other[bot]", "@upkeep close").await;
    assert_eq!(world.replies(pr).len(), before);
    assert!(world.reactions(id).is_empty());
    assert_eq!(world.pr("upkeep/cargo/lockfile-refresh")["state"], "open");
}

#[tokio::test]
async fn close_and_reopen_and_merge_and_cancel_merge_act_on_the_pr() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let branch = "upkeep/cargo/demo-rand";
    let pr = world.number(branch);
    world.say(pr, "maintainer", "@upkeep close").await;
    assert_eq!(world.pr(branch)["state"], "closed");
    assert!(
        world.last_reply(pr).contains("Closed"),
        "{}",
        world.last_reply(pr)
    );
    world.say(pr, "maintainer", "@upkeep reopen").await;
    assert_eq!(world.pr(branch)["state"], "open");

    // Merge once green: nothing has run yet, so it waits, with the wish in the marker.
    world.say(pr, "maintainer", "@upkeep merge").await;
    assert!(
        world.last_reply(pr).contains("once every check is green"),
        "{}",
        world.last_reply(pr)
    );
    assert!(world.pr(branch)["body"]
        .as_str()
        .unwrap()
        .contains("automerge=yes"));
    world.say(pr, "maintainer", "@upkeep cancel merge").await;
    assert!(world.pr(branch)["body"]
        .as_str()
        .unwrap()
        .contains("automerge=no"));
    assert!(world.last_reply(pr).contains("will not merge itself"));

    // With every check green, `merge` merges at once.
    let sha = world.pr(branch)["head"]["sha"].as_str().unwrap().to_owned();
    world.github.with_world(|w| {
        w.add_check_run(REPO, &sha, "ci", "success");
    });
    world.say(pr, "maintainer", "@upkeep merge").await;
    assert!(
        world.last_reply(pr).contains("merged"),
        "{}",
        world.last_reply(pr)
    );
    assert_eq!(world.pr(branch)["merged"], true);
}

#[tokio::test]
async fn rebase_and_recreate_rebuild_the_pr_on_the_default_branch() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let branch = "upkeep/cargo/lockfile-refresh";
    let pr = world.number(branch);
    let before = world.pr(branch)["head"]["sha"].as_str().unwrap().to_owned();
    repo_world::push(
        &world.github,
        &[("NOTES.md", "moved on\n")],
        "unrelated work",
    );
    let main = world
        .github
        .with_world(|w| w.repositories[REPO].head().unwrap().clone());
    world.say(pr, "maintainer", "@upkeep rebase").await;
    assert!(
        world
            .last_reply(pr)
            .contains("Rebuilt on the default branch"),
        "{}",
        world.last_reply(pr)
    );
    let after = world.pr(branch)["head"]["sha"].as_str().unwrap().to_owned();
    assert_ne!(before, after);
    assert!(world.pr(branch)["body"]
        .as_str()
        .unwrap()
        .contains(&format!("base={main}")));
    world.say(pr, "maintainer", "@upkeep recreate").await;
    assert!(
        world.last_reply(pr).contains("Rebuilt"),
        "{}",
        world.last_reply(pr)
    );
    // rebase is for upkeep's PRs only.
    let issue = world.github.with_world(|w| {
        let n = w.repositories[REPO].next_number();
        w.repositories.get_mut(REPO).unwrap().issues.push(json!({
            "number": n, "title": "a question", "body": "", "state": "open",
            "user": {"login": "visitor", "id": 3, "type": "User"}, "labels": []
        }));
        n
    });
    world.say(issue, "maintainer", "@upkeep rebase").await;
    assert!(
        world
            .last_reply(issue)
            .contains("upkeep's own pull requests"),
        "{}",
        world.last_reply(issue)
    );
}

#[tokio::test]
async fn update_audit_retry_bench_and_revert_answer_from_anywhere() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    let deps_before = world.jobs_done("deps").await;
    world.say(pr, "maintainer", "@upkeep update").await;
    assert!(world.last_reply(pr).contains("dependency pass is queued"));
    assert_eq!(world.jobs_done("deps").await, deps_before + 1);
    world.say(pr, "maintainer", "@upkeep audit").await;
    assert!(world.last_reply(pr).contains("audit is queued"));
    assert!(world.jobs_done("audit").await >= 1);
    world.say(pr, "maintainer", "@upkeep retry").await;
    assert!(
        world.last_reply(pr).contains("Nothing failed recently"),
        "{}",
        world.last_reply(pr)
    );
    let id = world
        .say(pr, "maintainer", "@upkeep bench\n@upkeep revert")
        .await;
    let reply = world.last_reply(pr);
    assert!(
        reply.contains(
            "No successful run on this pull request's head has `upkeep-criterion` results"
        ),
        "{reply}"
    );
    assert!(
        reply.contains("`revert` reverts a merged pull request; this one is not merged."),
        "{reply}"
    );
    assert_eq!(world.reactions(id), ["eyes", "confused"]);
}

#[tokio::test]
async fn editing_a_comment_never_runs_a_command_twice() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    let id = world.say(pr, "maintainer", "@upkeep audit").await;
    let replies = world.replies(pr).len();
    let audits = world.jobs_done("audit").await;
    world
        .edit(pr, id, "maintainer", "Please:\n@upkeep audit")
        .await;
    assert_eq!(world.replies(pr).len(), replies, "nothing new ran");
    assert_eq!(world.jobs_done("audit").await, audits);
    // A command added by the edit runs; the old one does not.
    world
        .edit(pr, id, "maintainer", "Please:\n@upkeep audit\n@upkeep help")
        .await;
    assert_eq!(world.replies(pr).len(), replies + 1);
    let reply = world.last_reply(pr);
    assert!(
        reply.contains("Commands for") && !reply.contains("audit is queued"),
        "{reply}"
    );
    assert_eq!(world.jobs_done("audit").await, audits);
}

#[tokio::test]
async fn ignore_applies_at_once_and_round_trips_through_a_config_pr() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let branch = "upkeep/cargo/demo-rand";
    let pr = world.number(branch);
    world
        .say(pr, "maintainer", "@upkeep ignore this major version")
        .await;
    let reply = world.last_reply(pr);
    assert!(
        reply.contains("Ignoring `demo-rand` `>=0.9.0, <0.10.0` from now on"),
        "{reply}"
    );
    assert_eq!(world.pr(branch)["state"], "closed");
    // The configuration PR: the file with the ignore added and the rest kept.
    let config_pr = world.pr("upkeep/config/ignores");
    assert!(
        reply.contains(&format!("#{}", config_pr["number"])),
        "{reply}"
    );
    let file = repo_world::file_on(
        &world.github,
        "upkeep/config/ignores",
        ".github/upkeep.toml",
    )
    .unwrap();
    assert!(file.starts_with(CONFIG), "{file}");
    assert!(
        file.contains(
            "[[ignore]]\ndependency-name = \"demo-rand\"\nversions = [\">=0.9.0, <0.10.0\"]"
        ),
        "{file}"
    );

    // Applied at once: a pass now does not propose demo-rand 0.9 again.
    world.say(pr, "maintainer", "@upkeep update").await;
    let bumps = world.github.with_world(|w| {
        w.repositories[REPO]
            .pulls
            .iter()
            .filter(|p| p["head"]["ref"] == branch && p["state"] == "open")
            .count()
    });
    assert_eq!(bumps, 0);
    world
        .say(pr, "maintainer", "@upkeep show ignore conditions")
        .await;
    let reply = world.last_reply(pr);
    assert!(
        reply.contains("waiting for the `upkeep/config/ignores` pull request")
            && reply.contains("ignore `demo-rand`: `>=0.9.0, <0.10.0`"),
        "{reply}"
    );

    // The config PR merges: the file is the truth, nothing is pending.
    repo_world::push(
        &world.github,
        &[(".github/upkeep.toml", &file)],
        "merge the ignores",
    );
    let number = config_pr["number"].as_i64().unwrap();
    let d = world
        .github
        .deliver(
            &world.endpoint(),
            "pull_request",
            "closed.payload.json",
            7,
            Some(REPO),
            |p| {
                p["number"] = json!(number);
                p["pull_request"]["number"] = json!(number);
                p["pull_request"]["merged"] = json!(true);
                p["pull_request"]["head"]["ref"] = json!("upkeep/config/ignores");
                p["pull_request"]["user"] = config_pr["user"].clone();
            },
        )
        .await;
    assert_eq!(d.status, 202);
    world.settled().await;
    world
        .say(pr, "maintainer", "@upkeep show ignore conditions")
        .await;
    let reply = world.last_reply(pr);
    assert!(
        reply.contains("In `.github/upkeep.toml`")
            && reply.contains("`demo-rand`: `>=0.9.0, <0.10.0`"),
        "{reply}"
    );
    assert!(!reply.contains("waiting for"), "{reply}");

    // And back: unignore opens a PR that takes it out again.
    world
        .say(pr, "maintainer", "@upkeep unignore demo-rand")
        .await;
    assert!(
        world
            .last_reply(pr)
            .contains("`demo-rand` is no longer ignored"),
        "{}",
        world.last_reply(pr)
    );
    let file = repo_world::file_on(
        &world.github,
        "upkeep/config/ignores",
        ".github/upkeep.toml",
    )
    .unwrap();
    assert!(!file.contains("demo-rand"), "{file}");
}

/// The dashboard issue on the fake GitHub.
fn dashboard(world: &World) -> Option<Value> {
    world.github.with_world(|w| {
        w.repositories[REPO]
            .issues
            .iter()
            .find(|i| {
                i["body"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("<!-- upkeep:dashboard -->")
            })
            .cloned()
    })
}

#[tokio::test]
async fn the_dashboard_shows_what_upkeep_sees_and_a_ticked_box_acts_and_unticks() {
    // One PR at a time: the breaking bump waits for room.
    let Some(world) = World::new("open-pull-requests-limit = 2\n").await else {
        return;
    };
    // The first pass ran without a dashboard; the server's passes keep one.
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    world.say(pr, "maintainer", "@upkeep update").await;
    let issue = dashboard(&world).expect("a dashboard");
    assert_eq!(issue["title"], "Upkeep dashboard");
    let body = issue["body"].as_str().unwrap().to_owned();
    assert!(
        body.contains("- [ ] Create now: Bump demo-rand from 0.8.1 to 0.9.0"),
        "{body}"
    );
    assert!(body.contains(&format!("- [ ] Rebase #{pr} ")), "{body}");
    assert!(body.contains("## Advisories"), "{body}");

    // A person ticks "Create now": the PR is opened and the box is gone.
    let number = issue["number"].as_i64().unwrap();
    let ticked = body.replace("- [ ] Create now", "- [x] Create now");
    world.github.with_world(|w| {
        let i = w
            .repositories
            .get_mut(REPO)
            .unwrap()
            .issue_mut(number)
            .unwrap();
        i["body"] = json!(ticked);
    });
    world
        .issue_event("edited", number, "upkeep[bot]", &ticked, "maintainer")
        .await;
    let bump = world.pr("upkeep/cargo/demo-rand");
    assert_eq!(bump["state"], "open");
    let body = dashboard(&world).unwrap()["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!body.contains("[x]"), "unticked: {body}");
    assert!(
        body.contains(&format!("- [ ] Rebase #{} ", bump["number"])),
        "{body}"
    );

    // Closing the dashboard turns it off: the next pass leaves it closed and files no other.
    world.github.with_world(|w| {
        let i = w
            .repositories
            .get_mut(REPO)
            .unwrap()
            .issue_mut(number)
            .unwrap();
        i["state"] = json!("closed");
    });
    world
        .issue_event("closed", number, "upkeep[bot]", &body, "maintainer")
        .await;
    world.say(pr, "maintainer", "@upkeep update").await;
    let dashboards = world.github.with_world(|w| {
        w.repositories[REPO]
            .issues
            .iter()
            .filter(|i| {
                i["body"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("<!-- upkeep:dashboard -->")
            })
            .count()
    });
    assert_eq!(dashboards, 1);
    assert_eq!(dashboard(&world).unwrap()["state"], "closed");

    // Reopened: on again, and brought up to date right away.
    let stale = "<!-- upkeep:dashboard -->\nold text\n";
    world.github.with_world(|w| {
        let i = w
            .repositories
            .get_mut(REPO)
            .unwrap()
            .issue_mut(number)
            .unwrap();
        i["state"] = json!("open");
        i["body"] = json!(stale);
    });
    world
        .issue_event("reopened", number, "upkeep[bot]", stale, "maintainer")
        .await;
    let body = dashboard(&world).unwrap()["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(body.contains("## Open pull requests"), "refreshed: {body}");
}

#[tokio::test]
async fn retry_runs_the_last_failed_job_again() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    // GitHub refuses once: the audit job dies.
    world.github.fault(
        "repos/get",
        fake_github::Fault::refusal(403, "Resource not accessible by integration"),
    );
    world.allow_dead.set(true);
    world.say(pr, "maintainer", "@upkeep audit").await;
    let dead = world.store.list_jobs(&["dead"], 10).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:#?}");
    world.allow_dead.set(false);
    world.say(pr, "maintainer", "@upkeep retry").await;
    let reply = world.last_reply(pr);
    assert!(
        reply.contains(&format!("Running the `{}` job again", dead[0].kind))
            && reply.contains("Resource not accessible by integration"),
        "{reply}"
    );
    // settled() found no dead job: it ran and succeeded.
    let again = world
        .store
        .job_by_key(&dead[0].dedupe_key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.state, "done");
}

#[tokio::test]
async fn ignore_this_dependency_ignores_every_version() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    // On a PR that updates several dependencies it asks which one.
    let refresh = world.number("upkeep/cargo/lockfile-refresh");
    world
        .say(refresh, "maintainer", "@upkeep ignore this dependency")
        .await;
    assert!(
        world
            .last_reply(refresh)
            .contains("updates several dependencies"),
        "{}",
        world.last_reply(refresh)
    );
    let pr = world.number("upkeep/cargo/demo-yanked-yanked");
    world
        .say(pr, "maintainer", "@upkeep ignore this dependency")
        .await;
    let reply = world.last_reply(pr);
    assert!(
        reply.contains("Ignoring `demo-yanked` (every version)"),
        "{reply}"
    );
    let file = repo_world::file_on(
        &world.github,
        "upkeep/config/ignores",
        ".github/upkeep.toml",
    )
    .unwrap();
    assert!(
        file.contains(
            "[[ignore]]\ndependency-name = \"demo-yanked\"\nreason = \"ignored by command\""
        ),
        "{file}"
    );
    // Lifting it again before the PR merges leaves nothing to write: the PR closes.
    world
        .say(pr, "maintainer", "@upkeep unignore demo-yanked major")
        .await;
    assert!(world
        .last_reply(pr)
        .contains("is not a version requirement"));
    world
        .say(pr, "maintainer", "@upkeep unignore demo-yanked")
        .await;
    let reply = world.last_reply(pr);
    assert!(reply.contains("is closed"), "{reply}");
    assert_eq!(world.pr("upkeep/config/ignores")["state"], "closed");
}

#[tokio::test]
async fn markers_in_issues_a_stranger_wrote_and_ticks_by_readers_change_nothing() {
    let Some(world) = World::new("open-pull-requests-limit = 2\n").await else {
        return;
    };
    let repo_id = world.github.with_world(|w| w.repositories[REPO].id);
    // A stranger's issue carrying the dashboard marker, closed: the dashboard stays on.
    let fake = world.github.with_world(|w| {
        let n = w.repositories[REPO].next_number();
        w.repositories.get_mut(REPO).unwrap().issues.push(json!({
            "number": n, "title": "Upkeep dashboard", "body": "<!-- upkeep:dashboard -->", "state": "closed",
            "user": {"login": "stranger", "id": 3, "type": "User"}, "labels": []
        }));
        n
    });
    world
        .issue_event(
            "closed",
            fake,
            "stranger",
            "<!-- upkeep:dashboard -->",
            "stranger",
        )
        .await;
    let repo = world.store.repository(repo_id).await.unwrap().unwrap();
    assert!(
        !repo.dashboard_off,
        "a stranger's issue cannot turn the dashboard off"
    );

    // The real dashboard, ticked by a reader: nothing is created.
    let pr = world.number("upkeep/cargo/lockfile-refresh");
    world.say(pr, "maintainer", "@upkeep update").await;
    let issue = dashboard(&world).expect("a dashboard");
    let number = issue["number"].as_i64().unwrap();
    let ticked = issue["body"]
        .as_str()
        .unwrap()
        .replace("- [ ] Create now", "- [x] Create now");
    world
        .issue_event("edited", number, "upkeep[bot]", &ticked, "visitor")
        .await;
    let open_bump = world.github.with_world(|w| {
        w.repositories[REPO]
            .pulls
            .iter()
            .any(|p| p["head"]["ref"] == "upkeep/cargo/demo-rand" && p["state"] == "open")
    });
    assert!(!open_bump, "a reader's tick creates nothing");
}

#[tokio::test]
async fn ignore_this_minor_or_patch_version_ignores_just_that_range() {
    let Some(world) = World::new(CONFIG).await else {
        return;
    };
    let bump = world.number("upkeep/cargo/demo-rand");
    world
        .say(bump, "maintainer", "@upkeep ignore this minor version")
        .await;
    let reply = world.last_reply(bump);
    assert!(
        reply.contains("Ignoring `demo-rand` `>=0.9.0, <0.10.0` from now on"),
        "{reply}"
    );
    let yanked = world.number("upkeep/cargo/demo-yanked-yanked");
    world
        .say(yanked, "maintainer", "@upkeep ignore this patch version")
        .await;
    let reply = world.last_reply(yanked);
    assert!(
        reply.contains("Ignoring `demo-yanked` `=1.2.4` from now on"),
        "{reply}"
    );
    // Both land in the one configuration PR.
    let file = repo_world::file_on(
        &world.github,
        "upkeep/config/ignores",
        ".github/upkeep.toml",
    )
    .unwrap();
    assert!(file.contains("versions = [\">=0.9.0, <0.10.0\"]"), "{file}");
    assert!(file.contains("versions = [\"=1.2.4\"]"), "{file}");
}
