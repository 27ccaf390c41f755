//! GitHub's REST OpenAPI description as a judge. Every request the fake receives is matched to an
//! operation by method and path template; its JSON body is validated against the operation's
//! request schema, and every response the fake returns against the schema for its status code.
//!
//! The description is OpenAPI 3.0, whose schemas are JSON Schema draft 4 plus `nullable`; the
//! loader rewrites `nullable: true` into draft-4 terms once, registers the components with the
//! `jsonschema` crate as one resource, and compiles a validator per schema on first use.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Draft, Registry, Validator};
use serde_json::{Map, Value};

/// Where the components live for `$ref` resolution; never fetched.
const BASE: &str = "https://openapi.fake-github.invalid/api.github.com.json";

/// One operation of the description.
#[derive(Debug, Clone)]
pub struct Operation {
    pub id: String,
    pub method: String,
    pub template: String,
    segments: Vec<Segment>,
    /// The JSON request body's schema, and whether a body is required.
    request: Option<(Value, bool)>,
    /// JSON response schemas by status ("200", "default"); `None` for a response without JSON.
    responses: HashMap<String, Option<Value>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param,
    /// A parameter that may hold slashes (`{path}`, `{ref}`…): only as the last segment.
    Rest,
}

/// Refusals GitHub really sends that its description does not list: (operation, status).
/// A dispatch to a ref that does not exist answers 422 "No ref found for: …".
const UNDOCUMENTED: [(&str, u16); 1] = [("actions/create-workflow-dispatch", 422)];

/// Parameters GitHub lets carry slashes unencoded.
const REST_PARAMS: [&str; 4] = ["{path}", "{ref}", "{basehead}", "{branch}"];

impl Operation {
    /// Whether the description documents this status for the operation.
    pub fn documents_status(&self, status: u16) -> bool {
        self.responses.contains_key(&status.to_string()) || self.responses.contains_key("default")
    }
}

/// A request or response that GitHub would not send or accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub operation: String,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.operation, self.message)
    }
}

/// The loaded description.
pub struct Spec {
    operations: Vec<Operation>,
    examples: Map<String, Value>,
    registry: Registry<'static>,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

impl Spec {
    /// The description under the shared data directory, loaded once per process.
    pub fn shared() -> &'static Spec {
        static SPEC: OnceLock<Spec> = OnceLock::new();
        SPEC.get_or_init(|| {
            let path = shared_dir().join("github-openapi/api.github.com.json");
            Spec::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
    }

    /// Loads a description from a file.
    pub fn load(path: &Path) -> Result<Spec, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        let mut doc: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        let mut components = doc
            .get_mut("components")
            .map(Value::take)
            .ok_or("no components")?;
        let raw_components = components.clone();
        let examples = raw_components["examples"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        either_of_titled(&mut components);
        draft4(&mut components);
        let mut operations = Vec::new();
        let paths = doc
            .get("paths")
            .and_then(Value::as_object)
            .ok_or("no paths")?;
        for (template, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    continue;
                }
                operations.push(operation(template, method, op, &raw_components)?);
            }
        }
        let root = Value::Object(Map::from_iter([("components".to_owned(), components)]));
        let registry = Registry::new()
            .draft(Draft::Draft4)
            .add(BASE, root)
            .and_then(|b| b.prepare())
            .map_err(|e| e.to_string())?;
        Ok(Spec {
            operations,
            examples,
            registry,
            validators: Mutex::new(HashMap::new()),
        })
    }

