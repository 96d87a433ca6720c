//! `NAME=value` files, written and read as the `dotenvy` crate parses them.
//!
//! What dotenvy (0.15) accepts, from its source:
//! * inside single quotes everything is literal, but its line joiner treats `\` as escaping
//!   the next character, so a value holding `'` or `\` cannot be single-quoted;
//! * inside double quotes `\\`, `\"`, `\'`, `\$`, `\ ` and `\n` are escapes, `$NAME` is
//!   substituted (from the process environment first), and anything else is literal,
//!   including a raw carriage return;
//! * a quoted value may span lines.
//!
//! So a value is written in single quotes when it holds no `'`, `\`, newline or carriage
//! return (readable, and literal for every dotenv dialect), else in double quotes with
//! `\\ \" \$ \n` escaped.
//!
//! Reading uses dotenvy itself, one logical line at a time so each problem has its line
//! number. `$` substitution is refused: it would import pieces of ampsecret's own environment.

use super::{Entry, Problem};
use crate::secret::SecretValue;
use zeroize::Zeroizing;

/// A name dotenvy reads back: `[A-Za-z_][A-Za-z0-9_.]*`.
pub fn is_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// Renders `items` (already in name order). Names must satisfy [`is_name`].
pub fn render<'a>(items: impl IntoIterator<Item = (&'a str, &'a str)>) -> Zeroizing<String> {
    let items: Vec<(&str, &str)> = items.into_iter().collect();
    // Reserve the worst case up front so the buffer never reallocates (no stray copies).
    let capacity: usize = items.iter().map(|(n, v)| n.len() + 2 * v.len() + 4).sum();
    let mut out = Zeroizing::new(String::with_capacity(capacity));
    for (name, value) in items {
        out.push_str(name);
        out.push('=');
        if value.contains(['\'', '\\', '\n', '\r']) {
            out.push('"');
            for c in value.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '"' => out.push_str("\\\""),
                    '$' => out.push_str("\\$"),
                    '\n' => out.push_str("\\n"),
                    c => out.push(c),
                }
            }
            out.push('"');
        } else {
            out.push('\'');
            out.push_str(value);
            out.push('\'');
        }
        out.push('\n');
    }
    out
}

/// Parses a dotenv file. Returns every entry, or every problem (nothing partial).
pub fn parse(text: &str) -> Result<Vec<Entry>, Vec<Problem>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (chunks, mut problems) = logical_lines(text);
    let mut entries = Vec::new();
    for (line, chunk) in chunks {
        if uses_substitution(chunk) {
            problems.push(Problem::at(
                Some(line),
                "'$' substitution is not expanded by import; write the value in single quotes or escape it as \\$",
            ));
            continue;
        }
        for item in dotenvy::from_read_iter(chunk.as_bytes()) {
            match item {
                Ok((name, value)) => entries.push(Entry {
                    name,
                    value: SecretValue::new(value),
                    line: Some(line),
                }),
                // dotenvy's error repeats the line, which may hold a value: never show it.
                Err(_) => problems.push(Problem::at(
                    Some(line),
                    "not a NAME=value line (quote a value that holds spaces or '#')",
                )),
            }
        }
    }
    if problems.is_empty() {
        Ok(entries)
    } else {
        problems.sort_by_key(|p| p.line);
        Err(problems)
    }
}

/// What dotenvy's line joiner tracks between characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Complete,
    Escape,
    StrongOpen,
    StrongOpenEscape,
    WeakOpen,
    WeakOpenEscape,
    WhiteSpace,
}

/// Splits `text` into the logical lines dotenvy parses one by one (a quoted value may span
/// physical lines), each with the number of its first physical line. This mirrors dotenvy's
/// `QuotedLines` so that each chunk parses exactly as it does within the whole file.
fn logical_lines(text: &str) -> (Vec<(usize, &str)>, Vec<Problem>) {
    let mut chunks = Vec::new();
    let mut state = State::Complete;
    let (mut start, mut start_line) = (0, 1);
    let mut offset = 0;
    for (index, physical) in text.split_inclusive('\n').enumerate() {
        if state == State::Complete {
            start = offset;
            start_line = index + 1;
        }
        offset += physical.len();
        let chunk = &text[start..offset];
        if chunk.trim_start().starts_with('#') {
            state = State::Complete;
            continue;
        }
        match end_state(state, physical) {
            None => {
                // A comment ends the logical line.
                state = State::Complete;
                chunks.push((start_line, chunk));
            }
            Some(State::Complete) => {
                state = State::Complete;
                chunks.push((start_line, chunk));
            }
            Some(open) => state = open,
        }
    }
    let problems = if state == State::Complete {
        Vec::new()
    } else {
        vec![Problem::at(
            Some(start_line),
            "a quoted value is not closed before the end of the file",
        )]
    };
    (chunks, problems)
}

