//! The audit's findings as a SARIF 2.1.0 log for GitHub code scanning (issue 25, opt-in with
//! `[audit] code-scanning = true`): one rule per advisory (title, summary, link, CVSS score as
//! `security-severity` so GitHub ranks it as it ranks its own alerts), one result per advisory
//! and locked copy, located at the package's entry in `Cargo.lock`. The fingerprint leaves the
//! version out, so an alert follows a crate that moves to another still-affected version, and
//! the run's category stays the same, so GitHub closes an alert once an upload no longer has
//! it. Pure: the driver is `audit::code_scanning`.

use std::collections::BTreeMap;
use std::io::Write as _;

use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{AdvisoryDb, Finding};

/// The analysis category: every upload replaces the previous one of this category.
pub const CATEGORY: &str = "upkeep/audit/";
/// GitHub keeps at most this many results per run.
pub const MAX_RESULTS: usize = 25_000;
/// Rule texts are cut to this many characters (an advisory's description can be long).
const MAX_TEXT: usize = 4_000;

/// One finding and the lockfile it was found in.
#[derive(Debug, Clone, Copy)]
pub struct Located<'a> {
    /// The lockfile's repository path (`Cargo.lock`, `tools/Cargo.lock`).
    pub lockfile: &'a str,
    /// Its text, to find the package's line.
    pub text: &'a str,
    pub finding: &'a Finding,
}

/// The SARIF log for `found` (advisory findings only: a yanked version is not a security
/// alert). An empty `found` is a log with no results, which closes every open alert.
pub fn log(db: &AdvisoryDb, found: &[Located<'_>]) -> Value {
    let mut rules: BTreeMap<&str, Value> = BTreeMap::new();
    let mut results = Vec::new();
    for l in found.iter().take(MAX_RESULTS) {
        let Some(id) = l.finding.id.as_deref() else {
            continue;
        };
        rules.entry(id).or_insert_with(|| rule(db, id, l.finding));
        results.push((id, result(id, l)));
    }
    let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let results: Vec<Value> = results
        .into_iter()
        .map(|(id, mut r)| {
            r["ruleIndex"] = json!(index.get(id).copied().unwrap_or_default());
            r
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "upkeep",
                "informationUri": "https://rustsec.org/",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "automationDetails": {"id": CATEGORY},
            "results": results,
        }],
    })
}

/// The log as the upload wants it: gzip, then base64.
pub fn encode(log: &Value) -> Result<String, std::io::Error> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(log.to_string().as_bytes())?;
    Ok(base64::engine::general_purpose::STANDARD.encode(gz.finish()?))
}

/// What an upload is for: the commit and the log (a pass skips an upload it already made).
pub fn digest(commit: &str, log: &Value) -> i64 {
    let mut h = Sha256::new();
    h.update(commit.as_bytes());
    h.update([0]);
    h.update(log.to_string().as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    i64::from_be_bytes(b)
}

/// `error` for a vulnerability, `warning` for unsound code, `note` for the rest.
fn level(kind: &str) -> &'static str {
    match kind {
        "vulnerability" => "error",
        "unsound" => "warning",
        _ => "note",
    }
}

fn rule(db: &AdvisoryDb, id: &str, f: &Finding) -> Value {
    let advisory = db.advisory(id);
    let description = advisory
        .map(|a| a.metadata.description.trim().to_owned())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| f.title.clone());
    let url = format!("https://rustsec.org/advisories/{id}");
    let mut properties = json!({
        "tags": ["security", "rust", f.kind.as_str()],
        "precision": "very-high",
        "problem.severity": if f.kind == "vulnerability" { "error" } else { "warning" },
    });
    if let Some(cvss) = advisory.and_then(|a| a.metadata.cvss.as_ref()) {
        properties["security-severity"] = json!(format!("{:.1}", cvss.score()));
    }
    let patched = if f.patched.is_empty() {
        "No patched version yet.".to_owned()
    } else {
        format!("Patched: {}.", f.patched.join(", "))
    };
    json!({
        "id": id,
        "name": f.krate,
        "shortDescription": {"text": cut(&format!("{}: {}", f.krate, f.title))},
        "fullDescription": {"text": cut(&description)},
        "helpUri": url,
        "help": {
            "text": cut(&format!("{description}\n\n{patched} See {url}")),
            "markdown": cut(&format!("{description}\n\n{patched} See [{id}]({url}).")),
        },
        "defaultConfiguration": {"level": level(&f.kind)},
        "properties": properties,
    })
}

fn result(id: &str, l: &Located<'_>) -> Value {
    let f = l.finding;
    let chain = if f.chain.len() > 1 {
        format!(" Pulled in by {}.", f.chain.join(" → "))
    } else {
        String::new()
    };
    let patched = if f.patched.is_empty() {
        " No patched version yet.".to_owned()
    } else {
        format!(" Patched: {}.", f.patched.join(", "))
    };
    let mut fp = Sha256::new();
    for part in [id, l.lockfile, f.krate.as_str()] {
        fp.update(part.as_bytes());
        fp.update([0]);
    }
    json!({
        "ruleId": id,
        "level": level(&f.kind),
        "message": {"text": cut(&format!(
            "{} {} in {} ({id}, {}): {}.{patched}{chain}",
            f.krate, f.version, l.lockfile, f.kind, f.title
        ))},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": l.lockfile},
            "region": {"startLine": package_line(l.text, &f.krate, &f.version)},
        }}],
        "partialFingerprints": {"upkeepAdvisory/v1": hex::encode(fp.finalize())},
    })
}

/// The 1-based line of `name = "krate"` in the `[[package]]` entry with `version`; 1 when the
/// lockfile has no such entry.
pub fn package_line(text: &str, krate: &str, version: &str) -> usize {
    let name_line = format!("name = \"{krate}\"");
    let version_line = format!("version = \"{version}\"");
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.trim() != name_line {
            continue;
        }
        let entry = lines[i + 1..]
            .iter()
            .take_while(|l| !l.trim_start().starts_with("[["));
        if entry.into_iter().any(|l| l.trim() == version_line) {
            return i + 1;
        }
    }
    1
}

fn cut(text: &str) -> String {
    crate::text::cut(text, MAX_TEXT)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = "version = 4\n\n[[package]]\nname = \"syn\"\nversion = \"1.0.109\"\n\n[[package]]\nname = \"syn\"\nversion = \"2.0.119\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";

    #[test]
    fn the_line_is_the_name_of_the_entry_with_that_version() {
        assert_eq!(package_line(LOCK, "syn", "1.0.109"), 4);
        assert_eq!(package_line(LOCK, "syn", "2.0.119"), 8);
        assert_eq!(package_line(LOCK, "syn", "3.0.0"), 1);
        assert_eq!(package_line("", "syn", "1.0.0"), 1);
    }

    #[test]
    fn the_encoding_is_gzip_then_base64() {
        use std::io::Read as _;
        let log = json!({"version": "2.1.0", "runs": []});
        let b = base64::engine::general_purpose::STANDARD
            .decode(encode(&log).unwrap())
            .unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&b[..])
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), log);
        assert_ne!(digest("a", &log), digest("b", &log));
    }
}
