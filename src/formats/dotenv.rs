//! `NAME='value'` files for Node's `dotenv` and what is built on it: Next.js's `@next/env`
//! (dotenv 16.3 + dotenv-expand 10) and Vite 8's `loadEnv` (Node's `util.parseEnv` +
//! dotenv-expand 12's expansion). Read from their sources (dotenv 18.0, @next/env 16.4,
//! vite 8.4 on Node 20.20); tests/export_readers.rs checks them against the real packages.
//!
//! How they read a value:
//! * dotenv (every version since 15): a value in `'`, `"` or `` ` `` quotes runs to a closing
//!   quote followed by only spaces and a `# comment` before the line ends; nothing inside is an
//!   escape except `\n` and `\r` inside double quotes. A `\` before a quote lets the value run
//!   on to a later quote of the same kind, so a quoted value may not end in `\` unless the rest
//!   of the file holds no such quote. Carriage returns in the file become line ends.
//!   Unquoted values end at `#` and are trimmed.
//! * `util.parseEnv` (Vite): a quoted value runs to the first closing quote; `\n` (not `\r`)
//!   is an escape inside double quotes; every carriage return in the file is dropped.
//! * dotenv-expand, after parsing: Vite expands every `$NAME` and `${…}`; Next.js expands the
//!   last `$` when a name (or `{` and a name) follows it; both turn `\$` into `$`. dotenv does
//!   neither, so a value holding these reads differently and cannot be written for all three.
//!
//! So each value is written in the first quote that does not occur in it (`'`, then `` ` ``,
//! then `"` when it holds no `\n` or `\r` text), else bare when all three read it as it is;
//! the rest is refused by name before anything is written.
//!
//! Reading (import) follows dotenv's own rules, so a hand-written file gives what Node's
//! dotenv gives; the few constructs where its regular expression behaves surprisingly are
//! refused with their line number.

use super::{Entry, Problem, Refused};
use crate::secret::SecretValue;
use zeroize::Zeroizing;

const QUOTES: [char; 3] = ['\'', '`', '"'];

/// A name dotenv and `util.parseEnv` read back: `[A-Za-z_][A-Za-z0-9_.]*`.
pub fn is_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// JavaScript's `\s` (and `String.prototype.trim`'s) whitespace.
fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// JavaScript's line terminators (after dotenv has turned `\r` into `\n`).
fn is_js_line_end(c: char) -> bool {
    matches!(c, '\n' | '\u{2028}' | '\u{2029}')
}

/// Renders `items` (already in name order; names satisfy [`is_name`]), or names every value
/// one of the three readers would read differently.
pub fn render<'a>(
    items: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Zeroizing<String>, Vec<Refused>> {
    let items: Vec<(&str, &str)> = items.into_iter().collect();
    // Whether a value may end in `\` inside a quote depends on the quotes written after it,
    // so the lines are made last to first.
    let mut lines: Vec<Zeroizing<String>> = Vec::with_capacity(items.len());
    let mut refused = Vec::new();
    for (name, value) in items.iter().rev() {
        match written_value(value, &lines) {
            Ok(text) => {
                let mut line = Zeroizing::new(String::with_capacity(name.len() + text.len() + 2));
                line.push_str(name);
                line.push('=');
                line.push_str(&text);
                line.push('\n');
                lines.push(line);
            }
            Err(reason) => refused.push(Refused {
                name: (*name).to_owned(),
                reason,
            }),
        }
    }
    if !refused.is_empty() {
        refused.reverse();
        return Err(refused);
    }
    // Reserved up front so the buffer never reallocates (no stray copies of values).
    let mut out = Zeroizing::new(String::with_capacity(lines.iter().map(|l| l.len()).sum()));
    for line in lines.iter().rev() {
        out.push_str(line);
    }
    Ok(out)
}

/// The value as written after `NAME=`, given the lines written after its own (last first).
fn written_value(
    value: &str,
    later_lines: &[Zeroizing<String>],
) -> Result<Zeroizing<String>, &'static str> {
    if value.contains('\r') {
        return Err("it holds a carriage return, which Vite's reader (Node's util.parseEnv) drops");
    }
    if let Some(reason) = expanded_by_next_or_vite(value) {
        return Err(reason);
    }
    for quote in QUOTES {
        let decoded = quote == '"' && (value.contains("\\n") || value.contains("\\r"));
        if value.contains(quote) || decoded {
            continue;
        }
        let mut out = Zeroizing::new(String::with_capacity(value.len() + 2));
        out.push(quote);
        out.push_str(value);
        out.push(quote);
        if !value.ends_with('\\') || closes_where_written(&out, later_lines) {
            return Ok(out);
        }
    }
    if bare_is_read_as_is(value, later_lines) {
        return Ok(Zeroizing::new(value.to_owned()));
    }
    Err(
        "it holds all three quote characters (' \" `) and cannot go bare (it holds a '#', a line break or outer spaces, or starts with a quote found again later)",
    )
}

