//! Discovery without a clone: from the list of files in the default branch's git tree and the
//! text of the few files it asks for, find every Cargo workspace (one per `Cargo.lock`, plus the
//! root manifest), its members (globs, excludes, path dependencies inside it), every declared
//! dependency with the table it sits in (`workspace = true` inheritance resolved to
//! `[workspace.dependencies]`), the MSRV (`rust-version`, else a numeric `rust-toolchain`
//! channel) and the registries `.cargo/config.toml` names. Pure: [`discover`] either answers or
//! names the files it still needs, and the caller fetches them and asks again.

use std::collections::{BTreeMap, BTreeSet};

use semver::{Version, VersionReq};
use toml::{Table, Value};

use super::lockfile::{self, Locked};

/// Where a declared dependency comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeclSource {
    /// crates.io (`registry: None`) or a named registry from `.cargo/config.toml`.
    Registry {
        registry: Option<String>,
    },
    Git {
        url: String,
    },
    Path {
        path: String,
    },
}

/// One dependency as a manifest declares it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Declared {
    /// The manifest that holds the requirement (the root one for `workspace = true`).
    pub manifest: String,
    /// The table's path in that manifest: `["dependencies"]`,
    /// `["target", "cfg(unix)", "dev-dependencies"]`, `["workspace", "dependencies"]`.
    pub table: Vec<String>,
    /// The key in that table (differs from `package` when renamed).
    pub key: String,
    /// The crate's name in the registry.
    pub package: String,
    /// The requirement as written (`"1.0"`, `"=0.3.1"`), when there is one.
    pub req: Option<String>,
    pub source: DeclSource,
    /// The member that uses it (for `workspace = true`, the member that inherits it).
    pub member: String,
}

impl Declared {
    /// The requirement, parsed.
    pub fn version_req(&self) -> Option<VersionReq> {
        self.req.as_deref().and_then(|r| VersionReq::parse(r).ok())
    }
}

/// A package of the workspace.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Member {
    pub name: String,
    /// Directory relative to the repository root (`""` for the root).
    pub dir: String,
    pub rust_version: Option<Version>,
    /// Whether it has a library target (`[lib]`, or `src/lib.rs`).
    pub has_lib: bool,
}

/// One Cargo workspace (or single package) in the repository.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Workspace {
    /// Directory of the root manifest, relative to the repository root.
    pub root: String,
    pub members: Vec<Member>,
    pub declared: Vec<Declared>,
    /// `Cargo.lock`'s path and content, when the workspace has one.
    #[serde(skip)]
    pub lockfile: Option<(String, Locked)>,
    /// The lowest `rust-version` of the members, else a numeric toolchain channel.
    pub msrv: Option<Version>,
    /// The `rust-toolchain(.toml)` channel, if pinned.
    pub toolchain: Option<String>,
    /// Registries from `.cargo/config.toml`: name → index URL.
    pub registries: BTreeMap<String, String>,
    /// What could not be read (a malformed manifest, an unreadable lockfile).
    pub problems: Vec<String>,
    /// Manifests of `[patch]` path sources inside the repository (cargo needs them to resolve).
    pub patch_manifests: Vec<String>,
}

/// Either the workspaces, or the files still needed to find them.
#[derive(Debug)]
pub enum Discovery {
    Found(Vec<Workspace>),
    Need(Vec<String>),
}

const DEP_TABLES: &[&str] = &["dependencies", "dev-dependencies", "build-dependencies"];

/// Finds the workspaces in `tree` (every file path in the repository) from `files` (path →
/// text of what has been fetched so far).
pub fn discover(tree: &[String], files: &BTreeMap<String, String>) -> Discovery {
    let in_tree: BTreeSet<&str> = tree.iter().map(String::as_str).collect();
    let mut roots: BTreeSet<String> = tree
        .iter()
        .filter_map(|p| p.strip_suffix("Cargo.lock"))
        .filter(|d| d.is_empty() || d.ends_with('/'))
        .map(|d| d.trim_end_matches('/').to_owned())
        .filter(|d| in_tree.contains(manifest_path(d).as_str()))
        .collect();
    if in_tree.contains("Cargo.toml") {
        roots.insert(String::new());
    }
    let mut need = BTreeSet::new();
    for extra in [
        ".cargo/config.toml",
        ".cargo/config",
        "rust-toolchain.toml",
        "rust-toolchain",
    ] {
        if in_tree.contains(extra) && !files.contains_key(extra) {
            need.insert(extra.to_owned());
        }
    }
    let mut found = Vec::new();
    for root in &roots {
        match Scan::new(root, &in_tree, files).run() {
            Ok(ws) => found.push(ws),
            Err(missing) => need.extend(missing),
        }
    }
    if need.is_empty() {
        // A root that another workspace lists as a member is not a workspace of its own.
        let member_dirs: BTreeSet<(String, String)> = found
            .iter()
            .flat_map(|w| w.members.iter().map(|m| (w.root.clone(), m.dir.clone())))
            .collect();
        found.retain(|w| {
            w.lockfile.is_some()
                || !member_dirs
                    .iter()
                    .any(|(root, dir)| *root != w.root && *dir == w.root)
        });
        Discovery::Found(found)
    } else {
        Discovery::Need(need.into_iter().collect())
    }
}

