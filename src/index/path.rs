//! Where a crate's file lives in a sparse index, by Cargo's layout: names are lower-cased;
//! one-letter names under `1/`, two-letter under `2/`, three-letter under `3/{first letter}/`,
//! longer ones under `{letters 1-2}/{letters 3-4}/`.

/// The index path of a crate name, or `None` for a name Cargo would not accept.
pub fn index_path(name: &str) -> Option<String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if !valid {
        return None;
    }
    let n = name.to_ascii_lowercase();
    Some(match n.len() {
        1 => format!("1/{n}"),
        2 => format!("2/{n}"),
        3 => format!("3/{}/{n}", &n[..1]),
        _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn cargos_layout() {
        assert_eq!(index_path("a").as_deref(), Some("1/a"));
        assert_eq!(index_path("cc").as_deref(), Some("2/cc"));
        assert_eq!(index_path("syn").as_deref(), Some("3/s/syn"));
        assert_eq!(index_path("serde").as_deref(), Some("se/rd/serde"));
        assert_eq!(index_path("Inflector").as_deref(), Some("in/fl/inflector"));
        assert_eq!(index_path("../etc/passwd"), None);
        assert_eq!(index_path(""), None);
        assert_eq!(index_path("9lives"), None);
    }

    proptest! {
        #[test]
        fn a_valid_name_always_ends_its_path_and_never_escapes(name in "[a-zA-Z][a-zA-Z0-9_-]{0,63}") {
            let path = index_path(&name).unwrap();
            let lowered = name.to_ascii_lowercase();
            let suffix = format!("/{}", lowered);
            prop_assert!(path.ends_with(&suffix));
            prop_assert!(!path.contains(".."));
        }
    }
}
