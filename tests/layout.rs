//! Layout rules, checked by `cargo test --test layout`. This test is how the project checks for
//! import cycles between files.
//!
//! It parses (with syn) every file reachable through `mod x;` from `src/lib.rs` and from
//! `crates/fake-github/src/lib.rs`, and collects every path each file names: every leaf of every
//! `use` tree, and every path in expressions, types, patterns, attributes and macro paths (plus
//! macro bodies that parse as comma-separated expressions, like `assert_eq!` or `json!`). A path
//! is crate-local when it starts with `crate`, `self`, `super`, a module or item of the module it
//! is written in, or a name bound by a `use` of a crate-local path (`use crate::a::b; b::c::f()`
//! is `crate::a::b::c::f`). Paths into other crates are ignored. A crate-local path is resolved
//! to the FILE that defines the item: walk down the module tree, then follow `use` re-exports and
//! local glob uses to the definition; when nothing matches, the deepest module's own file. Each
//! path draws an edge `file -> defining file`, except `mod child;` (ownership, not use), a path
//! naming a module itself (`use crate::a;`: the paths written through it draw their own edges),
//! and a module re-exporting items of its own submodules (a `mod.rs` facade; re-exporting a
//! sibling's items is an edge).
//!
//! Rules:
//! 1. No import cycles: no two files reach each other through those edges. A failure prints each
//!    cycle with one example path per edge; break it by moving what both sides need into its own
//!    file, or by passing it in instead of naming it.
//! 2. Pure cores import no effect module: the files directly inside the capability folders
//!    (`src/deps/`, `src/audit/`, ...), except the drivers listed in `DRIVERS`, name no effect
//!    crate (tokio, reqwest, sqlx, octocrab, hyper, axum), nothing under `github`, `store`,
//!    `queue` or `server`, and no driver.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use syn::ext::IdentExt;
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};

/// The files inside the capability folders that drive effects (relative to the repository root).
const DRIVERS: &[&str] = &[
    "src/api/ingest.rs",
    "src/audit/check.rs",
    "src/audit/code_scanning.rs",
    "src/audit/fixes.rs",
    "src/audit/source.rs",
    "src/audit/triggers.rs",
    "src/bench/blind.rs",
    "src/bench/ingest.rs",
    "src/commands/conversation.rs",
    "src/commands/ignore_pr.rs",
    "src/commands/run.rs",
    "src/config/fetch.rs",
    "src/config/fix_pr.rs",
    "src/dashboard/pass.rs",
    "src/dashboard/ticks.rs",
    "src/deps/after_ci.rs",
    "src/deps/daily.rs",
    "src/deps/files.rs",
    "src/deps/pass.rs",
    "src/drift/app_watch.rs",
    "src/drift/hook_watch.rs",
    "src/drift/installations.rs",
    "src/alerts/sampler.rs",
    "src/alerts/escalate.rs",
    "src/report/gather.rs",
    "src/report/post.rs",
    "src/report/record.rs",
    "src/heal/database.rs",
    "src/heal/prune.rs",
    "src/heal/resync.rs",
    "src/heal/sweep.rs",
    "src/heal/workers.rs",
    "src/revert/act.rs",
    "src/revert/regression.rs",
    "src/revert/suites.rs",
    "src/revert/watch.rs",
    "src/status/gather.rs",
    "src/toolchain/msrv_pr.rs",
    "src/toolchain/pr.rs",
];
/// The capability folders under `src/`: their files are pure unless listed in `DRIVERS`.
const FOLDERS: &[&str] = &[
    "deps",
    "audit",
    "bench",
    "revert",
    "commands",
    "dashboard",
    "config",
    "heal",
    "status",
    "drift",
    "alerts",
    "report",
    "toolchain",
    "api",
];
const EFFECT_CRATES: &[&str] = &["tokio", "reqwest", "sqlx", "octocrab", "hyper", "axum"];
const EFFECT_MODULES: &[&str] = &["github", "store", "queue", "server"];
const PRIMITIVES: &[&str] = &[
    "bool", "char", "str", "f32", "f64", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16",
    "u32", "u64", "u128", "usize",
];