fn manifest_path(dir: &str) -> String {
    if dir.is_empty() {
        "Cargo.toml".to_owned()
    } else {
        format!("{dir}/Cargo.toml")
    }
}

fn lock_path(dir: &str) -> String {
    if dir.is_empty() {
        "Cargo.lock".to_owned()
    } else {
        format!("{dir}/Cargo.lock")
    }
}

/// Joins a relative path onto a directory, resolving `.` and `..` (never above the root).
pub(crate) fn join(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

struct Scan<'a> {
    root: &'a str,
    tree: &'a BTreeSet<&'a str>,
    files: &'a BTreeMap<String, String>,
    missing: BTreeSet<String>,
    problems: Vec<String>,
}

impl<'a> Scan<'a> {
    fn new(
        root: &'a str,
        tree: &'a BTreeSet<&'a str>,
        files: &'a BTreeMap<String, String>,
    ) -> Self {
        Scan {
            root,
            tree,
            files,
            missing: BTreeSet::new(),
            problems: Vec::new(),
        }
    }

    /// The parsed manifest at `dir`, or `None` (recording it as missing or malformed).
    fn manifest(&mut self, dir: &str) -> Option<Table> {
        let path = manifest_path(dir);
        let Some(text) = self.files.get(&path) else {
            if self.tree.contains(path.as_str()) {
                self.missing.insert(path);
            }
            return None;
        };
        match text.parse::<Table>() {
            Ok(t) => Some(t),
            Err(e) => {
                self.problems.push(format!("{path} does not parse: {e}"));
                None
            }
        }
    }

