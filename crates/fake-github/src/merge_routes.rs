//! Merging a commit into a branch (`POST /repos/{owner}/{repo}/merges`), as GitHub does it: a
//! three-way merge of every file against the two commits' merge base (line-level, by `diffy`),
//! 201 with the merge commit, 204 when the branch already has the commit, 409 on a conflict.
//! Also an issue's events (`labeled` ones, recorded by `FakeGitHub::label_issue`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde_json::{json, Value};

use crate::exchange::{Ctx, Reply};
use crate::git::{Commit, Object, Objects};
use crate::world::World;

pub(crate) const OPS: [&str; 2] = ["repos/merge", "issues/list-events"];

pub(crate) fn route(op: &str, world: &mut World, ctx: &Ctx<'_>) -> Option<Reply> {
    if !OPS.contains(&op) {
        return None;
    }
    let name = match crate::exchange::authorised_repository(world, ctx) {
        Ok(n) => n,
        Err(r) => return Some(r),
    };
    let repo = world.repositories.get_mut(&name)?;
    let api = format!("https://api.github.com/repos/{name}");
    Some(match op {
        "repos/merge" => {
            let body = ctx.body.cloned().unwrap_or_default();
            let (Some(base), Some(head)) = (body["base"].as_str(), body["head"].as_str()) else {
                return Some(Reply::message(422, "Invalid request."));
            };
            let Some(base_sha) = repo.refs.get(&format!("heads/{base}")).cloned() else {
                return Some(Reply::message(404, "Base does not exist"));
            };
            let head_sha = repo
                .refs
                .get(&format!("heads/{head}"))
                .cloned()
                .unwrap_or_else(|| head.to_owned());
            if !matches!(repo.objects.get(&head_sha), Some(Object::Commit(_))) {
                return Some(Reply::message(404, "Head does not exist"));
            }
            if ancestors(&repo.objects, &base_sha).contains(&head_sha) {
                return Some(Reply::empty(204));
            }
            let message = body["commit_message"]
                .as_str()
                .map_or_else(|| format!("Merge {head} into {base}"), str::to_owned);
            match merge(&mut repo.objects, &base_sha, &head_sha) {
                Some(tree) => {
                    let commit = Commit {
                        tree: tree.clone(),
                        parents: vec![base_sha, head_sha],
                        message: message.clone(),
                        author: "GitHub <noreply@github.com>".into(),
                        time: crate::exchange::now_secs(),
                    };
                    let sha = repo.objects.commit(commit.clone());
                    repo.refs.insert(format!("heads/{base}"), sha.clone());
                    let mut out = ctx.spec.example("commit").unwrap_or_else(|| json!({}));
                    out["sha"] = json!(sha);
                    out["node_id"] = json!(format!("C_{sha}"));
                    out["url"] = json!(format!("{api}/commits/{sha}"));
                    // GitHub's example lists files its own schema refuses; none are listed here.
                    out["files"] = json!([]);
                    out["commit"]["message"] = json!(message);
                    out["commit"]["tree"]["sha"] = json!(tree);
                    out["commit"]["tree"]["url"] = json!(format!("{api}/git/trees/{tree}"));
                    out["parents"] = json!(commit
                        .parents
                        .iter()
                        .map(|p| json!({"sha": p, "url": format!("{api}/commits/{p}")}))
                        .collect::<Vec<_>>());
                    Reply::json(201, out)
                }
                None => Reply::message(409, "Merge conflict"),
            }
        }
        _ => {
            let number = ctx.segment(4).parse::<i64>().unwrap_or(0);
            let events: Vec<Value> = repo
                .issue_events
                .iter()
                .filter(|(n, _)| *n == number)
                .map(|(_, e)| e.clone())
                .collect();
            Reply::json(200, Value::Array(events))
        }
    })
}