/// The joiner's state after `line`, or `None` when a comment starts on it.
fn end_state(mut state: State, line: &str) -> Option<State> {
    for c in line.chars() {
        state = match state {
            State::WhiteSpace => match c {
                '#' => return None,
                '\\' => State::Escape,
                '"' => State::WeakOpen,
                '\'' => State::StrongOpen,
                _ => State::Complete,
            },
            State::Escape => State::Complete,
            State::Complete => match c {
                c if c.is_whitespace() && c != '\n' && c != '\r' => State::WhiteSpace,
                '\\' => State::Escape,
                '"' => State::WeakOpen,
                '\'' => State::StrongOpen,
                _ => State::Complete,
            },
            State::WeakOpen => match c {
                '\\' => State::WeakOpenEscape,
                '"' => State::Complete,
                _ => State::WeakOpen,
            },
            State::WeakOpenEscape => State::WeakOpen,
            State::StrongOpen => match c {
                '\\' => State::StrongOpenEscape,
                '\'' => State::Complete,
                _ => State::StrongOpen,
            },
            State::StrongOpenEscape => State::StrongOpen,
        };
    }
    Some(state)
}

/// Whether dotenvy would substitute a `$` in this logical line's value: a `$` outside single
/// quotes and not escaped, before any unquoted whitespace (after which only a comment may come).
fn uses_substitution(chunk: &str) -> bool {
    let Some((_, value)) = chunk.split_once('=') else {
        return false;
    };
    let (mut strong, mut weak, mut escaped) = (false, false, false);
    for c in value.trim_start().chars() {
        if escaped {
            escaped = false;
        } else if strong {
            strong = c != '\'';
        } else if c == '$' {
            return true;
        } else if c == '\\' {
            escaped = true;
        } else if weak {
            weak = c != '"';
        } else if c == '\'' {
            strong = true;
        } else if c == '"' {
            weak = true;
        } else if c.is_whitespace() {
            return false;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::tests_support::{NASTY, value_strategy};
    use proptest::prelude::*;

    fn parsed(text: &str) -> Vec<(String, String, usize)> {
        parse(text)
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.value.expose().to_owned(), e.line.unwrap()))
            .collect()
    }

    fn dotenvy_reads(text: &str) -> Vec<(String, String)> {
        dotenvy::from_read_iter(text.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn quoting() {
        let out = render([("A", "plain $x #y"), ("B", "it's"), ("C", "a\\b\n\"c\"$")]);
        assert_eq!(
            out.as_str(),
            "A='plain $x #y'\nB=\"it's\"\nC=\"a\\\\b\\n\\\"c\\\"\\$\"\n"
        );
    }

    #[test]
    fn nasty_values_round_trip() {
        let names: Vec<String> = (0..NASTY.len()).map(|i| format!("N_{i}")).collect();
        let items: Vec<(&str, &str)> = names
            .iter()
            .map(String::as_str)
            .zip(NASTY.iter().copied())
            .collect();
        let text = render(items.iter().copied());
        let back = dotenvy_reads(&text);
        let want: Vec<(String, String)> = items
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(back, want);
        let ours: Vec<(String, String)> =
            parsed(&text).into_iter().map(|(n, v, _)| (n, v)).collect();
        assert_eq!(ours, want);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// dotenvy reads back exactly what was written, and so does `parse`.
        #[test]
        fn round_trips_through_dotenvy(values in prop::collection::vec(value_strategy(), 1..6)) {
            let names: Vec<String> = (0..values.len()).map(|i| format!("K_{i}")).collect();
            let text = render(names.iter().map(String::as_str).zip(values.iter().map(String::as_str)));
            let back = dotenvy_reads(&text);
            prop_assert_eq!(back.len(), values.len());
            for ((name, value), (got_name, got)) in names.iter().zip(&values).zip(&back) {
                prop_assert_eq!(name, got_name);
                prop_assert_eq!(value, got);
            }
            let ours = parsed(&text);
            for (value, (_, got, _)) in values.iter().zip(&ours) {
                prop_assert_eq!(value, got);
            }
        }
    }

    #[test]
    fn line_numbers_follow_physical_lines() {
        let text = "# comment\n\nA=1\nB=\"two\nlines\"\n  export C='x' # note\nD=4";
        assert_eq!(
            parsed(text),
            vec![
                ("A".into(), "1".into(), 3),
                ("B".into(), "two\nlines".into(), 4),
                ("C".into(), "x".into(), 6),
                ("D".into(), "4".into(), 7),
            ]
        );
    }

    #[test]
    fn problems_have_line_numbers_and_no_values() {
        let text = "A=1\nbad line here\nB=ok\nC=pa$word\nD='secret-value\n";
        let problems = parse(text).unwrap_err();
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 3, "{shown:?}");
        assert!(shown[0].starts_with("line 2: not a NAME=value line"));
        assert!(shown[1].starts_with("line 4: '$' substitution"));
        assert!(shown[2].starts_with("line 5: a quoted value is not closed"));
        assert!(
            shown
                .iter()
                .all(|s| !s.contains("secret-value") && !s.contains("word"))
        );
    }

    #[test]
    fn substitution_detection() {
        for (line, uses) in [
            ("A='$x'", false),
            ("A=\"\\$x\"", false),
            ("A=\\$x", false),
            ("A=\"$x\"", true),
            ("A=$x", true),
            ("A=x$", true),
            ("A=x # $comment", false),
            ("A='a'$b", true),
            ("A=  $x", true),
        ] {
            assert_eq!(uses_substitution(line), uses, "{line}");
        }
    }

    #[test]
    fn names() {
        assert!(is_name("A.B_c1"));
        assert!(!is_name("A-B"));
        assert!(!is_name("1A"));
    }
}
