//! Git objects as git itself hashes them (SHA-1 over `type len\0body`), so the fake's blob,
//! tree and commit ids are the ones GitHub would report for the same content.

use std::collections::{BTreeMap, HashMap};

use sha1::{Digest, Sha1};

/// A stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    Blob(Vec<u8>),
    Tree(Vec<TreeEntry>),
    Commit(Commit),
}

/// One entry of a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    pub mode: String,
    pub name: String,
    pub sha: String,
}

impl TreeEntry {
    pub fn is_tree(&self) -> bool {
        self.mode == "40000" || self.mode == "040000"
    }
}

/// A commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub tree: String,
    pub parents: Vec<String>,
    pub message: String,
    pub author: String,
    /// Seconds since the epoch.
    pub time: i64,
}

/// A repository's object database.
#[derive(Debug, Default, Clone)]
pub struct Objects {
    objects: HashMap<String, Object>,
}

fn hash(kind: &str, body: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(format!("{kind} {}\0", body.len()).as_bytes());
    h.update(body);
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .collect()
}

impl Objects {
    pub fn get(&self, sha: &str) -> Option<&Object> {
        self.objects.get(sha)
    }

    pub fn blob(&mut self, content: &[u8]) -> String {
        let sha = hash("blob", content);
        self.objects
            .insert(sha.clone(), Object::Blob(content.to_vec()));
        sha
    }

    /// Stores a tree; entries are sorted as git sorts them (a tree's name as if it ended in `/`).
    pub fn tree(&mut self, mut entries: Vec<TreeEntry>) -> String {
        entries.sort_by_key(sort_key);
        let mut body = Vec::new();
        for e in &entries {
            body.extend_from_slice(
                format!("{} {}\0", e.mode.trim_start_matches('0'), e.name).as_bytes(),
            );
            body.extend_from_slice(&unhex(&e.sha));
        }
        let sha = hash("tree", &body);
        self.objects.insert(sha.clone(), Object::Tree(entries));
        sha
    }

    pub fn commit(&mut self, commit: Commit) -> String {
        let mut body = format!("tree {}\n", commit.tree);
        for p in &commit.parents {
            body.push_str(&format!("parent {p}\n"));
        }
        body.push_str(&format!("author {} {} +0000\n", commit.author, commit.time));
        body.push_str(&format!(
            "committer {} {} +0000\n\n",
            commit.author, commit.time
        ));
        body.push_str(&commit.message);
        let sha = hash("commit", body.as_bytes());
        self.objects.insert(sha.clone(), Object::Commit(commit));
        sha
    }

    /// Builds nested trees from `path → content` and returns the root tree's id.
    pub fn tree_from_files(&mut self, files: &BTreeMap<String, Vec<u8>>) -> String {
        let mut dirs: BTreeMap<String, BTreeMap<String, Vec<u8>>> = BTreeMap::new();
        let mut entries = Vec::new();
        for (path, content) in files {
            match path.split_once('/') {
                Some((dir, rest)) => {
                    dirs.entry(dir.to_owned())
                        .or_default()
                        .insert(rest.to_owned(), content.clone());
                }
                None => {
                    let sha = self.blob(content);
                    entries.push(TreeEntry {
                        mode: "100644".into(),
                        name: path.clone(),
                        sha,
                    });
                }
            }
        }
        for (dir, files) in dirs {
            let sha = self.tree_from_files(&files);
            entries.push(TreeEntry {
                mode: "40000".into(),
                name: dir,
                sha,
            });
        }
        self.tree(entries)
    }

    /// Every file under a tree: `path → blob id`.
    pub fn files(&self, tree: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        self.walk(tree, "", &mut out);
        out
    }

    fn walk(&self, tree: &str, prefix: &str, out: &mut BTreeMap<String, String>) {
        if let Some(Object::Tree(entries)) = self.objects.get(tree) {
            for e in entries {
                let path = format!("{prefix}{}", e.name);
                if e.is_tree() {
                    self.walk(&e.sha, &format!("{path}/"), out);
                } else {
                    out.insert(path, e.sha.clone());
                }
            }
        }
    }

    /// A file's content in a tree.
    pub fn file(&self, tree: &str, path: &str) -> Option<(String, Vec<u8>)> {
        let sha = self.files(tree).remove(path)?;
        match self.objects.get(&sha) {
            Some(Object::Blob(b)) => Some((sha, b.clone())),
            _ => None,
        }
    }
}

fn sort_key(e: &TreeEntry) -> String {
    if e.is_tree() {
        format!("{}/", e.name)
    } else {
        e.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_gits_own() {
        let mut o = Objects::default();
        // `git hash-object` of "hello\n".
        assert_eq!(
            o.blob(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        // The empty tree.
        assert_eq!(o.tree(vec![]), "4b825dc642cb6eb9a060e54bf8d69288fbee4904");
    }

    #[test]
    fn nested_files_round_trip() {
        let mut o = Objects::default();
        let files: BTreeMap<String, Vec<u8>> = [
            ("Cargo.toml".to_owned(), b"[workspace]\n".to_vec()),
            ("crates/a/Cargo.toml".to_owned(), b"[package]\n".to_vec()),
        ]
        .into();
        let tree = o.tree_from_files(&files);
        assert_eq!(o.files(&tree).len(), 2);
        assert_eq!(
            o.file(&tree, "crates/a/Cargo.toml").unwrap().1,
            b"[package]\n"
        );
    }
}