/// Every commit reachable from `sha`, itself included.
pub(crate) fn ancestors(objects: &Objects, sha: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([sha.to_owned()]);
    while let Some(s) = queue.pop_front() {
        if !seen.insert(s.clone()) {
            continue;
        }
        if let Some(Object::Commit(c)) = objects.get(&s) {
            queue.extend(c.parents.iter().cloned());
        }
    }
    seen
}

/// The newest common ancestor of two commits (by breadth-first order from `b`).
fn merge_base(objects: &Objects, a: &str, b: &str) -> Option<String> {
    let of_a = ancestors(objects, a);
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([b.to_owned()]);
    while let Some(s) = queue.pop_front() {
        if of_a.contains(&s) {
            return Some(s);
        }
        if !seen.insert(s.clone()) {
            continue;
        }
        if let Some(Object::Commit(c)) = objects.get(&s) {
            queue.extend(c.parents.iter().cloned());
        }
    }
    None
}

/// A commit's files: path → content.
pub fn files_of(objects: &Objects, commit: &str) -> BTreeMap<String, Vec<u8>> {
    let Some(Object::Commit(c)) = objects.get(commit) else {
        return BTreeMap::new();
    };
    objects
        .files(&c.tree)
        .into_iter()
        .filter_map(|(path, blob)| match objects.get(&blob) {
            Some(Object::Blob(b)) => Some((path, b.clone())),
            _ => None,
        })
        .collect()
}

/// Three-way merges two commits' files against their merge base; `None` on a conflict.
pub fn merge_files(
    base: &BTreeMap<String, Vec<u8>>,
    ours: &BTreeMap<String, Vec<u8>>,
    theirs: &BTreeMap<String, Vec<u8>>,
) -> Option<BTreeMap<String, Vec<u8>>> {
    let paths: BTreeSet<&String> = base
        .keys()
        .chain(ours.keys())
        .chain(theirs.keys())
        .collect();
    let mut out = BTreeMap::new();
    for path in paths {
        let (o, a, b) = (base.get(path), ours.get(path), theirs.get(path));
        let merged = if a == b || b == o {
            a.cloned()
        } else if a == o {
            b.cloned()
        } else {
            let (o, a, b) = (o?, a?, b?);
            let text = |v: &Vec<u8>| String::from_utf8(v.clone()).ok();
            let merged = diffy::merge(&text(o)?, &text(a)?, &text(b)?).ok()?;
            Some(merged.into_bytes())
        };
        if let Some(content) = merged {
            out.insert(path.clone(), content);
        }
    }
    Some(out)
}

/// The merged tree of `ours` and `theirs`; `None` on a conflict.
fn merge(objects: &mut Objects, ours: &str, theirs: &str) -> Option<String> {
    let base = merge_base(objects, ours, theirs)
        .map(|b| files_of(objects, &b))
        .unwrap_or_default();
    let merged = merge_files(&base, &files_of(objects, ours), &files_of(objects, theirs))?;
    Some(objects.tree_from_files(&merged))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(entries: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
        entries
            .iter()
            .map(|(p, c)| ((*p).to_owned(), c.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn changes_to_different_lines_and_files_merge() {
        let base = files(&[("a", "1\n2\n3\n4\n5\n"), ("b", "x\n")]);
        let ours = files(&[("a", "one\n2\n3\n4\n5\n"), ("b", "x\n"), ("c", "new\n")]);
        let theirs = files(&[("a", "1\n2\n3\n4\nfive\n")]);
        let merged = merge_files(&base, &ours, &theirs).unwrap();
        assert_eq!(merged["a"], b"one\n2\n3\n4\nfive\n");
        assert!(
            !merged.contains_key("b"),
            "deleted on one side, untouched on the other"
        );
        assert_eq!(merged["c"], b"new\n");
    }

    #[test]
    fn the_same_line_changed_twice_conflicts() {
        let base = files(&[("a", "1\n")]);
        assert!(merge_files(&base, &files(&[("a", "2\n")]), &files(&[("a", "3\n")])).is_none());
        // Changed on one side, deleted on the other.
        assert!(merge_files(&base, &files(&[("a", "2\n")]), &files(&[])).is_none());
    }
}