    /// How many operations the description has.
    pub fn len(&self) -> usize {
        self.operations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// One of the description's own examples (`components/examples/NAME`), for answers in
    /// GitHub's exact shape.
    pub fn example(&self, name: &str) -> Option<Value> {
        self.examples
            .get(name)
            .and_then(|e| e.get("value"))
            .cloned()
    }

    /// An operation by its id.
    pub fn operation(&self, id: &str) -> Option<&Operation> {
        self.operations.iter().find(|o| o.id == id)
    }

    /// The operation a request goes to: the template matching the path with the most literal
    /// segments (so `/repos/{o}/{r}/pulls/comments` wins over `/repos/{o}/{r}/pulls/{n}`); a
    /// final parameter may span several segments (`contents/{path}`, `git/ref/{ref}`).
    pub fn find(&self, method: &str, path: &str) -> Option<&Operation> {
        let method = method.to_ascii_lowercase();
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
        self.operations
            .iter()
            .filter(|o| o.method == method)
            .filter_map(|o| matches(&o.segments, &parts).map(|score| (score, o)))
            .max_by_key(|(score, _)| *score)
            .map(|(_, o)| o)
    }

    /// Checks a request body against the operation's request schema.
    pub fn check_request(&self, op: &Operation, body: Option<&Value>) -> Result<(), Violation> {
        match (&op.request, body) {
            (None, None) => Ok(()),
            (None, Some(body)) if body.as_object().is_some_and(Map::is_empty) => Ok(()),
            (None, Some(_)) => Err(violation(
                op,
                "a JSON body was sent to an operation that takes none".into(),
            )),
            (Some((_, true)), None) => Err(violation(
                op,
                "the operation requires a JSON body; none was sent".into(),
            )),
            (Some(_), None) => Ok(()),
            (Some((schema, _)), Some(body)) => {
                self.validate(op, &format!("{} request", op.id), schema, body)
            }
        }
    }

    /// Checks a response the fake is about to return.
    pub fn check_response(
        &self,
        op: &Operation,
        status: u16,
        body: Option<&Value>,
    ) -> Result<(), Violation> {
        let key = status.to_string();
        let schema = match op
            .responses
            .get(&key)
            .or_else(|| op.responses.get("default"))
        {
            // GitHub answers bad credentials with 401 on every operation, documented or not, and
            // a few refusals its description leaves out (listed in UNDOCUMENTED).
            None if status == 401 || UNDOCUMENTED.contains(&(op.id.as_str(), status)) => {
                return match body.and_then(|b| b["message"].as_str()) {
                    Some(_) => Ok(()),
                    None => Err(violation(op, "a 401 carries a JSON message".into())),
                };
            }
            None => {
                return Err(violation(
                    op,
                    format!("GitHub's description documents no {status} response"),
                ));
            }
            Some(schema) => schema,
        };
        match (schema, body) {
            (Some(schema), Some(body)) => {
                self.validate(op, &format!("{} {status}", op.id), schema, body)
            }
            (Some(_), None) => Err(violation(
                op,
                format!("the {status} response must have a JSON body"),
            )),
            (None, _) => Ok(()),
        }
    }

    fn validate(
        &self,
        op: &Operation,
        key: &str,
        schema: &Value,
        instance: &Value,
    ) -> Result<(), Violation> {
        let validator = self.validator(key, schema).map_err(|e| violation(op, e))?;
        let errors: Vec<String> = validator
            .iter_errors(instance)
            .take(5)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(violation(op, errors.join("; ")))
        }
    }

    fn validator(&self, key: &str, schema: &Value) -> Result<Arc<Validator>, String> {
        let mut cache = self
            .validators
            .lock()
            .map_err(|_| "validator cache poisoned".to_owned())?;
        if let Some(v) = cache.get(key) {
            return Ok(Arc::clone(v));
        }
        let mut schema = schema.clone();
        either_of_titled(&mut schema);
        draft4(&mut schema);
        absolute_refs(&mut schema);
        let validator = jsonschema::options()
            .with_draft(Draft::Draft4)
            .should_validate_formats(false)
            .with_registry(&self.registry)
            .build(&schema)
            .map_err(|e| format!("cannot compile the schema for {key}: {e}"))?;
        let validator = Arc::new(validator);
        cache.insert(key.to_owned(), Arc::clone(&validator));
        Ok(validator)
    }
}

fn violation(op: &Operation, message: String) -> Violation {
    Violation {
        operation: op.id.clone(),
        message,
    }
}

/// `../shared` beside the repository (or `UPKEEP_SHARED_DIR`).
pub fn shared_dir() -> PathBuf {
    std::env::var_os("UPKEEP_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

fn operation(
    template: &str,
    method: &str,
    op: &Value,
    components: &Value,
) -> Result<Operation, String> {
    let id = op["operationId"]
        .as_str()
        .ok_or_else(|| format!("{method} {template} has no operationId"))?;
    let segments = segments(template);
    let request = op
        .get("requestBody")
        .map(|b| deref(b, components))
        .and_then(|body| {
            let schema = body.pointer("/content/application~1json/schema")?.clone();
            Some((schema, body["required"].as_bool().unwrap_or(false)))
        });
    let mut responses = HashMap::new();
    if let Some(map) = op["responses"].as_object() {
        for (status, response) in map {
            let response = deref(response, components);
            let schema = response
                .get("content")
                .and_then(Value::as_object)
                .and_then(|c| c.iter().find(|(k, _)| k.contains("json")).map(|(_, v)| v))
                .and_then(|c| c.get("schema"))
                .cloned();
            responses.insert(status.clone(), schema);
        }
    }
    Ok(Operation {
        id: id.to_owned(),
        method: method.to_owned(),
        template: template.to_owned(),
        segments,
        request,
        responses,
    })
}

/// A path template as segments.
fn segments(template: &str) -> Vec<Segment> {
    template
        .trim_end_matches('/')
        .split('/')
        .skip(1)
        .map(|s| {
            if REST_PARAMS.contains(&s) {
                Segment::Rest
            } else if s.starts_with('{') && s.ends_with('}') {
                Segment::Param
            } else {
                Segment::Literal(s.to_owned())
            }
        })
        .collect()
}

/// Follows a `$ref` to `#/components/...` (responses and request bodies can be references).
fn deref<'a>(value: &'a Value, components: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/components")
            .and_then(|p| components.pointer(p))
            .unwrap_or(value),
        None => value,
    }
}