    fn run(mut self) -> Result<Workspace, BTreeSet<String>> {
        let root_path = manifest_path(self.root);
        // Ask for the lockfile in the same round as the root manifest.
        let lock_path = lock_path(self.root);
        if self.tree.contains(lock_path.as_str()) && !self.files.contains_key(&lock_path) {
            self.missing.insert(lock_path);
        }
        let root_manifest = self.manifest(self.root);
        let Some(root_manifest) = root_manifest else {
            return if self.missing.is_empty() {
                Ok(self.empty())
            } else {
                Err(self.missing)
            };
        };
        let workspace = root_manifest.get("workspace").and_then(Value::as_table);
        let ws_deps = workspace
            .and_then(|w| w.get("dependencies"))
            .and_then(Value::as_table);
        let ws_rust_version = workspace
            .and_then(|w| w.get("package"))
            .and_then(|p| p.get("rust-version"))
            .and_then(Value::as_str)
            .and_then(parse_rust_version);

        // Member directories: the root package, the globs, then path dependencies inside.
        let mut dirs: BTreeSet<String> = BTreeSet::new();
        if root_manifest.contains_key("package") {
            dirs.insert(self.root.to_owned());
        }
        if let Some(ws) = workspace {
            let excludes: Vec<String> = strings(ws.get("exclude"))
                .iter()
                .filter_map(|e| join(self.root, e))
                .collect();
            for pattern in strings(ws.get("members")) {
                let Some(full) = join(self.root, &pattern) else {
                    continue;
                };
                let Ok(glob) = glob::Pattern::new(&full) else {
                    self.problems
                        .push(format!("{root_path}: member `{pattern}` is not a glob"));
                    continue;
                };
                for path in self.tree.iter() {
                    let Some(dir) = path.strip_suffix("/Cargo.toml") else {
                        continue;
                    };
                    let excluded = excludes
                        .iter()
                        .any(|e| dir == e || dir.starts_with(&format!("{e}/")));
                    if glob.matches(dir) && !excluded {
                        dirs.insert(dir.to_owned());
                    }
                }
            }
        }

        let mut members = Vec::new();
        let mut declared = Vec::new();
        let mut queue: Vec<String> = dirs.iter().cloned().collect();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        while let Some(dir) = queue.pop() {
            if !seen.insert(dir.clone()) {
                continue;
            }
            let manifest = if dir == self.root {
                Some(root_manifest.clone())
            } else {
                self.manifest(&dir)
            };
            let Some(manifest) = manifest else { continue };
            let Some(package) = manifest.get("package").and_then(Value::as_table) else {
                continue;
            };
            let name = package
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let rust_version = match package.get("rust-version") {
                Some(Value::String(s)) => parse_rust_version(s),
                Some(Value::Table(t)) if t.get("workspace") == Some(&Value::Boolean(true)) => {
                    ws_rust_version.clone()
                }
                _ => None,
            };
            let path = manifest_path(&dir);
            for (table_path, table) in dependency_tables(&manifest) {
                for (key, spec) in table {
                    let Some(d) =
                        self.declared(&path, &dir, &table_path, key, spec, ws_deps, &root_path)
                    else {
                        continue;
                    };
                    // A path dependency inside the workspace is a member too.
                    if let DeclSource::Path { path } = &d.source {
                        let inside =
                            self.root.is_empty() || path.starts_with(&format!("{}/", self.root));
                        if inside && self.tree.contains(manifest_path(path).as_str()) {
                            queue.push(path.clone());
                        }
                    }
                    declared.push(d);
                }
            }
            let lib_rs = if dir.is_empty() {
                "src/lib.rs".to_owned()
            } else {
                format!("{dir}/src/lib.rs")
            };
            let has_lib = manifest.contains_key("lib") || self.tree.contains(lib_rs.as_str());
            members.push(Member {
                name,
                dir,
                rust_version,
                has_lib,
            });
        }
        // `[workspace.dependencies]` entries no member inherits still count: bump them too.
        if let Some(deps) = ws_deps {
            for (key, spec) in deps {
                let used = declared.iter().any(|d| {
                    d.manifest == root_path
                        && d.table == ["workspace", "dependencies"]
                        && d.key == *key
                });
                if !used {
                    if let Some(mut d) = spec_to_declared(&root_path, self.root, key, spec) {
                        d.table = vec!["workspace".into(), "dependencies".into()];
                        d.member = String::new();
                        declared.push(d);
                    }
                }
            }
        }
        if !self.missing.is_empty() {
            return Err(self.missing);
        }
        // `[patch.*]` path sources inside the repository: cargo reads their manifests too.
        let mut patch_manifests = Vec::new();
        for (_, table) in root_manifest
            .get("patch")
            .and_then(Value::as_table)
            .into_iter()
            .flatten()
        {
            for (_, spec) in table.as_table().into_iter().flatten() {
                let Some(rel) = spec.get("path").and_then(Value::as_str) else {
                    continue;
                };
                let Some(dir) = join(self.root, rel) else {
                    continue;
                };
                if self.tree.contains(manifest_path(&dir).as_str()) && self.manifest(&dir).is_some()
                {
                    patch_manifests.push(manifest_path(&dir));
                }
            }
        }
        if !self.missing.is_empty() {
            return Err(self.missing);
        }
        members.sort_by(|a, b| a.dir.cmp(&b.dir));
        let mut ws = self.empty();
        ws.patch_manifests = patch_manifests;
        ws.msrv = members.iter().filter_map(|m| m.rust_version.clone()).min();
        ws.members = members;
        ws.declared = declared;
        self.finish(ws)
    }

    #[allow(clippy::too_many_arguments)]
    fn declared(
        &mut self,
        manifest: &str,
        dir: &str,
        table: &[String],
        key: &str,
        spec: &Value,
        ws_deps: Option<&Table>,
        root_path: &str,
    ) -> Option<Declared> {
        let inherits = spec
            .as_table()
            .is_some_and(|t| t.get("workspace") == Some(&Value::Boolean(true)));
        if !inherits {
            let mut d = spec_to_declared(manifest, dir, key, spec)?;
            d.table = table.to_vec();
            d.member = dir.to_owned();
            return Some(d);
        }
        let Some(ws_spec) = ws_deps.and_then(|w| w.get(key)) else {
            self.problems.push(format!(
                "{manifest}: `{key}` says workspace = true but [workspace.dependencies] has no `{key}`"
            ));
            return None;
        };
        let mut d = spec_to_declared(root_path, self.root, key, ws_spec)?;
        d.table = vec!["workspace".into(), "dependencies".into()];
        d.member = dir.to_owned();
        Some(d)
    }

    fn empty(&self) -> Workspace {
        Workspace {
            root: self.root.to_owned(),
            members: Vec::new(),
            declared: Vec::new(),
            lockfile: None,
            msrv: None,
            toolchain: None,
            registries: BTreeMap::new(),
            problems: Vec::new(),
            patch_manifests: Vec::new(),
        }
    }