/// Whether all three readers read `value` written without quotes as it is: dotenv and
/// `util.parseEnv` end it at `#` and the line end and trim it; one starting with a quote
/// they take as quoted if that quote comes again (in the value or on a later line).
fn bare_is_read_as_is(value: &str, later_lines: &[Zeroizing<String>]) -> bool {
    if value.contains(['#', '\n'])
        || value.starts_with(is_js_space)
        || value.ends_with(is_js_space)
        || strips_a_quoted_line(value)
    {
        return false;
    }
    match value.chars().next() {
        Some(quote) if QUOTES.contains(&quote) => {
            let decoded = quote == '"' && (value.contains("\\n") || value.contains("\\r"));
            !value[1..].contains(quote)
                && !decoded
                && !later_lines.iter().any(|line| line.contains(quote))
        }
        _ => true,
    }
}

/// Whether dotenv ends the quoted value `quoted` (which ends in `\'` or the like) at its own
/// closing quote rather than running on through `\'` into the lines after it.
fn closes_where_written(quoted: &str, later_lines: &[Zeroizing<String>]) -> bool {
    let capacity = quoted.len() + 1 + later_lines.iter().map(|l| l.len()).sum::<usize>();
    let mut text = Zeroizing::new(String::with_capacity(capacity));
    text.push_str(quoted);
    text.push('\n');
    for line in later_lines.iter().rev() {
        text.push_str(line);
    }
    let quote = quoted.chars().next().unwrap_or('\'');
    closing_quote(&text, 0, quote) == Some(quoted.len() - 1)
}

/// Why dotenv-expand (Next.js's version 10, Vite's inlined version 12) would change `value`,
/// which dotenv itself reads literally.
fn expanded_by_next_or_vite(value: &str) -> Option<&'static str> {
    if value.contains("\\$") {
        return Some("it holds '\\$', which Next.js and Vite read as '$' and dotenv does not");
    }
    let bytes = value.as_bytes();
    let is_name_start = |b: u8| b.is_ascii_alphabetic() || b == b'_';
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    for (at, _) in value.match_indices('$') {
        let rest = &bytes[at + 1..];
        if rest.first().copied().is_some_and(is_name_start) {
            return Some("it holds '$NAME', which Next.js and Vite expand and dotenv does not");
        }
        // Vite: `\$\{([^{}]+)\}`.
        if let Some(inner) = rest.strip_prefix(b"{") {
            let end = inner.iter().position(|b| *b == b'{' || *b == b'}');
            if end.is_some_and(|end| end > 0 && inner[end] == b'}') {
                return Some("it holds '${…}', which Vite expands and dotenv does not");
            }
        }
    }
    // Next.js (dotenv-expand 10) looks only at the last '$': `\${?\w+`.
    let last = value.rfind('$')?;
    let rest = &bytes[last + 1..];
    let rest = rest.strip_prefix(b"{").unwrap_or(rest);
    rest.first()
        .copied()
        .is_some_and(is_word)
        .then_some("its last '$' is followed by a name, which Next.js expands and dotenv does not")
}

/// Parses a dotenv file as Node's dotenv (`parse`, all versions 15 to 18) does. Returns every
/// entry, or every problem (nothing partial).
pub fn parse(text: &str) -> Result<Vec<Entry>, Vec<Problem>> {
    // dotenv turns every "\r\n" and lone "\r" into "\n" before parsing.
    let text = Zeroizing::new(text.replace("\r\n", "\n").replace('\r', "\n"));
    let text = text.as_str();
    let line_of = |at: usize| text[..at].matches('\n').count() + 1;
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut at = skip(text, 0, is_js_space);
    while at < text.len() {
        let line = line_of(at);
        let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        if text[at..].starts_with('#') {
            // dotenv's `#.*` stops at U+2028/U+2029 and starts a new line after them.
            if text[at..line_end].contains(['\u{2028}', '\u{2029}']) {
                problems.push(Problem::at(Some(line), LINE_SEPARATOR));
            }
            at = skip(text, line_end, is_js_space);
            continue;
        }
        match parse_entry(text, at, line_end) {
            Ok((name, value, next)) => {
                entries.push(Entry {
                    name,
                    value: SecretValue::new(value),
                    line: Some(line),
                });
                at = next;
            }
            Err(message) => {
                problems.push(Problem::at(Some(line), message));
                at = line_end;
            }
        }
        at = skip(text, at, is_js_space);
    }
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(problems)
    }
}