fn repo_root() -> PathBuf {
    std::env::var_os("LAYOUT_ROOT")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// Every `.rs` file under `root/dir`, keyed by its path relative to `root` (with `/`).
fn read_sources(root: &Path, dir: &str) -> Sources {
    fn walk(root: &Path, rel: &str, out: &mut Sources) {
        let entries = std::fs::read_dir(root.join(rel));
        for entry in entries.unwrap_or_else(|e| panic!("cannot list {rel}: {e}")) {
            let entry = entry.unwrap_or_else(|e| panic!("cannot list {rel}: {e}"));
            let rel = format!("{rel}/{}", entry.file_name().to_string_lossy());
            if root.join(&rel).is_dir() {
                walk(root, &rel, out);
            } else if rel.ends_with(".rs") {
                let text = std::fs::read_to_string(root.join(&rel));
                out.insert(
                    rel.clone(),
                    text.unwrap_or_else(|e| panic!("cannot read {rel}: {e}")),
                );
            }
        }
    }
    let mut out = Sources::new();
    walk(root, dir, &mut out);
    out
}

/// An identifier as a name, without `r#`.
fn name(ident: &syn::Ident) -> String {
    ident.unraw().to_string()
}

type Sources = BTreeMap<String, String>;
type Memo = HashMap<(usize, String), Option<Abs>>;

/// A module: a file, or an inline `mod x { ... }` inside one.
struct Module {
    file: String,
    path: Vec<String>,                 // below `crate`
    children: BTreeMap<String, usize>, // file and inline modules
    items: BTreeMap<String, String>,   // defined name -> defining file
    uses: Vec<(String, Vec<String>)>,  // (bound name, or `_`, or `*` for a glob; path as written)
}

/// A path made absolute: below `crate`, in another crate, or neither (a local, `Self`, ...).
#[derive(Clone)]
enum Abs {
    Local(Vec<String>),
    External(String),
    Unknown,
}

/// Where an absolute path leads: the defining file, another crate, or (not found) the file of
/// the deepest module on the way.
enum Res {
    File(String),
    External,
    Missing(String),
}

/// How a path was written: in code, in a private `use`, or in a `pub`/`pub(..)` re-export.
#[derive(Clone, Copy, PartialEq)]
enum Named {
    Path,
    Use,
    ReExport,
}

struct Crate {
    modules: Vec<Module>,
    files: BTreeMap<String, usize>, // file -> its module
    /// file -> what it names (a file of this crate or a crate name), an example, draws an edge
    refs: BTreeMap<String, Vec<(String, String, bool)>>,
}

impl Crate {
    fn from_disk(dir: &str) -> Crate {
        let sources = read_sources(&repo_root(), dir);
        Crate::build(&sources, &format!("{dir}/lib.rs")).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Builds the module tree from `(path, source text)` pairs, starting at `root_file`.
    fn build(sources: &Sources, root_file: &str) -> Result<Crate, String> {
        let (modules, files, refs) = (Vec::new(), BTreeMap::new(), BTreeMap::new());
        let mut krate = Crate {
            modules,
            files,
            refs,
        };
        let mut asts = Vec::new();
        krate.load_file(sources, root_file, None, "", &mut asts)?;
        for (file, ast) in &asts {
            let scope = vec![krate.files[file]];
            let mut collector = Collector {
                krate: &krate,
                scope,
                out: Vec::new(),
            };
            collector.visit_file(ast);
            let mut refs = Vec::new();
            for (m, segs, how) in collector.out {
                if let Some((to, example, names_module)) = krate.target(m, &segs, how) {
                    let edge = krate.draws_edge(file, &to, how, names_module);
                    refs.push((to, example, edge));
                }
            }
            krate.refs.insert(file.clone(), refs);
        }
        Ok(krate)
    }

    fn load_file(
        &mut self,
        sources: &Sources,
        file: &str,
        parent: Option<usize>,
        name: &str,
        asts: &mut Vec<(String, syn::File)>,
    ) -> Result<(), String> {
        let text = sources
            .get(file)
            .ok_or(format!("{file}: no such .rs file"))?;
        let ast = syn::parse_file(text).map_err(|e| format!("{file}: syn cannot parse it: {e}"))?;
        let m = self.new_module(file, parent, name);
        self.files.insert(file.to_string(), m);
        self.load_items(sources, &ast.items, m, asts)?;
        asts.push((file.to_string(), ast));
        Ok(())
    }

    fn new_module(&mut self, file: &str, parent: Option<usize>, name: &str) -> usize {
        let mut path = parent.map_or(vec![], |p| self.modules[p].path.clone());
        path.extend(parent.map(|_| name.to_string()));
        let (children, items, uses) = (BTreeMap::new(), BTreeMap::new(), Vec::new());
        let file = file.to_string();
        self.modules.push(Module {
            file,
            path,
            children,
            items,
            uses,
        });
        let m = self.modules.len() - 1;
        if let Some(p) = parent {
            self.modules[p].children.insert(name.to_string(), m);
        }
        m
    }

    fn load_items(
        &mut self,
        sources: &Sources,
        items: &[syn::Item],
        m: usize,
        asts: &mut Vec<(String, syn::File)>,
    ) -> Result<(), String> {
        use syn::Item as I;
        let file = self.modules[m].file.clone();
        for item in items {
            let defined = match item {
                I::Mod(i) if i.content.is_some() => {
                    let inline = self.new_module(&file, Some(m), &name(&i.ident));
                    let inner = i.content.as_ref().map_or(&[][..], |(_, items)| &items[..]);
                    self.load_items(sources, inner, inline, asts)?;
                    None
                }
                I::Mod(i) => {
                    let cfg = |a: &syn::Attribute| a.path().is_ident("cfg");
                    match self.child_file(sources, m, &name(&i.ident)) {
                        Ok(child) => {
                            self.load_file(sources, &child, Some(m), &name(&i.ident), asts)?
                        }
                        // Under `#[cfg]`, the file may belong to another platform or feature.
                        Err(_) if i.attrs.iter().any(cfg) => {}
                        Err(e) => return Err(e),
                    }
                    None
                }
                I::Use(u) => {
                    self.modules[m].uses.extend(use_paths(u));
                    None
                }
                I::Fn(i) => Some(&i.sig.ident),
                I::Struct(i) => Some(&i.ident),
                I::Enum(i) => Some(&i.ident),
                I::Union(i) => Some(&i.ident),
                I::Const(i) => Some(&i.ident),
                I::Static(i) => Some(&i.ident),
                I::Trait(i) => Some(&i.ident),
                I::TraitAlias(i) => Some(&i.ident),
                I::Type(i) => Some(&i.ident),
                I::Macro(i) => {
                    let exported = i.attrs.iter().any(|a| a.path().is_ident("macro_export"));
                    if let (Some(id), true) = (&i.ident, exported) {
                        self.modules[0].items.insert(name(id), file.clone()); // `crate::id!`
                    }
                    i.ident.as_ref()
                }
                _ => None,
            };
            if let Some(id) = defined {
                self.modules[m].items.insert(name(id), file.clone());
            }
        }
        Ok(())
    }

    /// The file of `mod name;` declared in the file module `m`.
    fn child_file(&self, sources: &Sources, m: usize, name: &str) -> Result<String, String> {
        let file = &self.modules[m].file;
        let owns_dir = ["/lib.rs", "/main.rs", "/mod.rs"]
            .iter()
            .any(|f| file.ends_with(f));
        let dir = match file.rsplit_once('/') {
            Some((dir, _)) if owns_dir => dir,
            _ => file.trim_end_matches(".rs"),
        };
        let candidates = [format!("{dir}/{name}.rs"), format!("{dir}/{name}/mod.rs")];
        let found = candidates.iter().find(|c| sources.contains_key(*c));
        let [a, b] = &candidates;
        found
            .cloned()
            .ok_or(format!("{file}: `mod {name};` has no file ({a} or {b})"))
    }

    /// The module at an absolute path, if there is one.
    fn module_at(&self, path: &[String]) -> Option<usize> {
        path.iter()
            .try_fold(0, |m, seg| self.modules[m].children.get(seg).copied())
    }

    fn defines(&self, m: usize, name: &str) -> bool {
        self.modules[m].children.contains_key(name) || self.modules[m].items.contains_key(name)
    }

    /// What `name` means in module `m` through its `use`s (named ones, then local globs). `memo`
    /// holds the answers of one query, so that chains of globs stay linear and loops end.
    fn lookup(&self, m: usize, name: &str, memo: &mut Memo) -> Option<Abs> {
        let key = (m, name.to_string());
        if let Some(known) = memo.get(&key) {
            return known.clone();
        }
        memo.insert(key.clone(), None);
        let found = self.lookup_uncached(m, name, memo);
        memo.insert(key, found.clone());
        found
    }

    fn lookup_uncached(&self, m: usize, name: &str, memo: &mut Memo) -> Option<Abs> {
        let uses = &self.modules[m].uses;
        if let Some((_, path)) = uses.iter().find(|(bound, _)| bound == name) {
            // In `use log::log;` the first segment cannot be the name being bound: it is a crate.
            if path.len() > 1 && path[0] == name && !self.defines(m, name) {
                return Some(Abs::External(name.into()));
            }
            return Some(self.absolutize(m, path, true, memo));
        }
        for (_, path) in uses.iter().filter(|(bound, _)| bound == "*") {
            let Abs::Local(target) = self.absolutize(m, path, true, memo) else {
                continue;
            };
            let Some(t) = self.module_at(&target) else {
                continue;
            };
            if self.defines(t, name) {
                return Some(Abs::Local([target, vec![name.to_string()]].concat()));
            }
            if let Some(found) = self.lookup(t, name, memo) {
                return Some(found);
            }
        }
        None
    }

    /// A path as written in module `m`, made absolute (the segments after `crate`).
    fn absolutize(&self, m: usize, segs: &[String], is_use: bool, memo: &mut Memo) -> Abs {
        let here = &self.modules[m].path;
        let Some(first) = segs.first().map(String::as_str) else {
            return Abs::Unknown;
        };
        let ups = segs.iter().take_while(|s| *s == "super").count();
        // A lone name in code (`x`, `Foo`) is a local, a prelude name or an imported one; with
        // more segments, or in a `use`, it may also name a module or item of `m`, or a crate.
        let qualified = segs.len() > 1 || is_use;
        match first {
            "::" => Abs::External(segs.get(1).cloned().unwrap_or_default()),
            "crate" => Abs::Local(segs[1..].to_vec()),
            "self" => Abs::Local([here, &segs[1..]].concat()),
            "super" if ups <= here.len() => {
                Abs::Local([&here[..here.len() - ups], &segs[ups..]].concat())
            }
            "super" | "Self" => Abs::Unknown,
            _ if qualified && self.defines(m, first) => Abs::Local([here, segs].concat()),
            _ => match self.lookup(m, first, memo) {
                Some(Abs::Local(p)) => Abs::Local([&p[..], &segs[1..]].concat()),
                Some(other) => other,
                None if qualified => Abs::External(first.into()),
                None => Abs::Unknown,
            },
        }
    }

    /// The file defining the item at `segs` below module `m`.
    fn resolve_in(
        &self,
        m: usize,
        segs: &[String],
        seen: &mut HashSet<(usize, Vec<String>)>,
    ) -> Res {
        let here = &self.modules[m];
        let Some(first) = segs.first() else {
            return Res::File(here.file.clone());
        };
        if !seen.insert((m, segs.to_vec())) {
            return Res::Missing(here.file.clone());
        }
        if let Some(&child) = here.children.get(first) {
            return self.resolve_in(child, &segs[1..], seen);
        }
        if let Some(file) = here.items.get(first) {
            return Res::File(file.clone());
        }
        if let Some((_, path)) = here.uses.iter().find(|(bound, _)| bound == first) {
            return match self.absolutize(m, path, true, &mut Memo::new()) {
                Abs::Local(p) => self.resolve_in(0, &[&p[..], &segs[1..]].concat(), seen),
                Abs::External(_) => Res::External,
                Abs::Unknown => Res::Missing(here.file.clone()),
            };
        }
        for (_, path) in here.uses.iter().filter(|(bound, _)| bound == "*") {
            let abs = self.absolutize(m, path, true, &mut Memo::new());
            let Some(t) = (if let Abs::Local(p) = abs {
                self.module_at(&p)
            } else {
                None
            }) else {
                continue;
            };
            match self.resolve_in(t, segs, seen) {
                Res::Missing(_) => continue,
                found => return found,
            }
        }
        Res::Missing(here.file.clone())
    }

    /// What a path written in module `m` names (a file of this crate, or a crate name), the path
    /// as an example, and whether it names a module itself rather than an item.
    fn target(&self, m: usize, segs: &[String], how: Named) -> Option<(String, String, bool)> {
        let written = segs.join("::").replacen("::::", "::", 1);
        match self.absolutize(m, segs, how != Named::Path, &mut Memo::new()) {
            Abs::Local(abs) => {
                let (Res::File(file) | Res::Missing(file)) =
                    self.resolve_in(0, &abs, &mut HashSet::new())
                else {
                    return None;
                };
                let full = format!("crate::{}", abs.join("::"));
                let example = if written == full {
                    written
                } else {
                    format!("{written} = {full}")
                };
                Some((file, example, self.module_at(&abs).is_some()))
            }
            Abs::External(krate)
                if !krate.starts_with(char::is_uppercase) && !PRIMITIVES.contains(&&*krate) =>
            {
                Some((krate, written, false))
            }
            _ => None,
        }
    }

    /// Whether naming `to` from `from` is a use: `to` is another file of this crate, the path
    /// names an item (not just a module), and it is not `from` re-exporting its own submodules.
    fn draws_edge(&self, from: &str, to: &str, how: Named, names_module: bool) -> bool {
        let path = |file: &str| self.files.get(file).map(|&m| &self.modules[m].path);
        let facade = match (path(from), path(to)) {
            (Some(outer), Some(inner)) => how == Named::ReExport && inner.starts_with(outer),
            _ => false,
        };
        to != from && path(to).is_some() && !names_module && !facade
    }

    /// What `file` names: files of this crate (other than itself) and external crates, each with
    /// one example path.
    fn imports_of(&self, file: &str) -> Vec<(String, String)> {
        let mut seen = BTreeSet::new();
        let refs = self.refs.get(file).into_iter().flatten();
        let refs = refs.filter(|(to, ..)| to != file && seen.insert(to.clone()));
        refs.map(|(to, example, _)| (to.clone(), example.clone()))
            .collect()
    }

    /// File -> file edges, with the first path that draws each one.
    fn edges(&self) -> BTreeMap<(String, String), String> {
        let mut edges = BTreeMap::new();
        for (from, refs) in &self.refs {
            for (to, example, _) in refs.iter().filter(|(.., edge)| *edge) {
                let key = (from.clone(), to.clone());
                edges.entry(key).or_insert_with(|| example.clone());
            }
        }
        edges
    }
}

/// Every leaf of a `use` item: (bound name, or `_`, or `*` for a glob; path as written).
fn use_paths(u: &syn::ItemUse) -> Vec<(String, Vec<String>)> {
    fn walk(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<(String, Vec<String>)>) {
        let leaf = |prefix: &[String], ident: &syn::Ident| match ident == "self" {
            true => prefix.to_vec(),
            false => [prefix, &[name(ident)]].concat(),
        };
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(name(&p.ident));
                walk(&p.tree, prefix, out);
                prefix.pop();
            }
            syn::UseTree::Name(n) if n.ident == "self" => {
                out.push((prefix.last().cloned().unwrap_or_default(), prefix.clone()))
            }
            syn::UseTree::Name(n) => out.push((name(&n.ident), leaf(prefix, &n.ident))),
            syn::UseTree::Rename(r) => out.push((name(&r.rename), leaf(prefix, &r.ident))),
            syn::UseTree::Glob(_) => out.push(("*".to_string(), prefix.clone())),
            syn::UseTree::Group(g) => g.items.iter().for_each(|t| walk(t, prefix, out)),
        }
    }
    let mut out = Vec::new();
    let mut prefix = Vec::new();
    prefix.extend(u.leading_colon.map(|_| "::".to_string()));
    walk(&u.tree, &mut prefix, &mut out);
    out.retain(|(_, path)| !path.is_empty());
    out
}

