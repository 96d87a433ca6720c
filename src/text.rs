//! Text on its way to a terminal. Names, scopes and values can hold characters a terminal
//! acts on (escape sequences that recolour, retitle or clear it, a carriage return that
//! overwrites a line, invisible direction overrides that reorder it); these are shown
//! escaped, and names and scopes holding them are refused when they enter the vault.

use std::borrow::Cow;

/// Control characters (C0, DEL, C1) and the invisible Unicode formatting characters that
/// change how the text around them is displayed.
pub fn is_unusual(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// `text` with every unusual character written as a Rust-style escape (`\u{1b}`, `\n`).
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_except(text, &[])
}

/// Like [`escape`], but keeps line breaks and tabs: for a value shown on a terminal, where
/// a multi-line value (a PEM key) should still read as lines.
pub fn escape_keeping_lines(text: &str) -> Cow<'_, str> {
    escape_except(text, &['\n', '\t'])
}

fn escape_except<'a>(text: &'a str, kept: &[char]) -> Cow<'a, str> {
    let needs = |c: char| is_unusual(c) && !kept.contains(&c);
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_acts_on() {
        assert_eq!(escape("main"), "main");
        assert_eq!(escape("evil\x1b[31mRED\nFAKE"), "evil\\u{1b}[31mRED\\nFAKE");
        assert_eq!(escape("a\u{202e}b\u{9b}"), "a\\u{202e}b\\u{9b}");
        assert_eq!(escape_keeping_lines("l1\nl2\t\x07\r"), "l1\nl2\t\\u{7}\\r");
        assert_eq!(escape("ünïcødé ✓"), "ünïcødé ✓");
    }
}
