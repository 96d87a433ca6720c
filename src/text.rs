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

/// The candidate closest to `wanted` by edit distance (case-insensitive), when it is close
/// enough to be a typo: at most a third of the name's length, and never `wanted` itself.
pub fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wanted_lower = wanted.to_lowercase();
    let limit = (wanted.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != wanted)
        .map(|c| (edit_distance(&wanted_lower, &c.to_lowercase()), c))
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, c)| c)
}

/// Edit distance in characters, a swap of two neighbours counting as one edit (optimal
/// string alignment): `lsit` is one edit from `list`.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // Three rows: two back (for swaps), the previous one and the current one.
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut current = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            current[j] = (previous[j - 1] + cost)
                .min(previous[j] + 1)
                .min(current[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                current[j] = current[j].min(before[j - 2] + 1);
            }
        }
        before = std::mem::replace(&mut previous, current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_names() {
        let names = ["STRIPE_SECRET_KEY", "SENDGRID_API_KEY", "DB_URL"];
        assert_eq!(
            closest("STRIPE_SECRET_KY", names),
            Some("STRIPE_SECRET_KEY")
        );
        assert_eq!(
            closest("stripe_secret_key", names),
            Some("STRIPE_SECRET_KEY")
        );
        assert_eq!(closest("DB_URI", names), Some("DB_URL"));
        assert_eq!(closest("OTHER", names), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("lsit", "list"), 1);
        assert_eq!(closest("lsit", ["set", "list"]), Some("list"));
    }

    #[test]
    fn escapes_what_a_terminal_acts_on() {
        assert_eq!(escape("main"), "main");
        assert_eq!(escape("evil\x1b[31mRED\nFAKE"), "evil\\u{1b}[31mRED\\nFAKE");
        assert_eq!(escape("a\u{202e}b\u{9b}"), "a\\u{202e}b\\u{9b}");
        assert_eq!(escape_keeping_lines("l1\nl2\t\x07\r"), "l1\nl2\t\\u{7}\\r");
        assert_eq!(escape("ünïcødé ✓"), "ünïcødé ✓");
    }
}