/// Collects every path a file names, with the module it is written in.
struct Collector<'a> {
    krate: &'a Crate,
    scope: Vec<usize>,
    out: Vec<(usize, Vec<String>, Named)>,
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item_mod(&mut self, i: &'ast syn::ItemMod) {
        let Some((_, items)) = &i.content else {
            return; // `mod x;` is ownership, not use
        };
        let m = self.scope[self.scope.len() - 1];
        // A module inside a function body is not in the tree: its paths count in `m`.
        let inner = self.krate.modules[m].children.get(&name(&i.ident));
        self.scope.push(inner.copied().unwrap_or(m));
        items.iter().for_each(|item| self.visit_item(item));
        self.scope.pop();
    }
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let m = self.scope[self.scope.len() - 1];
        let reexport = !matches!(u.vis, syn::Visibility::Inherited);
        let how = if reexport {
            Named::ReExport
        } else {
            Named::Use
        };
        self.out
            .extend(use_paths(u).into_iter().map(|(_, path)| (m, path, how)));
    }
    fn visit_path(&mut self, p: &'ast syn::Path) {
        let mut segs = Vec::new();
        segs.extend(p.leading_colon.map(|_| "::".to_string()));
        segs.extend(p.segments.iter().map(|s| name(&s.ident)));
        self.out
            .push((self.scope[self.scope.len() - 1], segs, Named::Path));
        visit::visit_path(self, p);
    }
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        visit::visit_macro(self, mac);
        let args = Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        if let Ok(args) = mac.parse_body_with(args) {
            args.iter().for_each(|e| self.visit_expr(e));
        }
    }
    // `pub(super)` and `pub(in crate::x)` say who may see an item; they are not uses.
    fn visit_vis_restricted(&mut self, _: &'ast syn::VisRestricted) {}
}

