//! The world dependency scenarios share: the `inherited` fixture workspace on a fake GitHub
//! repository `o/r` (installation 7), a client acting as that installation, a dependency pass
//! reading the loopback registry, and git helpers (a file on a branch, a push to main).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use fake_github::git::Object;
use fake_github::FakeGitHub;
use secrecy::SecretString;
use upkeep::cargo::Resolver;
use upkeep::deps::pass::DepsPass;
use upkeep::github::{GitHubApp, InstallationClient, RetryPolicy};
use upkeep::index::registries::Registries;
use upkeep::index::IndexClient;

use super::registry::LoopbackRegistry;

pub const REPO: &str = "o/r";

/// The fixture workspace's files plus a README, with `.github/upkeep.toml` replaced by `config`.
pub fn fixture_files(config: Option<&str>) -> Vec<(String, String)> {
    let root = super::repo_root().join("tests/fixtures/repos/inherited");
    let tree = upkeep::check::local_tree(&root).unwrap();
    let mut files: Vec<(String, String)> = tree
        .iter()
        .filter(|p| p.as_str() != ".github/upkeep.toml")
        .map(|p| (p.clone(), std::fs::read_to_string(root.join(p)).unwrap()))
        .collect();
    files.push(("README.md".into(), "# r\n".into()));
    if let Some(c) = config {
        files.push((".github/upkeep.toml".into(), c.into()));
    }
    files
}

/// A fake GitHub with the App, installation 7 and `o/r` holding `files`.
pub async fn github_with(files: &[(String, String)]) -> FakeGitHub {
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    FakeGitHub::builder()
        .app(super::APP_ID, &super::public_key_pem())
        .installation(7, "o")
        .repository(7, REPO)
        .files(REPO, &borrowed)
        .start()
        .await
}

/// A client acting as installation 7 on `github`.
pub fn installation_client(github: &FakeGitHub) -> InstallationClient {
    let key = SecretString::from(std::fs::read_to_string(super::private_key_path()).unwrap());
    let url = url::Url::parse(&github.uri()).unwrap();
    Arc::new(GitHubApp::new(super::APP_ID, &key, &url, RetryPolicy::default()).unwrap())
        .installation(7)
}

/// A dependency pass reading versions from, and resolving against, `registry` (without the
/// dashboard issue, which scenarios about it turn on).
pub fn deps_pass(registry: &LoopbackRegistry) -> DepsPass {
    let mut pass = deps_pass_with_dashboard(registry);
    pass.dashboard = false;
    pass
}

/// A dependency pass as the server runs it, dashboard included.
pub fn deps_pass_with_dashboard(registry: &LoopbackRegistry) -> DepsPass {
    let index = IndexClient::new(
        &registry.url(),
        Duration::from_secs(10),
        Duration::from_secs(600),
    )
    .unwrap();
    DepsPass::new(
        Registries::new(index),
        Resolver {
            index: Some(registry.url()),
            ..Resolver::default()
        },
    )
}

/// The root tree of the commit `branch` points at.
fn tree_of(github: &FakeGitHub, branch: &str) -> Option<String> {
    github.with_world(|w| {
        let repo = &w.repositories[REPO];
        let sha = repo.refs.get(&format!("heads/{branch}"))?;
        match repo.objects.get(sha)? {
            Object::Commit(c) => Some(c.tree.clone()),
            _ => None,
        }
    })
}

/// A file's text at the tip of a branch.
pub fn file_on(github: &FakeGitHub, branch: &str, path: &str) -> Option<String> {
    let tree = tree_of(github, branch)?;
    github.with_world(|w| {
        w.repositories[REPO]
            .objects
            .file(&tree, path)
            .map(|(_, bytes)| String::from_utf8(bytes).unwrap())
    })
}

/// Every file of `main`, with `files` written over it.
fn main_files_with(github: &FakeGitHub, files: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    let tree = tree_of(github, "main").unwrap();
    github.with_world(|w| {
        let objects = &w.repositories[REPO].objects;
        let mut all: BTreeMap<String, Vec<u8>> = objects
            .files(&tree)
            .into_keys()
            .map(|p| {
                let bytes = objects.file(&tree, &p).unwrap().1;
                (p, bytes)
            })
            .collect();
        for (p, c) in files {
            all.insert((*p).to_owned(), c.as_bytes().to_vec());
        }
        all
    })
}

/// Commits `files` on `main` on top of what is there, as a person pushing would.
pub fn push(github: &FakeGitHub, files: &[(&str, &str)], message: &str) {
    let all = main_files_with(github, files);
    github.with_world(|w| {
        let repo = w.repositories.get_mut(REPO).unwrap();
        repo.commit_files(&all, message, 1_800_000_000);
    });
}

/// Commits `files` on top of `main` onto branch `name` (main stays put); the new commit's id.
pub fn branch(github: &FakeGitHub, name: &str, files: &[(&str, &str)]) -> String {
    let main = github.with_world(|w| w.repositories[REPO].head().unwrap().clone());
    let all = main_files_with(github, files);
    github.with_world(|w| {
        let repo = w.repositories.get_mut(REPO).unwrap();
        let tree = repo.objects.tree_from_files(&all);
        let sha = repo.objects.commit(fake_github::git::Commit {
            tree,
            parents: vec![main],
            message: format!("work on {name}"),
            author: "Octocat <octocat@github.com>".into(),
            time: 1_800_000_100,
        });
        repo.refs.insert(format!("heads/{name}"), sha.clone());
        sha
    })
}