fn skip(text: &str, from: usize, what: impl Fn(char) -> bool) -> usize {
    text[from..]
        .find(|c: char| !what(c))
        .map_or(text.len(), |i| from + i)
}

const LINE_SEPARATOR: &str =
    "a Unicode line separator (U+2028/U+2029) here makes dotenv split the line; quote the value";

/// One entry starting at `at` (a line's first non-space character): its name, its value, and
/// where the next entry may start.
fn parse_entry(
    text: &str,
    at: usize,
    line_end: usize,
) -> Result<(String, String, usize), &'static str> {
    let is_blank = |c: char| is_js_space(c) && !is_js_line_end(c);
    let mut pos = at;
    if let Some(rest) = text[at..].strip_prefix("export") {
        let after = skip(text, at + 6, is_blank);
        if rest.starts_with(is_blank) && text[after..].starts_with(is_dotenv_name_char) {
            pos = after;
        }
    }
    let name_end = skip(text, pos, is_dotenv_name_char);
    let name = &text[pos..name_end];
    let eq = skip(text, name_end, is_blank);
    if name.is_empty() || !text[eq..].starts_with('=') {
        return Err("not a NAME=value line (a value with '#' needs quotes)");
    }
    let after_eq = eq + 1;
    // dotenv's quoted forms may start after spaces and even after line breaks.
    let quote_at = skip(text, after_eq, is_js_space);
    let quoted = text[quote_at..]
        .chars()
        .next()
        .filter(|c| QUOTES.contains(c))
        .and_then(|quote| closing_quote(text, quote_at, quote));
    let (raw, next) = match quoted {
        Some(close) => {
            let next = text[close + 1..]
                .find('\n')
                .map_or(text.len(), |i| close + 1 + i);
            let comment = &text[close + 1..next];
            if comment.contains(['\u{2028}', '\u{2029}']) {
                return Err(LINE_SEPARATOR);
            }
            (&text[quote_at..=close], next)
        }
        None => {
            let end = text[after_eq..line_end]
                .find('#')
                .map_or(line_end, |i| after_eq + i);
            if text[end..line_end].contains(['\u{2028}', '\u{2029}']) {
                return Err(LINE_SEPARATOR);
            }
            let raw = text[after_eq..end].trim_matches(is_js_space);
            if raw.contains(['\u{2028}', '\u{2029}']) && strips_a_quoted_line(raw) {
                return Err(LINE_SEPARATOR);
            }
            (raw, line_end)
        }
    };
    Ok((name.to_owned(), unquote(raw), next))
}

/// Whether dotenv's quote stripping, `/^(['"`])([\s\S]*)\1$/mg` (multi-line: `^` and `$`
/// also match at U+2028/U+2029), matches anywhere in the bare value `value`: from a quote at
/// a line start to the same quote at a line end.
fn strips_a_quoted_line(value: &str) -> bool {
    let separators = value
        .match_indices(['\u{2028}', '\u{2029}'])
        .map(|(at, c)| at + c.len());
    std::iter::once(0).chain(separators).any(|start| {
        let Some(quote) = value[start..].chars().next().filter(|c| QUOTES.contains(c)) else {
            return false;
        };
        value[start + 1..].match_indices(quote).any(|(at, _)| {
            let after = &value[start + 1 + at + 1..];
            after.is_empty() || after.starts_with(['\u{2028}', '\u{2029}'])
        })
    })
}

/// dotenv's name characters: `[\w.-]`.
fn is_dotenv_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Where dotenv's `'(?:\\'|[^'])*'` (for each quote) ends a value opened at `open`: the
/// furthest closing quote it can reach (past `\'` pairs) that only spaces and a comment follow.
fn closing_quote(text: &str, open: usize, quote: char) -> Option<usize> {
    let mut found = None;
    let mut from = open + 1;
    while let Some(i) = text[from..].find(quote) {
        let close = from + i;
        let after = skip(text, close + 1, |c| is_js_space(c) && !is_js_line_end(c));
        if text[after..]
            .chars()
            .next()
            .is_none_or(|c| is_js_line_end(c) || c == '#')
        {
            found = Some(close);
        }
        if !text[..close].ends_with('\\') {
            break;
        }
        from = close + 1;
    }
    found
}

