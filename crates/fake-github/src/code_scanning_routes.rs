//! Code scanning: `POST /repos/{owner}/{repo}/code-scanning/sarifs`. The `sarif` field is
//! decoded as GitHub does (base64, then gzip, at most 10 MB compressed) and checked against the
//! SARIF 2.1.0 schema's required fields and GitHub's upload rules
//! (`schemas/sarif-2.1.0-required.json`); a repository without code scanning answers 403 as
//! GitHub does. Uploads are kept; the open alerts of a ref are the results of its latest upload
//! per category, which is how GitHub closes what a new analysis no longer finds.

use std::io::Read as _;
use std::sync::OnceLock;

use base64::Engine as _;
use serde_json::{json, Value};

use crate::exchange::{authorised_repository, Ctx, Reply};
use crate::world::{SarifUpload, World};

/// Operations answered in this file.
pub(crate) const OPS: [&str; 1] = ["code-scanning/upload-sarif"];

/// GitHub's limit on the compressed SARIF.
const MAX_COMPRESSED: usize = 10 * 1024 * 1024;
/// And on what it decompresses to (a gzip bomb is refused).
const MAX_DECOMPRESSED: u64 = 100 * 1024 * 1024;

pub(crate) fn route(op: &str, world: &mut World, ctx: &Ctx<'_>) -> Option<Reply> {
    Some(match op {
        "code-scanning/upload-sarif" => upload(world, ctx),
        _ => return None,
    })
}

fn upload(world: &mut World, ctx: &Ctx<'_>) -> Reply {
    let name = match authorised_repository(world, ctx) {
        Ok(n) => n,
        Err(r) => return r,
    };
    let Some(repo) = world.repositories.get(&name) else {
        return Reply::message(404, "Not Found");
    };
    if !repo.code_scanning {
        return Reply::message(
            403,
            "Advanced Security must be enabled for this repository to use code scanning.",
        );
    }
    let body = ctx.body.cloned().unwrap_or(Value::Null);
    let (Some(commit), Some(git_ref), Some(sarif)) = (
        body["commit_sha"].as_str(),
        body["ref"].as_str(),
        body["sarif"].as_str(),
    ) else {
        return Reply::message(422, "Validation Failed");
    };
    let log = match decode(sarif) {
        Ok(log) => log,
        Err(reply) => return reply,
    };
    if let Some(problem) = schema_problem(&log) {
        return Reply::message(400, &format!("Invalid SARIF: {problem}"));
    }
    let id = format!("{:08x}-5596-11eb-80a1-c1e54ef945c6", world.next_id());
    let Some(repo) = world.repositories.get_mut(&name) else {
        return Reply::message(404, "Not Found");
    };
    repo.sarif_uploads.push(SarifUpload {
        id: id.clone(),
        commit_sha: commit.to_owned(),
        git_ref: git_ref.to_owned(),
        log,
    });
    Reply::json(
        202,
        json!({
            "id": id,
            "url": format!("{}/repos/{name}/code-scanning/sarifs/{id}", world.base_url),
        }),
    )
}

/// base64, then gzip, within GitHub's limits.
fn decode(sarif: &str) -> Result<Value, Reply> {
    if sarif.len() > MAX_COMPRESSED * 4 / 3 + 4 {
        return Err(Reply::message(413, "Payload Too Large"));
    }
    let gz = base64::engine::general_purpose::STANDARD
        .decode(sarif)
        .map_err(|e| Reply::message(400, &format!("the sarif field is not base64: {e}")))?;
    if gz.len() > MAX_COMPRESSED {
        return Err(Reply::message(413, "Payload Too Large"));
    }
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .take(MAX_DECOMPRESSED)
        .read_to_string(&mut text)
        .map_err(|e| Reply::message(400, &format!("the sarif field is not gzip: {e}")))?;
    serde_json::from_str(&text)
        .map_err(|e| Reply::message(400, &format!("Invalid SARIF: not JSON: {e}")))
}

/// The first way `log` breaks the schema's required fields, if any.
pub fn schema_problem(log: &Value) -> Option<String> {
    static VALIDATOR: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(include_str!("schemas/sarif-2.1.0-required.json")).ok()?;
        jsonschema::options()
            .should_validate_formats(false)
            .build(&schema)
            .ok()
    });
    let Some(validator) = validator else {
        return Some("the fake's SARIF schema does not compile".to_owned());
    };
    validator
        .iter_errors(log)
        .next()
        .map(|e| format!("{e} at {}", e.instance_path()))
}
