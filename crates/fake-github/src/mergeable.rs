//! Pull requests follow their branches as on GitHub: the head and base shas track the refs,
//! and `mergeable` comes from a three-way check of the files each side changed.

use serde_json::json;

use crate::git::Object;
use crate::world::Repository;

/// Brings open pull requests up to date with their branches, as GitHub does: the head follows
/// the branch, the base sha follows the base branch, and `mergeable` is a three-way check (the
/// PR's changes against its parent, the base's changes against the same parent: a path both
/// changed differently is a conflict).
pub(crate) fn sync_pulls(repo: &mut Repository) {
    let mut updates = Vec::new();
    for (i, pr) in repo.pulls.iter().enumerate() {
        if pr["state"] != "open" {
            continue;
        }
        let (Some(head_ref), Some(base_ref)) =
            (pr["head"]["ref"].as_str(), pr["base"]["ref"].as_str())
        else {
            continue;
        };
        let head = repo.refs.get(&format!("heads/{head_ref}")).cloned();
        let base = repo.refs.get(&format!("heads/{base_ref}")).cloned();
        let (Some(head), Some(base)) = (head, base) else {
            continue;
        };
        let mergeable = mergeable(repo, &head, &base);
        updates.push((i, head, base, mergeable));
    }
    for (i, head, base, mergeable) in updates {
        let pr = &mut repo.pulls[i];
        pr["head"]["sha"] = json!(head);
        pr["base"]["sha"] = json!(base);
        pr["mergeable"] = json!(mergeable);
        pr["mergeable_state"] = json!(if mergeable { "clean" } else { "dirty" });
    }
}

fn mergeable(repo: &Repository, head: &str, base: &str) -> bool {
    let commit = |sha: &str| match repo.objects.get(sha) {
        Some(Object::Commit(c)) => Some(c.clone()),
        _ => None,
    };
    let Some(head_commit) = commit(head) else {
        return true;
    };
    let Some(parent) = head_commit.parents.first().and_then(|p| commit(p)) else {
        return true;
    };
    let Some(base_commit) = commit(base) else {
        return true;
    };
    let before = repo.objects.files(&parent.tree);
    let ours = repo.objects.files(&head_commit.tree);
    let theirs = repo.objects.files(&base_commit.tree);
    let paths: std::collections::BTreeSet<&String> = before
        .keys()
        .chain(ours.keys())
        .chain(theirs.keys())
        .collect();
    let clean = paths.into_iter().all(|p| {
        let (b, o, t) = (before.get(p), ours.get(p), theirs.get(p));
        o == b || t == b || o == t
    });
    clean
}
