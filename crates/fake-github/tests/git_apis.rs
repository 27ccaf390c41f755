//! The fake's Git Data and contents APIs round-trip with git's own object ids, and compare lists
//! the commits and files between two refs, each answer held to GitHub's description.

mod common;

use common::{available, call, o_r, token};
use serde_json::{json, Value};

#[tokio::test]
async fn the_git_data_and_contents_apis_round_trip_with_gits_own_ids() {
    if !available() {
        return;
    }
    let github = o_r()
        .files(
            "o/r",
            &[
                ("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n"),
                ("crates/a/Cargo.toml", "[package]\nname = \"a\"\n"),
            ],
        )
        .start()
        .await;
    let t = token(&github).await;
    let get = |path: String| {
        let (github, t) = (&github, &t);
        async move { call(github, reqwest::Method::GET, &path, t, None).await }
    };

    let (status, main, _) = get("/repos/o/r/git/ref/heads/main".into()).await;
    assert_eq!(status, 200);
    let head = main["object"]["sha"].as_str().unwrap().to_owned();
    let (_, commit, _) = get(format!("/repos/o/r/git/commits/{head}")).await;
    let tree = commit["tree"]["sha"].as_str().unwrap().to_owned();
    let (_, listing, _) = get(format!("/repos/o/r/git/trees/{tree}?recursive=1")).await;
    let paths: Vec<&str> = listing["tree"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "blob")
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"Cargo.toml") && paths.contains(&"crates/a/Cargo.toml"),
        "{paths:?}"
    );
    let (status, file, _) = get("/repos/o/r/contents/crates/a/Cargo.toml".into()).await;
    assert_eq!(status, 200);
    use base64::Engine;
    let content = base64::engine::general_purpose::STANDARD
        .decode(file["content"].as_str().unwrap())
        .unwrap();
    assert_eq!(content, b"[package]\nname = \"a\"\n");

    // A change through the Git Data API: blob, tree on the base, commit, branch.
    let post = |path: &str, body: Value| {
        let (github, t, path) = (&github, &t, path.to_owned());
        async move { call(github, reqwest::Method::POST, &path, t, Some(body)).await }
    };
    let (status, blob, _) = post(
        "/repos/o/r/git/blobs",
        json!({"content": "[package]\nname = \"a\"\nversion = \"2\"\n", "encoding": "utf-8"}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, new_tree, _) = post(
        "/repos/o/r/git/trees",
        json!({"base_tree": tree, "tree": [{"path": "crates/a/Cargo.toml", "mode": "100644", "type": "blob", "sha": blob["sha"]}]}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, new_commit, _) = post(
        "/repos/o/r/git/commits",
        json!({"message": "Bump a", "tree": new_tree["sha"], "parents": [head]}),
    )
    .await;
    assert_eq!(status, 201);
    let new_sha = new_commit["sha"].as_str().unwrap().to_owned();
    let (status, _, _) = post(
        "/repos/o/r/git/refs",
        json!({"ref": "refs/heads/upkeep/cargo/a", "sha": new_sha}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _, _) = post(
        "/repos/o/r/git/refs",
        json!({"ref": "refs/heads/upkeep/cargo/a", "sha": new_sha}),
    )
    .await;
    assert_eq!(status, 422, "a second branch of the same name is refused");
    // Moving the branch back is not a fast-forward: refused unless forced.
    let patch = |body: Value| {
        call(
            &github,
            reqwest::Method::PATCH,
            "/repos/o/r/git/refs/heads/upkeep/cargo/a",
            &t,
            Some(body),
        )
    };
    assert_eq!(patch(json!({"sha": head})).await.0, 422);
    assert_eq!(patch(json!({"sha": head, "force": true})).await.0, 200);
    let (status, _, _) = call(
        &github,
        reqwest::Method::DELETE,
        "/repos/o/r/git/refs/heads/upkeep/cargo/a",
        &t,
        None,
    )
    .await;
    assert_eq!(status, 204);
    // The new commit's tree holds the change and keeps the rest.
    let files = github.with_world(|w| {
        let repo = &w.repositories["o/r"];
        repo.objects.files(new_tree["sha"].as_str().unwrap())
    });
    assert_eq!(files.len(), 2);
    github.assert_conformant();
}

#[tokio::test]
async fn compare_lists_the_commits_and_files_between_two_refs() {
    if !available() {
        return;
    }
    let github = o_r()
        .files(
            "o/r",
            &[
                ("Cargo.toml", "[package]\nname = \"r\"\n"),
                ("Cargo.lock", "version = 4\n"),
            ],
        )
        .start()
        .await;
    let green = github.with_world(|w| w.repositories["o/r"].head().cloned().unwrap());
    // Two merges land on main: one edits Cargo.lock, one adds a file.
    github.with_world(|w| {
        let repo = w.repositories.get_mut("o/r").unwrap();
        let files = |extra: &[(&str, &str)]| {
            let mut f: std::collections::BTreeMap<String, Vec<u8>> = [
                (
                    "Cargo.toml".to_owned(),
                    b"[package]\nname = \"r\"\n".to_vec(),
                ),
                (
                    "Cargo.lock".to_owned(),
                    b"version = 4\n# serde 1.0.228\n".to_vec(),
                ),
            ]
            .into();
            for (p, c) in extra {
                f.insert((*p).to_owned(), c.as_bytes().to_vec());
            }
            f
        };
        repo.commit_files(&files(&[]), "Bump serde", 1);
        repo.commit_files(&files(&[("src/lib.rs", "pub fn f() {}\n")]), "Add f", 2);
    });
    let t = token(&github).await;
    let (status, cmp, _) = call(
        &github,
        reqwest::Method::GET,
        &format!("/repos/o/r/compare/{green}...main"),
        &t,
        None,
    )
    .await;
    assert_eq!(status, 200, "{cmp} {:?}", github.violations());
    assert_eq!(
        (
            cmp["status"].as_str(),
            cmp["ahead_by"].as_i64(),
            cmp["behind_by"].as_i64()
        ),
        (Some("ahead"), Some(2), Some(0))
    );
    let messages: Vec<&str> = cmp["commits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["commit"]["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["Bump serde", "Add f"], "oldest first");
    let files: Vec<(&str, &str)> = cmp["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["filename"].as_str().unwrap(),
                f["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(files, [("Cargo.lock", "modified"), ("src/lib.rs", "added")]);
    github.assert_conformant();
}