    fn finish(mut self, mut ws: Workspace) -> Result<Workspace, BTreeSet<String>> {
        let lock_path = lock_path(self.root);
        if self.tree.contains(lock_path.as_str()) {
            match self.files.get(&lock_path) {
                None => {
                    self.missing.insert(lock_path);
                    return Err(self.missing);
                }
                Some(text) => match lockfile::parse(text) {
                    Ok(locked) => ws.lockfile = Some((lock_path, locked)),
                    Err(e) => self.problems.push(format!("{lock_path}: {e}")),
                },
            }
        }
        ws.toolchain = toolchain(self.files);
        if ws.msrv.is_none() {
            ws.msrv = ws.toolchain.as_deref().and_then(parse_rust_version);
        }
        ws.registries = registries(self.files, &mut self.problems);
        ws.problems = self.problems;
        Ok(ws)
    }
}

/// Every dependency table of a manifest with its path, `target.*` ones included.
fn dependency_tables(manifest: &Table) -> Vec<(Vec<String>, &Table)> {
    let mut out = Vec::new();
    for name in DEP_TABLES {
        if let Some(t) = manifest.get(*name).and_then(Value::as_table) {
            out.push((vec![(*name).to_owned()], t));
        }
    }
    if let Some(targets) = manifest.get("target").and_then(Value::as_table) {
        for (cfg, t) in targets {
            for name in DEP_TABLES {
                if let Some(deps) = t.get(*name).and_then(Value::as_table) {
                    out.push((vec!["target".into(), cfg.clone(), (*name).to_owned()], deps));
                }
            }
        }
    }
    out
}

/// Reads one dependency entry (a version string or a table).
fn spec_to_declared(manifest: &str, dir: &str, key: &str, spec: &Value) -> Option<Declared> {
    let (req, package, source) = match spec {
        Value::String(req) => (
            Some(req.clone()),
            key.to_owned(),
            DeclSource::Registry { registry: None },
        ),
        Value::Table(t) => {
            let req = t.get("version").and_then(Value::as_str).map(str::to_owned);
            let package = t
                .get("package")
                .and_then(Value::as_str)
                .unwrap_or(key)
                .to_owned();
            let source = if let Some(url) = t.get("git").and_then(Value::as_str) {
                DeclSource::Git {
                    url: url.to_owned(),
                }
            } else if let Some(path) = t.get("path").and_then(Value::as_str) {
                DeclSource::Path {
                    path: join(dir, path)?,
                }
            } else {
                DeclSource::Registry {
                    registry: t.get("registry").and_then(Value::as_str).map(str::to_owned),
                }
            };
            (req, package, source)
        }
        _ => return None,
    };
    Some(Declared {
        manifest: manifest.to_owned(),
        table: Vec::new(),
        key: key.to_owned(),
        package,
        req,
        source,
        member: String::new(),
    })
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|s| s.trim_start_matches("./").trim_end_matches('/').to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// `"1.70"` or `"1.70.1"` as a version (`1.70.0`); anything else (`stable`, `nightly-…`) is not.
pub fn parse_rust_version(s: &str) -> Option<Version> {
    let parts: Vec<u64> = s
        .trim()
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    match parts.as_slice() {
        [major, minor] => Some(Version::new(*major, *minor, 0)),
        [major, minor, patch] => Some(Version::new(*major, *minor, *patch)),
        _ => None,
    }
}

/// The pinned channel of `rust-toolchain.toml` (`[toolchain] channel`) or a bare `rust-toolchain`.
fn toolchain(files: &BTreeMap<String, String>) -> Option<String> {
    if let Some(text) = files.get("rust-toolchain.toml") {
        let t: Table = text.parse().ok()?;
        return t
            .get("toolchain")?
            .get("channel")?
            .as_str()
            .map(str::to_owned);
    }
    let text = files.get("rust-toolchain")?;
    if let Ok(t) = text.parse::<Table>() {
        if let Some(c) = t.get("toolchain").and_then(|t| t.get("channel")) {
            return c.as_str().map(str::to_owned);
        }
    }
    let line = text.lines().next()?.trim();
    (!line.is_empty()).then(|| line.to_owned())
}

/// `[registries.NAME] index = "…"` from `.cargo/config.toml` (or the older `.cargo/config`).
fn registries(
    files: &BTreeMap<String, String>,
    problems: &mut Vec<String>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some((path, text)) = [".cargo/config.toml", ".cargo/config"]
        .iter()
        .find_map(|p| files.get(*p).map(|t| (*p, t)))
    else {
        return out;
    };
    let table: Table = match text.parse() {
        Ok(t) => t,
        Err(e) => {
            problems.push(format!("{path} does not parse: {e}"));
            return out;
        }
    };
    if let Some(regs) = table.get("registries").and_then(Value::as_table) {
        for (name, r) in regs {
            if let Some(index) = r.get("index").and_then(Value::as_str) {
                out.insert(name.clone(), index.to_owned());
            }
        }
    }
    out
}