/// The strongly connected components of more than one file (Kosaraju), each sorted.
fn cycles(edges: &BTreeMap<(String, String), String>) -> Vec<Vec<String>> {
    type Adjacency<'a> = BTreeMap<&'a String, Vec<&'a String>>;
    fn dfs<'a>(
        v: &'a String,
        adj: &Adjacency<'a>,
        seen: &mut BTreeSet<&'a String>,
        out: &mut Vec<&'a String>,
    ) {
        if seen.insert(v) {
            for &w in adj.get(v).into_iter().flatten() {
                dfs(w, adj, seen, out);
            }
            out.push(v);
        }
    }
    let (mut forward, mut backward) = (Adjacency::new(), Adjacency::new());
    for (a, b) in edges.keys() {
        forward.entry(a).or_default().push(b);
        backward.entry(b).or_default().push(a);
    }
    let (mut seen, mut finished) = (BTreeSet::new(), Vec::new());
    for &v in forward.keys() {
        dfs(v, &forward, &mut seen, &mut finished);
    }
    seen.clear();
    let mut sccs = Vec::new();
    for &v in finished.iter().rev() {
        let mut scc = Vec::new();
        dfs(v, &backward, &mut seen, &mut scc);
        let mut scc: Vec<String> = scc.into_iter().cloned().collect();
        scc.sort();
        if scc.len() > 1 {
            sccs.push(scc);
        }
    }
    sccs.sort();
    sccs
}