/// dotenv's last steps: strip one pair of matching outer quotes; in double quotes, `\n` and
/// `\r` become a line feed and a carriage return.
fn unquote(raw: &str) -> String {
    let first = raw.chars().next();
    let inner = match first {
        Some(q) if QUOTES.contains(&q) && raw.len() >= 2 && raw.ends_with(q) => {
            &raw[1..raw.len() - 1]
        }
        _ => raw,
    };
    if first == Some('"') {
        inner.replace("\\n", "\n").replace("\\r", "\r")
    } else {
        inner.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::tests_support::entries;

    fn parsed(text: &str) -> Vec<(String, String, usize)> {
        entries(parse(text))
    }

    fn refused(value: &str) -> bool {
        render([("A", value)]).is_err()
    }

    #[test]
    fn quoting() {
        let out = render([
            ("A", "plain $ #y"),
            ("B", "it's"),
            ("C", "a'`\"x"),
            ("D", "a\\n'`"),
            ("E", "x\\ny\n"),
        ])
        .unwrap();
        assert_eq!(
            out.as_str(),
            "A='plain $ #y'\nB=`it's`\nC=a'`\"x\nD=a\\n'`\nE='x\\ny\n'\n"
        );
    }

    #[test]
    fn refusals_name_the_reason() {
        for value in [
            "$HOME",
            "${HOME}",
            "a\\$b",
            "x${a b}y",
            "cost $5",
            "a\rb",
            "'`\" #",
            // All three quotes and a reason to quote, or a quoted piece dotenv strips.
            "'`\"'",
            "x\"`\u{2028}'y'",
        ] {
            assert!(refused(value), "{value:?}");
        }
        for value in [
            "$",
            "$(id)",
            "a$ b",
            "$5 and $",
            "${}",
            "{$}",
            "trailing\\",
            "100%",
            "'`\"x",
            "x\"`\u{2028}'y",
        ] {
            assert!(!refused(value), "{value:?}");
        }
    }

    #[test]
    fn a_value_ending_in_a_backslash_avoids_later_quotes() {
        // In single quotes, dotenv would run on from A's `\'` to B's `' #`.
        let out = render([("A", "# x\\"), ("B", "x' #")]).unwrap();
        assert_eq!(out.as_str(), "A=`# x\\`\nB=`x' #`\n");
        assert_eq!(
            parsed(&out),
            vec![
                ("A".into(), "# x\\".into(), 1),
                ("B".into(), "x' #".into(), 2)
            ]
        );
    }

    #[test]
    fn hand_written_files_read_as_dotenv_does() {
        let text = "# comment\n\nA=1\nB=\"two\nlines\"\n  export C='x' # note\nD = spaced out  \n\
                    E=\"a\\nb\\rc\"\nF='a\\nb'\nG=x#y\nH='unclosed\nI=`tick`\r\nJ='it\\'s'\n";
        assert_eq!(
            parsed(text),
            vec![
                ("A".into(), "1".into(), 3),
                ("B".into(), "two\nlines".into(), 4),
                ("C".into(), "x".into(), 6),
                ("D".into(), "spaced out".into(), 7),
                ("E".into(), "a\nb\rc".into(), 8),
                ("F".into(), "a\\nb".into(), 9),
                ("G".into(), "x".into(), 10),
                ("H".into(), "'unclosed".into(), 11),
                ("I".into(), "tick".into(), 12),
                ("J".into(), "it\\'s".into(), 13),
            ]
        );
    }

    #[test]
    fn problems_have_line_numbers_and_no_values() {
        let text = "A=1\nbad line here\nB=ok\n# c\u{2028}D=secret-value\n";
        let problems = parse(text).unwrap_err();
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 2, "{shown:?}");
        assert!(shown[0].starts_with("line 2: not a NAME=value line"));
        assert!(shown[1].starts_with("line 4: a Unicode line separator"));
        assert!(shown.iter().all(|s| !s.contains("secret-value")));
    }

    #[test]
    fn names() {
        assert!(is_name("A.B_c1"));
        assert!(!is_name("A-B"));
        assert!(!is_name("1A"));
    }
}
