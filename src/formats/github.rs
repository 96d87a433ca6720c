//! GitHub Actions: the `$GITHUB_ENV` file's multi-line form and `::add-mask::` commands.
//!
//! The runner reads `$GITHUB_ENV` line by line (split at `\n` only): `NAME<<DELIMITER`, then
//! the value's lines up to a line equal to DELIMITER; the newline before DELIMITER is not part
//! of the value. Any other line that is not `NAME=value` fails the step with an error that
//! repeats the line, so the `::add-mask::` commands must not go into that file: they are
//! returned separately, for stderr, which the runner also scans for workflow commands.
//!
//! The runner masks secrets in its log line by line, so a multi-line value is masked one
//! line at a time. Command data is unescaped by the runner (`%25` `%0D` `%0A`), so `%` is
//! escaped here.

use rand::Rng;
use zeroize::Zeroizing;

/// What to print: `env` for `$GITHUB_ENV` (stdout), `masks` for the runner (stderr).
pub struct Rendered {
    pub env: Zeroizing<String>,
    pub masks: Zeroizing<String>,
}

/// Renders `items` (already in name order).
pub fn render<'a>(items: impl IntoIterator<Item = (&'a str, &'a str)>) -> Rendered {
    render_with(items, || {
        format!("ghadelimiter_{:032x}", rand::thread_rng().r#gen::<u128>())
    })
}

fn render_with<'a>(
    items: impl IntoIterator<Item = (&'a str, &'a str)>,
    mut delimiter: impl FnMut() -> String,
) -> Rendered {
    let items: Vec<(&str, &str)> = items.into_iter().collect();
    let capacity: usize = items.iter().map(|(n, v)| n.len() + v.len() + 100).sum();
    let mut env = Zeroizing::new(String::with_capacity(capacity));
    let mask_capacity: usize = items.iter().map(|(_, v)| 3 * v.len() + 14).sum();
    let mut masks = Zeroizing::new(String::with_capacity(mask_capacity));
    for (name, value) in items {
        for line in value.split(['\n', '\r']) {
            if line.trim().is_empty() {
                continue;
            }
            masks.push_str("::add-mask::");
            for c in line.chars() {
                match c {
                    '%' => masks.push_str("%25"),
                    c => masks.push(c),
                }
            }
            masks.push('\n');
        }
        let mut delim = delimiter();
        while value.contains(delim.as_str()) {
            delim = delimiter();
        }
        env.push_str(name);
        env.push_str("<<");
        env.push_str(&delim);
        env.push('\n');
        env.push_str(value);
        env.push('\n');
        env.push_str(&delim);
        env.push('\n');
    }
    Rendered { env, masks }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::tests_support::{NASTY, value_strategy};
    use proptest::prelude::*;

    /// The runner's `SetEnvFileCommand` on Linux, step by step.
    fn runner_reads(text: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut index = 0;
        let read_line = |index: &mut usize| -> Option<(String, usize)> {
            if *index >= text.len() {
                return None;
            }
            let start = *index;
            match text[start..].find('\n') {
                Some(lf) => {
                    *index = start + lf + 1;
                    Some((text[start..start + lf].to_owned(), 1))
                }
                None => {
                    *index = text.len();
                    Some((text[start..].to_owned(), 0))
                }
            }
        };
        while let Some((line, _)) = read_line(&mut index) {
            if line.is_empty() {
                continue;
            }
            let (name, delimiter) = line.split_once("<<").expect("heredoc line");
            assert!(!line[..line.find("<<").unwrap()].contains('='));
            let start = index;
            let mut end = index;
            loop {
                let (next, newline) = read_line(&mut index).expect("delimiter found");
                if next == delimiter {
                    break;
                }
                end = index - newline;
            }
            let value = if end > start { &text[start..end] } else { "" };
            out.push((name.to_owned(), value.to_owned()));
        }
        out
    }

    #[test]
    fn shape() {
        let mut n = 0;
        let out = render_with([("A", "x%y\nz"), ("B", "ghadelimiter_1")], || {
            n += 1;
            format!("ghadelimiter_{}", n - 1)
        });
        assert_eq!(
            out.env.as_str(),
            "A<<ghadelimiter_0\nx%y\nz\nghadelimiter_0\nB<<ghadelimiter_2\nghadelimiter_1\nghadelimiter_2\n"
        );
        assert_eq!(
            out.masks.as_str(),
            "::add-mask::x%25y\n::add-mask::z\n::add-mask::ghadelimiter_1\n"
        );
    }

    #[test]
    fn nasty_values_round_trip() {
        for value in NASTY {
            let out = render([("K", *value)]);
            assert_eq!(
                runner_reads(&out.env),
                vec![("K".into(), value.to_string())]
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn round_trips_through_the_runner(values in prop::collection::vec(value_strategy(), 1..5)) {
            let names: Vec<String> = (0..values.len()).map(|i| format!("K_{i}")).collect();
            let out = render(names.iter().map(String::as_str).zip(values.iter().map(String::as_str)));
            let back = runner_reads(&out.env);
            prop_assert_eq!(back.len(), values.len());
            for (value, (_, got)) in values.iter().zip(&back) {
                prop_assert_eq!(value, got);
            }
            // Every non-blank line of every value is masked, and masks are single lines.
            for mask in out.masks.lines() {
                prop_assert!(mask.starts_with("::add-mask::"));
            }
        }
    }
}