/// The cycles of a crate, each with one example path per edge inside it ("" when there are none).
fn cycle_report(krate: &Crate) -> String {
    let edges = krate.edges();
    let mut report = String::new();
    for (i, scc) in cycles(&edges).iter().enumerate() {
        report += &format!("\ncycle {}: {}\n", i + 1, scc.join(", "));
        for ((from, to), example) in &edges {
            if scc.contains(from) && scc.contains(to) {
                report += &format!("    {from} -> {to} ({example})\n");
            }
        }
    }
    report
}

fn assert_no_cycles(dir: &str) {
    let report = cycle_report(&Crate::from_disk(dir));
    assert!(
        report.is_empty(),
        "import cycles between files in {dir}/; break each by moving what both sides need into \
         its own file, or by passing it in instead of naming it:\n{report}"
    );
}

/// Whether `file` is the `mod.rs` of the folder `target` sits in.
fn is_own_facade(file: &str, target: &str) -> bool {
    file.strip_suffix("mod.rs").is_some_and(|dir| {
        target
            .strip_prefix(dir)
            .is_some_and(|rest| !rest.contains('/'))
    })
}

/// Why each of `pure_files` breaks the purity rule (empty when none does).
fn purity_violations(krate: &Crate, src: &str, pure: &[&str], drivers: &[&str]) -> Vec<String> {
    let (mut out, mut seen) = (Vec::new(), BTreeSet::new());
    for &file in pure {
        if !krate.files.contains_key(file) {
            out.push(format!(
                "{file}: not reachable through `mod` from {src}/lib.rs"
            ));
        }
        for (target, example) in krate.imports_of(file) {
            let top = target
                .strip_prefix(&format!("{src}/"))
                .and_then(|t| t.split('/').next());
            let why = match top.map(|t| t.trim_end_matches(".rs")) {
                Some(m) if EFFECT_MODULES.contains(&m) => format!("uses the effect module `{m}`"),
                // A capability's `mod.rs` is its front door: it may re-export its own drivers.
                _ if drivers.contains(&&*target) && !is_own_facade(file, &target) => {
                    format!("uses the driver {target}")
                }
                None if EFFECT_CRATES.contains(&&*target) => format!("uses the crate `{target}`"),
                _ => continue,
            };
            if seen.insert((file, why.clone())) {
                out.push(format!("{file}: {why}, e.g. `{example}` ({target})"));
            }
        }
    }
    out
}

