//! What people do on github.com, for tests to set the scene: merge a pull request, open an
//! issue, put a label on one (recorded as a `labeled` event with its actor, as GitHub does).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::git::Commit;
use crate::openapi::Spec;
use crate::world::simple_user;
use crate::FakeGitHub;

impl FakeGitHub {
    /// `author` opens a pull request changing `files` on top of the default branch and it is
    /// squash-merged at once: its number and the merge commit.
    pub fn merge_pull_request(
        &self,
        repo: &str,
        author: &str,
        title: &str,
        files: &[(&str, &str)],
        labels: &[&str],
    ) -> (i64, String) {
        let spec = Spec::shared();
        self.with_world(|w| {
            let id = w.next_id();
            let r = w.repositories.get_mut(repo).expect("no such repository");
            let base = r.head().cloned().unwrap_or_default();
            let mut all: BTreeMap<String, Vec<u8>> =
                crate::merge_routes::files_of(&r.objects, &base);
            for (p, c) in files {
                all.insert((*p).to_owned(), c.as_bytes().to_vec());
            }
            let number = r.next_number();
            let tree = r.objects.tree_from_files(&all);
            let now = crate::exchange::now_secs();
            let head = r.objects.commit(Commit {
                tree: tree.clone(),
                parents: vec![base.clone()],
                message: title.to_owned(),
                author: format!("{author} <{author}@example.com>"),
                time: now,
            });
            let merged = r.objects.commit(Commit {
                tree,
                parents: vec![base.clone()],
                message: format!("{title} (#{number})"),
                author: format!("{author} <{author}@example.com>"),
                time: now,
            });
            let branch = format!("{author}/change-{number}");
            r.refs
                .insert(format!("heads/{}", r.default_branch), merged.clone());
            let api = format!("https://api.github.com/repos/{repo}");
            let at = crate::exchange::rfc3339_secs(now);
            let mut pr = spec.example("pull-request").unwrap_or_else(|| json!({}));
            pr["id"] = json!(id);
            pr["node_id"] = json!(format!("PR_{id}"));
            pr["number"] = json!(number);
            pr["title"] = json!(title);
            pr["body"] = json!("");
            pr["state"] = json!("closed");
            pr["draft"] = json!(false);
            pr["merged"] = json!(true);
            pr["merged_at"] = json!(at);
            pr["closed_at"] = json!(at);
            pr["merge_commit_sha"] = json!(merged);
            pr["mergeable"] = Value::Null;
            pr["labels"] = Value::Array(
                labels
                    .iter()
                    .enumerate()
                    .map(|(i, l)| label(repo, i, l))
                    .collect(),
            );
            pr["requested_teams"] = json!([]);
            pr["requested_reviewers"] = json!([]);
            pr["assignees"] = json!([]);
            pr["assignee"] = Value::Null;
            pr["milestone"] = Value::Null;
            pr["user"] = simple_user(author, "User");
            pr["head"]["ref"] = json!(branch);
            pr["head"]["sha"] = json!(head);
            pr["head"]["label"] = json!(format!("{author}:{branch}"));
            pr["base"]["ref"] = json!(r.default_branch);
            pr["base"]["sha"] = json!(base);
            pr["url"] = json!(format!("{api}/pulls/{number}"));
            pr["html_url"] = json!(format!("https://github.com/{repo}/pull/{number}"));
            pr["issue_url"] = json!(format!("{api}/issues/{number}"));
            r.pulls.push(pr);
            (number, merged)
        })
    }

    /// `author` opens an issue; its number.
    pub fn open_issue(&self, repo: &str, author: &str, title: &str) -> i64 {
        let spec = Spec::shared();
        self.with_world(|w| {
            let id = w.next_id();
            let r = w.repositories.get_mut(repo).expect("no such repository");
            let number = r.next_number();
            let mut issue = spec.example("issue").unwrap_or_else(|| json!({}));
            issue["id"] = json!(id);
            issue["number"] = json!(number);
            issue["title"] = json!(title);
            issue["body"] = json!("");
            issue["state"] = json!("open");
            issue["html_url"] = json!(format!("https://github.com/{repo}/issues/{number}"));
            issue["user"] = simple_user(author, "User");
            issue["labels"] = json!([]);
            issue["closed_at"] = Value::Null;
            issue["comments"] = json!(0);
            if let Some(map) = issue.as_object_mut() {
                map.remove("pull_request");
            }
            r.issues.push(issue);
            number
        })
    }

    /// `actor` puts `name` on issue or pull request `number`.
    pub fn label_issue(&self, repo: &str, number: i64, name: &str, actor: &str) {
        self.with_world(|w| {
            let id = w.next_id();
            let r = w.repositories.get_mut(repo).expect("no such repository");
            let target = r
                .issues
                .iter_mut()
                .chain(r.pulls.iter_mut())
                .find(|i| i["number"] == number)
                .expect("no such issue");
            let mut labels = target["labels"].as_array().cloned().unwrap_or_default();
            labels.push(label(repo, labels.len(), name));
            target["labels"] = Value::Array(labels);
            let api = format!("https://api.github.com/repos/{repo}");
            r.issue_events.push((
                number,
                json!({
                    "id": id, "node_id": format!("LE_{id}"), "url": format!("{api}/issues/events/{id}"),
                    "actor": simple_user(actor, "User"), "event": "labeled", "commit_id": null,
                    "commit_url": null, "created_at": "2026-11-29T00:00:00Z",
                    "performed_via_github_app": null, "label": { "name": name, "color": "ededed" }
                }),
            ));
        });
    }
}

fn label(repo: &str, i: usize, name: &str) -> Value {
    json!({
        "id": i + 1, "node_id": format!("L_{name}"), "url": format!("https://api.github.com/repos/{repo}/labels/{name}"),
        "name": name, "description": "", "color": "ededed", "default": false
    })
}
