//! Benchmark baselines on the fake GitHub, end to end: a `workflow_run` completed delivery, the
//! run's `upkeep-criterion` artifact downloaded (through GitHub's redirect) and read, and the
//! verdicts as an `upkeep/bench` check run on the head commit. Pushes to the default branch make
//! the baseline; a PR slowed by 25 % is re-run to confirm, then gets a failing check and one
//! comment, edited in place on later runs; a spike the re-run does not repeat is not reported; a fork's run never moves the baseline; a malicious zip is refused with a clear error.

mod common;

use common::bench_artifacts::{artifact_from_run, zip_of};
use common::bench_world::World;
use common::eventually;
use common::repo_world::{self, REPO};
use fake_github::webhooks::Endpoint;
use serde_json::json;

#[tokio::test]
async fn default_branch_runs_make_the_baseline_and_a_slowed_pr_fails_with_one_comment() {
    let Some(world) = World::new().await else {
        return;
    };
    world.baseline().await;

    // A PR whose code is 25 % slower.
    let (sha, pr, run) = world.pr_benchmarked("slower", "Make it slower", 1.25).await;
    // One run is not enough: the run is re-run, and nobody is told yet.
    let check = world.check(&sha);
    assert_eq!(check["status"], "in_progress", "{check:#}");
    assert!(check["conclusion"].is_null(), "{check:#}");
    assert!(check["output"]["title"]
        .as_str()
        .unwrap()
        .contains("re-running to confirm"));
    assert!(world.rerun_asked(run));
    assert!(world.bench_comments(pr).is_empty());
    world
        .rerun_ends(run, REPO, artifact_from_run(1, 1.25))
        .await;
    let checks = world.checks(&sha);
    assert_eq!(
        checks.len(),
        1,
        "the re-run's verdict completes the check run it left in progress: {checks:#?}"
    );
    let check = world.check(&sha);
    assert_eq!(check["status"], "completed", "{check:#}");
    assert_eq!(check["conclusion"], "failure", "{check:#}");
    let summary = check["output"]["summary"].as_str().unwrap();
    assert!(
        summary.contains("| `plan/300-crate lockfile (discover + parse + plan)` |"),
        "{summary}"
    );
    assert!(summary.contains("🔴 regressed"), "{summary}");
    assert!(check["output"]["title"]
        .as_str()
        .unwrap()
        .contains("regressed"));
    assert_eq!(world.bench_comments(pr).len(), 1);
    // A new run, once confirmed, edits the same comment instead of adding one.
    let run = world
        .run(
            "pull_request",
            "slower",
            &sha,
            REPO,
            artifact_from_run(1, 1.5),
        )
        .await;
    world.rerun_ends(run, REPO, artifact_from_run(1, 1.5)).await;
    let after = world.bench_comments(pr);
    assert_eq!(after.len(), 1);
    assert!(
        after[0].contains("+5"),
        "the edited comment shows the new run: {}",
        after[0]
    );
    // The PR's results never became the baseline.
    assert_eq!(world.baseline_commits().await, 5);

    // Regressed rows link to the benchmark's trend, which the app serves as SVG for a public
    // repository.
    let repo_id = world.github.with_world(|w| w.repositories[REPO].id);
    let link = format!(
        "https://upkeep.example/bench/{repo_id}/chart.svg?branch=main&runner=linux%2Fx64%2Fubuntu-latest&id=plan%2F300-crate+lockfile+%28discover+%2B+parse+%2B+plan%29"
    );
    assert!(summary.contains(&format!("([trend]({link}))")), "{summary}");
    let endpoint = Endpoint {
        url: world.server.url("/webhook"),
        secret: common::SECRET.into(),
    };
    let d = world
        .github
        .deliver(&endpoint, "installation", "created.payload.json", 7, None, |p| {
            p["repositories"] = json!([{
                "id": repo_id, "node_id": "R_1", "name": "r", "full_name": REPO, "private": false
            }]);
        })
        .await;
    assert_eq!(d.status, 202);
    let url = world
        .server
        .url(&link.replace("https://upkeep.example", ""));
    let chart = eventually(30, "the chart", || {
        let url = url.clone();
        async move {
            let r = reqwest::get(&url).await.ok()?;
            (r.status() == 200).then_some(r.text().await.ok()?)
        }
    })
    .await;
    assert!(chart.starts_with("<svg"), "{chart}");
    assert_eq!(
        chart.matches("<circle").count(),
        5,
        "one point per default-branch commit"
    );
    let missing = reqwest::get(
        world
            .server
            .url("/bench/999/chart.svg?branch=main&runner=x&id=y"),
    )
    .await
    .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_pr_regression_that_a_rerun_does_not_repeat_is_not_reported() {
    let Some(world) = World::new().await else {
        return;
    };
    world.baseline().await;
    // The runner had a slow spell during the first run; the re-run is as fast as main.
    let (sha, pr, run) = world.pr_benchmarked("spiky", "Innocent", 1.25).await;
    assert!(world.rerun_asked(run));
    world
        .rerun_ends(run, REPO, artifact_from_run(1, 1.01))
        .await;
    let checks = world.checks(&sha);
    assert_eq!(checks.len(), 1, "{checks:#?}");
    assert_eq!(checks[0]["conclusion"], "success", "{:#}", checks[0]);
    assert!(
        world.bench_comments(pr).is_empty(),
        "no comment for a spike"
    );
    world.github.assert_conformant();
}

#[tokio::test]
async fn a_confirming_rerun_that_fails_does_not_leave_the_check_in_progress() {
    let Some(world) = World::new().await else {
        return;
    };
    world.baseline().await;
    let (sha, pr, run) = world.pr_benchmarked("slower", "Maybe slower", 1.25).await;
    assert_eq!(world.check(&sha)["status"], "in_progress");
    // The re-run breaks (a flaky test in the benchmark job, say): nothing to confirm with.
    world
        .github
        .with_world(|w| w.end_rerun(REPO, run, "failure"));
    world.deliver(run, REPO).await;
    let checks = world.checks(&sha);
    assert_eq!(checks.len(), 1, "{checks:#?}");
    let check = &checks[0];
    assert_eq!(check["status"], "completed", "{check:#}");
    assert_eq!(check["conclusion"], "neutral", "{check:#}");
    assert!(
        check["output"]["title"]
            .as_str()
            .unwrap()
            .contains("not confirmed"),
        "{check:#}"
    );
    assert!(
        world.bench_comments(pr).is_empty(),
        "an unconfirmed regression is not reported"
    );
    world.github.assert_conformant();
}

/// An artifact holding `cargo bench -- --output-format bencher` lines: `parse` at 10 µs ×
/// `factor`, `render` at 50 µs.
/// Results without samples, in the two forms that carry only an estimate and a spread:
/// `cargo bench -- --output-format bencher` lines, or criterion's `estimates.json` alone (what
/// the reusable workflow keeps when the samples would break its size bound).
#[derive(Clone, Copy, Debug)]
enum Summaries {
    BencherLines,
    CriterionEstimates,
}

fn summary_artifact(form: Summaries, factor: f64) -> Vec<u8> {
    let benchmarks = [
        ("parse", 10_000.0 * factor, 40.0),
        ("render", 50_000.0, 150.0),
    ];
    let mut files: Vec<(String, Vec<u8>)> = match form {
        Summaries::BencherLines => {
            let mut lines = String::from("running 2 tests\n");
            for (id, ns, spread) in benchmarks {
                lines += &format!("test {id} ... bench: {ns:.0} ns/iter (+/- {spread})\n");
            }
            vec![("results/bench.txt".into(), lines.into_bytes())]
        }
        Summaries::CriterionEstimates => benchmarks
            .iter()
            .flat_map(|(id, ns, spread)| {
                let estimates = serde_json::json!({
                    "mean": {
                        "confidence_interval": {
                            "confidence_level": 0.95,
                            "lower_bound": ns - spread,
                            "upper_bound": ns + spread,
                        },
                        "point_estimate": ns,
                        "standard_error": spread / 2.0,
                    },
                    "slope": null,
                });
                [
                    (
                        format!("{id}/new/benchmark.json"),
                        serde_json::json!({ "full_id": id })
                            .to_string()
                            .into_bytes(),
                    ),
                    (
                        format!("{id}/new/estimates.json"),
                        estimates.to_string().into_bytes(),
                    ),
                ]
            })
            .collect(),
    };
    files.push((
        "upkeep-runner.json".into(),
        br#"{"os":"Linux","arch":"X64","label":"ubuntu-latest"}"#.to_vec(),
    ));
    zip_of(&files)
}

#[tokio::test]
async fn results_without_samples_make_a_baseline_and_a_verdict_too() {
    for form in [Summaries::BencherLines, Summaries::CriterionEstimates] {
        let Some(world) = World::new().await else {
            return;
        };
        for run in 1..=5u32 {
            repo_world::push(&world.github, &[("NOTES.md", &format!("{run}\n"))], "work");
            let sha = world.head();
            world
                .run(
                    "push",
                    "main",
                    &sha,
                    REPO,
                    summary_artifact(form, 1.0 + 0.002 * f64::from(run)),
                )
                .await;
        }
        assert_eq!(world.baseline_commits().await, 5, "{form:?}");
        let (sha, _) = world
            .open_pr("slower", "Slower parse", &[("src/lib.rs", "// slower\n")])
            .await;
        let run = world
            .run(
                "pull_request",
                "slower",
                &sha,
                REPO,
                summary_artifact(form, 1.3),
            )
            .await;
        assert!(
            world.rerun_asked(run),
            "{form:?}: a regression, so re-run to confirm"
        );
        world
            .rerun_ends(run, REPO, summary_artifact(form, 1.3))
            .await;
        let check = world.check(&sha);
        assert_eq!(check["conclusion"], "failure", "{form:?}: {check:#}");
        let summary = check["output"]["summary"].as_str().unwrap();
        let row = |id: &str| {
            summary
                .lines()
                .find(|l| l.starts_with(&format!("| `{id}` |")))
                .unwrap_or_else(|| panic!("{form:?}: no row for {id} in {summary}"))
                .to_owned()
        };
        assert!(row("parse").contains("🔴 regressed"), "{form:?}: {summary}");
        assert!(
            row("render").contains("| unchanged |"),
            "{form:?}: {summary}"
        );
    }
}

#[tokio::test]
async fn a_forks_run_never_moves_the_baseline() {
    let Some(world) = World::new().await else {
        return;
    };
    let sha = world.head();
    world
        .run("push", "main", &sha, "someone/r", artifact_from_run(1, 1.0))
        .await;
    assert_eq!(
        world.baseline_commits().await,
        0,
        "a fork's push to its own main"
    );
    world
        .run("push", "main", &sha, REPO, artifact_from_run(1, 1.0))
        .await;
    assert_eq!(world.baseline_commits().await, 1);
}

#[tokio::test]
async fn a_malicious_zip_is_refused_with_a_clear_error() {
    let Some(world) = World::new().await else {
        return;
    };
    let sha = world.head();
    let evil = zip_of(&[("../../etc/new/sample.json".into(), b"{}".to_vec())]);
    world.run("push", "main", &sha, REPO, evil).await;
    let check = world.check(&sha);
    assert_eq!(check["conclusion"], "neutral");
    assert_eq!(check["output"]["title"], "Benchmark results refused");
    assert!(
        check["output"]["summary"]
            .as_str()
            .unwrap()
            .contains("not a plain relative path"),
        "{check:#}"
    );
    assert_eq!(world.baseline_commits().await, 0);
    // A bomb: a few KiB that inflate to 64 MiB.
    let bomb = zip_of(&[("a/new/sample.json".into(), vec![b' '; 64 * 1024 * 1024])]);
    world.run("push", "main", &sha, REPO, bomb).await;
    assert!(world.check(&sha)["output"]["summary"]
        .as_str()
        .unwrap()
        .contains("zip bomb"));
}

#[tokio::test]
async fn at_upkeep_bench_posts_the_comparison_even_without_a_regression() {
    let Some(world) = World::new().await else {
        return;
    };
    world.github.with_world(|w| {
        let perms = &mut w.repositories.get_mut(REPO).unwrap().permissions;
        perms.insert("maintainer".into(), "write".into());
    });
    let main = world.head();
    world
        .run("push", "main", &main, REPO, artifact_from_run(1, 1.0))
        .await;
    let (sha, pr) = world
        .open_pr("same", "Same speed", &[("src/lib.rs", "// same\n")])
        .await;
    let pr = pr as i64;
    world
        .run(
            "pull_request",
            "same",
            &sha,
            REPO,
            artifact_from_run(1, 1.001),
        )
        .await;
    assert_eq!(
        world.bench_comments(pr as u64).len(),
        0,
        "nothing regressed: no comment"
    );
    let id = world
        .github
        .with_world(|w| w.add_comment(REPO, pr, "maintainer", "@upkeep bench"));
    let endpoint = Endpoint {
        url: world.server.url("/webhook"),
        secret: common::SECRET.into(),
    };
    let d = world
        .github
        .deliver(
            &endpoint,
            "issue_comment",
            "created.payload.json",
            7,
            Some(REPO),
            |p| {
                p["issue"]["number"] = json!(pr);
                p["issue"]["pull_request"] =
                    json!({ "url": format!("https://api.github.com/repos/{REPO}/pulls/{pr}") });
                p["comment"]["id"] = json!(id);
                p["comment"]["body"] = json!("@upkeep bench");
                p["comment"]["user"]["login"] = json!("maintainer");
                p["comment"]["user"]["type"] = json!("User");
                p["sender"]["login"] = json!("maintainer");
                p["sender"]["type"] = json!("User");
            },
        )
        .await;
    assert_eq!(d.status, 202);
    let github = &world.github;
    eventually(30, "the comparison posted", || async move {
        github.with_world(|w| {
            w.repositories[REPO]
                .comments
                .iter()
                .any(|c| {
                    c["body"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("The benchmark comparison is posted above")
                })
                .then_some(())
        })
    })
    .await;
    let all: Vec<String> = world.github.with_world(|w| {
        w.repositories[REPO]
            .comments
            .iter()
            .map(|c| {
                c["body"]
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .take(120)
                    .collect()
            })
            .collect()
    });
    assert_eq!(world.bench_comments(pr as u64).len(), 1, "{all:#?}");
}
