//! Applying requirement edits to a manifest's text with `toml_edit`, so the file keeps its
//! formatting, order and comments: only the version string changes (its surrounding spaces and
//! trailing comment stay). Works for `dep = "1"`, `dep = { version = "1", … }` and a
//! `[dependencies.dep]` table, in any table path (`target.'cfg(unix)'.dependencies`,
//! `workspace.dependencies`). Pure.

use toml_edit::{DocumentMut, Item, Value};

use super::edits::RequirementEdit;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RewriteFileError {
    #[error("{manifest} does not parse: {message}")]
    Parse { manifest: String, message: String },
    #[error("{manifest}: no `{key}` in [{table}]")]
    Missing {
        manifest: String,
        table: String,
        key: String,
    },
    #[error("{manifest}: `{key}` in [{table}] has requirement `{found}`, expected `{expected}`")]
    Changed {
        manifest: String,
        table: String,
        key: String,
        found: String,
        expected: String,
    },
}

/// `text` with every edit for it applied. An edit whose requirement is no longer what the plan
/// saw is refused rather than guessed at.
pub fn apply(text: &str, edits: &[&RequirementEdit]) -> Result<String, RewriteFileError> {
    let Some(first) = edits.first() else {
        return Ok(text.to_owned());
    };
    let mut doc: DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| RewriteFileError::Parse {
                manifest: first.manifest.clone(),
                message: e.message().to_owned(),
            })?;
    for edit in edits {
        let missing = || RewriteFileError::Missing {
            manifest: edit.manifest.clone(),
            table: edit.table.join("."),
            key: edit.key.clone(),
        };
        let mut item: &mut Item = doc.as_item_mut();
        for part in &edit.table {
            item = item.get_mut(part.as_str()).ok_or_else(missing)?;
        }
        let entry = item.get_mut(edit.key.as_str()).ok_or_else(missing)?;
        let slot: &mut Value = match entry {
            Item::Value(Value::String(_)) => entry.as_value_mut().ok_or_else(missing)?,
            Item::Value(Value::InlineTable(t)) => t.get_mut("version").ok_or_else(missing)?,
            Item::Table(t) => t
                .get_mut("version")
                .and_then(Item::as_value_mut)
                .ok_or_else(missing)?,
            _ => return Err(missing()),
        };
        let found = slot.as_str().unwrap_or_default().to_owned();
        if found != edit.from {
            return Err(RewriteFileError::Changed {
                manifest: edit.manifest.clone(),
                table: edit.table.join("."),
                key: edit.key.clone(),
                found,
                expected: edit.from.clone(),
            });
        }
        let decor = slot.decor().clone();
        *slot = Value::from(edit.to.as_str());
        *slot.decor_mut() = decor;
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(table: &[&str], key: &str, from: &str, to: &str) -> RequirementEdit {
        RequirementEdit {
            manifest: "Cargo.toml".into(),
            table: table.iter().map(|s| s.to_string()).collect(),
            key: key.into(),
            from: from.into(),
            to: to.into(),
        }
    }

    #[test]
    fn only_the_version_changes_and_comments_and_layout_stay() {
        let text = "[package]\nname = \"x\"\n\n# the deps\n[dependencies]\nserde = \"1.0\"   # pinned for a reason\ntokio = { version = \"1.40\", features = [\"rt\"] }\n\n[target.'cfg(unix)'.dependencies.nix]\nversion = \"0.27\" # unix only\n\n[workspace.dependencies]\nrand = \"0.8\"\n";
        let edits = [
            edit(&["dependencies"], "serde", "1.0", "2.0"),
            edit(&["dependencies"], "tokio", "1.40", "2.1"),
            edit(
                &["target", "cfg(unix)", "dependencies"],
                "nix",
                "0.27",
                "0.29",
            ),
            edit(&["workspace", "dependencies"], "rand", "0.8", "0.9"),
        ];
        let out = apply(text, &edits.iter().collect::<Vec<_>>()).unwrap();
        assert_eq!(
            out,
            "[package]\nname = \"x\"\n\n# the deps\n[dependencies]\nserde = \"2.0\"   # pinned for a reason\ntokio = { version = \"2.1\", features = [\"rt\"] }\n\n[target.'cfg(unix)'.dependencies.nix]\nversion = \"0.29\" # unix only\n\n[workspace.dependencies]\nrand = \"0.9\"\n"
        );
    }

    #[test]
    fn a_requirement_that_moved_since_the_plan_is_refused() {
        let e = edit(&["dependencies"], "serde", "1.0", "2.0");
        let err = apply("[dependencies]\nserde = \"1.1\"\n", &[&e]).unwrap_err();
        assert!(matches!(err, RewriteFileError::Changed { .. }), "{err}");
        let err = apply("[dependencies]\n", &[&e]).unwrap_err();
        assert!(matches!(err, RewriteFileError::Missing { .. }), "{err}");
    }
}
