//! Fuzzes the comment-command parser: any comment body, any slug, never a panic, and what it
//! finds always makes sense (a line that exists, unique keys, a mention at the line's start).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The first line picks the slug, the rest is the comment.
    let (slug, body) = text.split_once('\n').unwrap_or(("upkeep", &text));
    let slug = if slug.is_empty() || slug.len() > 39 { "upkeep" } else { slug };
    let found = upkeep_commands::parse(body, slug);
    let lines: Vec<&str> = body.lines().collect();
    let mut keys = std::collections::BTreeSet::new();
    for f in &found {
        assert!(f.line >= 1 && f.line <= lines.len(), "line {} of {}", f.line, lines.len());
        let line = lines[f.line - 1].trim_start();
        assert!(line.starts_with('@'), "{line:?} is not a mention");
        assert!(keys.insert(f.key.clone()), "key {} twice", f.key);
    }
});