/// A match score: (literal segments matched, exact length); `None` when it does not match.
fn matches(segments: &[Segment], parts: &[&str]) -> Option<(usize, bool)> {
    if parts.len() < segments.len() {
        return None;
    }
    let exact = parts.len() == segments.len();
    if !exact && segments.last() != Some(&Segment::Rest) {
        return None;
    }
    let mut literals = 0;
    for (i, segment) in segments.iter().enumerate() {
        match segment {
            Segment::Literal(l) if l == parts[i] => literals += 1,
            Segment::Literal(_) => return None,
            Segment::Param | Segment::Rest if parts[i].is_empty() => return None,
            Segment::Param | Segment::Rest => {}
        }
    }
    Some((literals, exact))
}

/// Rewrites OpenAPI 3.0's `nullable: true` into draft 4: a null joins the type (and enum), or
/// the schema becomes `anyOf [schema, null]` where it has no type of its own (`$ref`, `allOf`…).
fn draft4(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(draft4),
        Value::Object(map) => {
            map.values_mut().for_each(draft4);
            if map.get("nullable").and_then(Value::as_bool) != Some(true) {
                return;
            }
            map.remove("nullable");
            if let Some(enum_values) = map.get_mut("enum").and_then(Value::as_array_mut) {
                if !enum_values.contains(&Value::Null) {
                    enum_values.push(Value::Null);
                }
            }
            match map.get_mut("type") {
                Some(Value::String(t)) => {
                    let t = std::mem::take(t);
                    map.insert(
                        "type".into(),
                        Value::Array(vec![Value::String(t), Value::String("null".into())]),
                    );
                }
                Some(Value::Array(types)) => {
                    if !types.contains(&Value::String("null".into())) {
                        types.push(Value::String("null".into()));
                    }
                }
                _ => {
                    let inner = Value::Object(std::mem::take(map));
                    map.insert(
                        "anyOf".into(),
                        Value::Array(vec![inner, serde_json::json!({ "type": "null" })]),
                    );
                }
            }
        }
        _ => {}
    }
}

/// GitHub's description says an installation's `account` is `allOf [Simple User, Enterprise]`
/// where it means either one (no account is both: a user has no `slug`, an enterprise no
/// `login`), so no answer GitHub gives could pass. An `allOf` of whole, titled schemas becomes
/// the `anyOf` it means; an `allOf` that extends one schema with untitled properties stays.
fn either_of_titled(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(either_of_titled),
        Value::Object(map) => {
            map.values_mut().for_each(either_of_titled);
            let titled = map
                .get("allOf")
                .and_then(Value::as_array)
                .is_some_and(|all| all.len() > 1 && all.iter().all(|s| s.get("title").is_some()));
            if titled {
                if let Some(all) = map.remove("allOf") {
                    map.insert("anyOf".into(), all);
                }
            }
        }
        _ => {}
    }
}

/// Points `#/components/...` references at the registered description.
fn absolute_refs(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(absolute_refs),
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref") {
                if r.starts_with("#/") {
                    *r = format!("{BASE}{r}");
                }
            }
            map.values_mut().for_each(absolute_refs);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nullable_becomes_draft_4() {
        let mut v = json!({"type": "string", "nullable": true, "enum": ["a"]});
        draft4(&mut v);
        assert_eq!(v, json!({"type": ["string", "null"], "enum": ["a", null]}));
        let mut r = json!({"$ref": "#/components/schemas/x", "nullable": true});
        draft4(&mut r);
        assert_eq!(
            r,
            json!({"anyOf": [{"$ref": "#/components/schemas/x"}, {"type": "null"}]})
        );
    }

    #[test]
    fn the_most_literal_template_wins_and_a_final_parameter_spans_segments() {
        let t = segments;
        let parts: Vec<&str> = "/repos/o/r/pulls/comments".split('/').skip(1).collect();
        let a = matches(&t("/repos/{owner}/{repo}/pulls/comments"), &parts).unwrap();
        let b = matches(&t("/repos/{owner}/{repo}/pulls/{pull_number}"), &parts).unwrap();
        assert!(a > b);
        let deep: Vec<&str> = "/repos/o/r/contents/src/lib.rs"
            .split('/')
            .skip(1)
            .collect();
        assert!(matches(&t("/repos/{owner}/{repo}/contents/{path}"), &deep).is_some());
        assert!(matches(&t("/repos/{owner}/{repo}/pulls"), &deep).is_none());
    }
}
