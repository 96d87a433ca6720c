//! Secrets as text other tools read and write: dotenv (Node's, and python-dotenv's), shell,
//! JSON and GitHub Actions' `$GITHUB_ENV`. Pure: rendering takes names and values and returns
//! text; parsing takes text and returns entries or every problem found, with line numbers
//! where the format has lines.
//!
//! The shell, JSON and GitHub renderers round-trip any value SSM accepts (non-empty, no NUL)
//! through the format's real consumer. The dotenv renderers round-trip every value their
//! readers can carry and refuse the others by name ([`Refused`]); tests/export_readers.rs
//! runs the real readers.

pub mod dotenv;
pub mod github;
pub mod json;
pub mod python_dotenv;
pub mod shell;

use crate::amplify;
use crate::secret::SecretValue;
use std::collections::BTreeMap;
use std::fmt;

/// One name and its value, read from a file.
#[derive(Debug)]
pub struct Entry {
    pub name: String,
    pub value: SecretValue,
    /// The 1-based line the entry starts on, where the format has lines that matter.
    pub line: Option<usize>,
}

/// Something wrong with the input; never holds a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: Option<usize>,
    pub message: String,
}

impl Problem {
    pub fn at(line: Option<usize>, message: impl Into<String>) -> Problem {
        Problem {
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// A secret a format's readers would not read back exactly, and why; never holds a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub name: String,
    pub reason: &'static str,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.reason)
    }
}

/// Checks parsed entries against Amplify's name rule and SSM's value rules, and refuses a
/// name given twice. Returns every problem, in input order.
pub fn check_entries(entries: &[Entry]) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut first_seen: BTreeMap<&str, Option<usize>> = BTreeMap::new();
    for entry in entries {
        if let Err(e) = amplify::validate_secret_name(&entry.name) {
            problems.push(Problem::at(
                entry.line,
                format!("secret name '{}': {e}", entry.name),
            ));
            continue;
        }
        if let Some(first) = first_seen.insert(&entry.name, entry.line) {
            let where_ = first.map_or(String::new(), |l| format!(" (first on line {l})"));
            problems.push(Problem::at(
                entry.line,
                format!("{} is given twice{where_}", entry.name),
            ));
            continue;
        }
        if let Err(e) = entry.value.validate() {
            problems.push(Problem::at(
                entry.line,
                format!("value for {}: {e}", entry.name),
            ));
        }
    }
    problems
}

/// A POSIX shell variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_shell_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Values for the round-trip tests: every character a quoting bug trips on, and any other.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::{Entry, Problem, Refused};
    use proptest::prelude::*;
    use zeroize::Zeroizing;

    type Rendered = Result<Zeroizing<String>, Vec<Refused>>;

    /// A parse that must succeed, as (name, value, line) triples.
    pub fn entries(parsed: Result<Vec<Entry>, Vec<Problem>>) -> Vec<(String, String, usize)> {
        parsed
            .expect("the text parses")
            .into_iter()
            .map(|e| (e.name, e.value.expose().to_owned(), e.line.unwrap_or(0)))
            .collect()
    }

    /// Renders the `values` a format accepts (named `K_0`, `K_1`, …; a value refused for the
    /// lines after it is left out too) and asserts that `parse` reads them all back exactly,
    /// in order.
    pub fn assert_round_trip(
        render: impl Fn(&[(&str, &str)]) -> Rendered,
        parse: impl Fn(&str) -> Result<Vec<Entry>, Vec<Problem>>,
        values: &[&str],
    ) {
        let names: Vec<String> = (0..values.len()).map(|i| format!("K_{i}")).collect();
        let mut kept: Vec<(&str, &str)> = names
            .iter()
            .map(String::as_str)
            .zip(values.iter().copied())
            .collect();
        let text = loop {
            match render(&kept) {
                Ok(text) => break text,
                Err(refused) => kept.retain(|(name, _)| refused.iter().all(|r| r.name != *name)),
            }
        };
        let back: Vec<(String, String)> = parse(&text)
            .expect("what is written parses")
            .into_iter()
            .map(|e| (e.name, e.value.expose().to_owned()))
            .collect();
        let want: Vec<(String, String)> = kept
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(back, want, "written as {:?}", text.as_str());
    }

    /// Hand-picked values that broke comparable tools.
    pub const NASTY: &[&str] = &[
        "'",
        "\"",
        "\\",
        "$",
        "$HOME",
        "${HOME}",
        "$(id)",
        "`id`",
        "!",
        "!!",
        "a\\nb",
        "line1\nline2\n",
        "\n",
        "\r\n",
        "trailing\\",
        "'\"'\"",
        "#not a comment",
        " padded ",
        "\t",
        "x=y",
        "%0A%25",
        "ghadelimiter_0",
        "\\'",
        "\u{2028}\u{feff}ünïcødé ✓ 🦀",
        "EOF",
    ];

    /// Non-empty strings without NUL, weighted towards the characters that need quoting.
    pub fn value_strategy() -> impl Strategy<Value = String> {
        let nasty = prop::sample::select(vec![
            '\'', '"', '$', '\\', '!', '`', '\n', '\r', '\t', ' ', '#', '=', '{', '}', '%', ';',
            '&', '|', '<', '>', '(', ')', '*', '?', '~', '^', '\u{2028}', '\u{a0}',
        ]);
        let any_char = any::<char>().prop_filter("SSM values hold no NUL", |c| *c != '\0');
        let ch = prop_oneof![4 => nasty, 3 => any_char, 3 => prop::char::range('a', 'z')];
        prop::collection::vec(ch, 1..40).prop_map(|chars| chars.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::{NASTY, assert_round_trip, value_strategy};
    use super::*;
    use proptest::prelude::*;

    /// The dotenv formats read back what they write (by the readers' rules, which `parse`
    /// follows; tests/it/export_readers.rs runs the readers themselves).
    fn dotenv_round_trips(values: &[&str]) {
        assert_round_trip(|i| dotenv::render(i.iter().copied()), dotenv::parse, values);
        let render_python = |i: &[(&str, &str)]| python_dotenv::render(i.iter().copied());
        assert_round_trip(render_python, python_dotenv::parse, values);
    }

    #[test]
    fn nasty_values_round_trip() {
        dotenv_round_trips(NASTY);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn dotenv_formats_round_trip(values in prop::collection::vec(value_strategy(), 1..6)) {
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            dotenv_round_trips(&values);
        }
    }

    fn entry(name: &str, value: &str, line: usize) -> Entry {
        Entry {
            name: name.into(),
            value: SecretValue::new(value.into()),
            line: Some(line),
        }
    }

    #[test]
    fn entries_are_checked() {
        let problems = check_entries(&[
            entry("OK", "v", 1),
            entry("BAD NAME", "v", 2),
            entry("EMPTY", "", 3),
            entry("OK", "w", 4),
            entry("REF", "{{ssm:x}}", 5),
        ]);
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 4, "{shown:?}");
        assert!(shown[0].starts_with("line 2: secret name 'BAD NAME'"));
        assert!(shown[1].starts_with("line 3: value for EMPTY: the value is empty"));
        assert_eq!(shown[2], "line 4: OK is given twice (first on line 1)");
        assert!(shown[3].starts_with("line 5: value for REF"));
    }

    #[test]
    fn shell_names() {
        for good in ["A", "_a1", "API_KEY"] {
            assert!(is_shell_name(good), "{good}");
        }
        for bad in ["", "1A", "A-B", "A.B"] {
            assert!(!is_shell_name(bad), "{bad}");
        }
    }
}