fn assert_pure(pure_files: &[&str], drivers: &[&str]) {
    let violations = purity_violations(&Crate::from_disk("src"), "src", pure_files, drivers);
    assert!(
        violations.is_empty(),
        "pure files must not import effect modules, effect crates or drivers (move the effect \
         into a driver listed in DRIVERS, or pass its result in):\n  {}",
        violations.join("\n  ")
    );
}

#[test]
fn no_import_cycles_between_files_in_src() {
    assert_no_cycles("src");
}

#[test]
fn no_import_cycles_between_files_in_fake_github() {
    assert_no_cycles("crates/fake-github/src");
}

#[test]
fn pure_cores_import_no_effect_module() {
    let mut pure = Vec::new();
    for folder in FOLDERS {
        let dir = repo_root().join("src").join(folder);
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let file = format!("src/{folder}/{}", entry.file_name().to_string_lossy());
            if file.ends_with(".rs") && !DRIVERS.contains(&&*file) {
                pure.push(file);
            }
        }
    }
    pure.sort();
    assert_pure(
        &pure.iter().map(String::as_str).collect::<Vec<_>>(),
        DRIVERS,
    );
}

fn in_memory(files: &[(&str, &str)]) -> Crate {
    let sources = files.iter().map(|(p, s)| (p.to_string(), s.to_string()));
    Crate::build(&sources.collect(), "src/lib.rs").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_purity_rule_catches_an_import_of_github_or_store() {
    let check = |pure: &str| {
        let krate = in_memory(&[
            (
                "src/lib.rs",
                "pub mod deps; pub mod github; pub mod store; pub mod jobs;",
            ),
            ("src/github/mod.rs", "pub mod repo;"),
            ("src/github/repo.rs", "pub struct Repo;"),
            ("src/store/mod.rs", "pub struct Store;"),
            ("src/jobs/mod.rs", "pub fn drive() {}"),
            ("src/deps/mod.rs", "pub mod plan; pub mod pure;"),
            ("src/deps/plan.rs", "pub fn plan() {}"),
            ("src/deps/pure.rs", pure),
        ]);
        purity_violations(&krate, "src", &["src/deps/pure.rs"], &["src/jobs/mod.rs"])
    };
    let bad = check("use crate::github::repo::Repo; use crate::store::Store;");
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert!(
        bad[0].contains("`github`") && bad[1].contains("`store`"),
        "{bad:?}"
    );
    assert_eq!(check("fn f() { ::tokio::spawn(async {}); }").len(), 1);
    assert_eq!(check("use tokio::sync::Mutex;").len(), 1);
    assert_eq!(check("use crate::store;").len(), 1);
    assert_eq!(
        check("use super::super::jobs as j; fn f() { j::drive() }").len(),
        1
    );
    let good = check("use crate::deps::plan; fn f() { plan::plan(); super::plan::plan() }");
    assert_eq!(good, Vec::<String>::new());
}

#[test]
fn the_cycle_check_sees_through_aliases_and_facades() {
    let krate = in_memory(&[
        ("src/lib.rs", "pub mod a; pub mod b; pub mod c;"),
        // `a` is a facade over its children: no cycle with them.
        (
            "src/a/mod.rs",
            "mod x; mod y; pub use x::X; pub use y::*; pub struct Shared;",
        ),
        ("src/a/x.rs", "pub struct X; fn f(_: super::Shared) {}"),
        ("src/a/y.rs", "pub fn helper() {}"),
        // b -> a/y.rs through an alias and a glob re-export; c -> b only in a test module.
        (
            "src/b.rs",
            "use crate::a as facade; pub fn b() { facade::helper() }",
        ),
        (
            "src/c.rs",
            "#[cfg(test)] mod tests { fn t() { super::super::b::b() } }",
        ),
    ]);
    let edges = krate.edges();
    let has = |from: &str, to: &str| edges.contains_key(&(from.to_string(), to.to_string()));
    assert!(
        has("src/a/x.rs", "src/a/mod.rs") && has("src/b.rs", "src/a/y.rs"),
        "{edges:?}"
    );
    assert!(
        has("src/c.rs", "src/b.rs") && !has("src/a/mod.rs", "src/a/x.rs"),
        "{edges:?}"
    );
    assert!(!has("src/b.rs", "src/a/mod.rs"), "{edges:?}");
    assert_eq!(cycle_report(&krate), "");
    let cyclic = in_memory(&[
        ("src/lib.rs", "mod p; mod q;"),
        ("src/p.rs", "pub fn p() { crate::q::q() }"),
        ("src/q.rs", "use super::p; pub fn q() { p::p() }"),
    ]);
    let report = cycle_report(&cyclic);
    assert!(report.contains("cycle 1: src/p.rs, src/q.rs"), "{report}");
    assert!(
        report.contains("src/q.rs -> src/p.rs (p::p = crate::p::p)"),
        "{report}"
    );
}
