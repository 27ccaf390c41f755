//! Text from outside, bounded for what people read: cut to a number of characters (never
//! inside one), an ellipsis marking the cut. Pure.

/// `text` cut to at most `max` characters, `…` added when it was longer.
pub fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn long_texts_are_cut_on_a_character_boundary() {
        let long = "é".repeat(20);
        let c = cut(&long, 10);
        assert_eq!(c.chars().count(), 11);
        assert!(c.ends_with('…'));
        assert_eq!(cut("short", 10), "short");
    }
}
