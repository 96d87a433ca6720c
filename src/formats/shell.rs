//! `export NAME='value'` lines for `source` in bash, zsh, dash or any POSIX shell.
//!
//! Single quotes keep everything literal (`$`, backslashes, `!`, newlines, Unicode); a `'`
//! itself is written `'\''` (close, escaped quote, reopen).

use zeroize::Zeroizing;

/// Renders `items` (already in name order). Names must satisfy [`super::is_shell_name`].
pub fn render<'a>(items: impl IntoIterator<Item = (&'a str, &'a str)>) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::new());
    for (name, value) in items {
        let quotes = value.matches('\'').count();
        // Reserve exactly, so the buffer never reallocates and leaves a copy behind.
        out.reserve(name.len() + value.len() + 3 * quotes + 11);
        out.push_str("export ");
        out.push_str(name);
        out.push_str("='");
        for (i, part) in value.split('\'').enumerate() {
            if i > 0 {
                out.push_str("'\\''");
            }
            out.push_str(part);
        }
        out.push_str("'\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let out = render([("A", "it's $HOME\n!x"), ("B", "plain")]);
        assert_eq!(
            out.as_str(),
            "export A='it'\\''s $HOME\n!x'\nexport B='plain'\n"
        );
    }

    /// A batch of awkward values through one real bash: `set -a; source FILE` and read back.
    #[test]
    fn bash_reads_every_value_back() {
        use proptest::strategy::{Strategy, ValueTree};
        use proptest::test_runner::TestRunner;

        if std::process::Command::new("bash")
            .arg("-c")
            .arg("true")
            .status()
            .is_err()
        {
            panic!("bash is needed for this test");
        }
        let strategy = crate::formats::tests_support::value_strategy();
        let mut runner = TestRunner::deterministic();
        let values: Vec<String> = (0..200)
            .map(|_| strategy.new_tree(&mut runner).unwrap().current())
            .chain(
                crate::formats::tests_support::NASTY
                    .iter()
                    .map(|s| s.to_string()),
            )
            .collect();
        let names: Vec<String> = (0..values.len()).map(|i| format!("V_{i}")).collect();
        let file = tempfile::NamedTempFile::new().unwrap();
        let rendered = render(
            names
                .iter()
                .map(String::as_str)
                .zip(values.iter().map(String::as_str)),
        );
        std::fs::write(file.path(), rendered.as_bytes()).unwrap();
        // Print each value followed by a NUL, which no value contains.
        let script = format!(
            "set -a; source \"$1\"; for n in {}; do printf '%s\\0' \"${{!n}}\"; done",
            names.join(" ")
        );
        let out = std::process::Command::new("bash")
            .args(["-c", &script, "bash"])
            .arg(file.path())
            .env_clear()
            .env("LC_ALL", "C")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let back: Vec<&[u8]> = out.stdout.split(|b| *b == 0).collect();
        assert_eq!(back.len(), values.len() + 1);
        for (value, got) in values.iter().zip(back) {
            assert_same(value, got);
        }
    }

    fn assert_same(value: &str, got: &[u8]) {
        assert!(
            value.as_bytes() == got,
            "bash read back a different value: {value:?} != {:?}",
            String::from_utf8_lossy(got)
        );
    }
}
