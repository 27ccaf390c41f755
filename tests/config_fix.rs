//! A repository's `.github/upkeep.toml` with a mistake that has exactly one fix gets one pull
//! request on `upkeep/config-fix` making it, with comments and layout kept; a mistake that is
//! ambiguous stays a reported error with no PR. Through the daily pass, against the fake
//! GitHub (every request held to GitHub's OpenAPI description).

mod common;

use common::registry::LoopbackRegistry;
use common::repo_world::{self, REPO};
use fake_github::FakeGitHub;
use upkeep::github::InstallationClient;

const BRANCH: &str = "upkeep/config-fix";
const PATH: &str = ".github/upkeep.toml";

struct World {
    github: FakeGitHub,
    _registry: LoopbackRegistry,
    client: InstallationClient,
}

impl World {
    async fn with_config(config: &str) -> Option<World> {
        common::shared_dir()?;
        let github = repo_world::github_with(&repo_world::fixture_files(Some(config))).await;
        let registry = LoopbackRegistry::start().await;
        let client = repo_world::installation_client(&github);
        Some(World {
            github,
            _registry: registry,
            client,
        })
    }

    /// One daily pass, by a fresh process (nothing remembered in memory).
    async fn daily_pass(&self) {
        repo_world::deps_pass(&self._registry)
            .run(&self.client, REPO, &std::collections::BTreeSet::new())
            .await
            .unwrap();
    }

    /// upkeep's PRs on the fix branch: (number, state, body).
    fn fix_prs(&self) -> Vec<(i64, String, String)> {
        self.github.with_world(|w| {
            w.repositories[REPO]
                .pulls
                .iter()
                .filter(|p| p["head"]["ref"] == BRANCH)
                .map(|p| {
                    (
                        p["number"].as_i64().unwrap(),
                        p["state"].as_str().unwrap().to_owned(),
                        p["body"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
    }

    fn close_unmerged(&self, number: i64) {
        self.github.with_world(|w| {
            let repo = w.repositories.get_mut(REPO).unwrap();
            let pr = repo
                .pulls
                .iter_mut()
                .find(|p| p["number"] == number)
                .unwrap();
            pr["state"] = "closed".into();
        });
    }

    fn config_check_summaries(&self) -> Vec<String> {
        self.github.with_world(|w| {
            w.repositories[REPO]
                .check_runs
                .iter()
                .filter(|r| r["name"] == "upkeep/config")
                .map(|r| r["output"]["summary"].as_str().unwrap().to_owned())
                .collect()
        })
    }
}

const MISSPELT: &str = "# Look every morning.\nschedul = \"daily\"  # before the team is in\n\n# Keep it tidy.\nlabels = [\"dependencies\"]\nopen-pull-requests-limit = \"3\"\n";

#[tokio::test]
async fn a_misspelt_key_gets_one_pull_request_that_fixes_it_keeping_comments() {
    let Some(world) = World::with_config(MISSPELT).await else {
        return;
    };
    world.daily_pass().await;
    world.daily_pass().await;

    let prs = world.fix_prs();
    assert_eq!(
        prs.len(),
        1,
        "one PR, found again by the next pass: {prs:?}"
    );
    let (number, state, body) = &prs[0];
    assert_eq!(state, "open");
    assert_eq!(
        repo_world::file_on(&world.github, BRANCH, PATH).unwrap(),
        "# Look every morning.\nschedule = { interval = \"daily\" }  # before the team is in\n\n# Keep it tidy.\nlabels = [\"dependencies\"]\nopen-pull-requests-limit = 3\n"
    );
    assert!(body.contains("`schedul` → `schedule`"), "{body}");
    assert!(body.contains("(a number)"), "{body}");
    // The fixed file has no problem left.
    let fixed = repo_world::file_on(&world.github, BRANCH, PATH).unwrap();
    assert!(upkeep::config::parse(&fixed).problems.is_empty());
    // The check run on the default branch points at the PR.
    let summaries = world.config_check_summaries();
    assert!(
        summaries[0].contains(&format!("#{number} fixes")),
        "{summaries:?}"
    );
    world.github.assert_conformant();
}

#[tokio::test]
async fn a_fix_a_person_closed_is_not_proposed_again_for_the_same_file() {
    let Some(world) = World::with_config(MISSPELT).await else {
        return;
    };
    world.daily_pass().await;
    let (number, _, _) = world.fix_prs()[0].clone();
    world.close_unmerged(number);
    world.daily_pass().await;
    let prs = world.fix_prs();
    assert_eq!(prs.len(), 1, "{prs:?}");
    assert_eq!(prs[0].1, "closed");

    // A new version of the file with a mistake is a new question.
    repo_world::push(
        &world.github,
        &[(PATH, "labls = [\"deps\"]\n")],
        "edit config",
    );
    world.daily_pass().await;
    let prs = world.fix_prs();
    assert_eq!(prs.len(), 2, "{prs:?}");
    assert_eq!(
        repo_world::file_on(&world.github, BRANCH, PATH).unwrap(),
        "labels = [\"deps\"]\n"
    );
    world.github.assert_conformant();
}

#[tokio::test]
async fn an_ambiguous_mistake_gets_no_pull_request_only_the_error() {
    // `semver-m-days` is as near to `semver-major-days` as to `semver-minor-days`.
    let Some(world) = World::with_config("[cooldown]\nsemver-m-days = 3\n").await else {
        return;
    };
    world.daily_pass().await;
    assert_eq!(world.fix_prs(), vec![]);
    let summaries = world.config_check_summaries();
    assert_eq!(summaries.len(), 1);
    assert!(
        summaries[0].contains("unknown key `semver-m-days`"),
        "{summaries:?}"
    );
    assert!(!summaries[0].contains("fixes"), "{summaries:?}");
    world.github.assert_conformant();
}
