//! `NAME='value'` files for python-dotenv (`dotenv_values` / `load_dotenv` with their default
//! `interpolate=True`), read from its source (1.2): tests/export_readers.rs checks the real
//! package.
//!
//! How python-dotenv reads a value:
//! * the file is opened in text mode, so every carriage return becomes a line end;
//! * in single quotes, `\\` and `\'` are escapes; in double quotes, `\\ \' \" \a \b \f \n \r
//!   \t \v`; any other backslash is literal; quoted values may span lines;
//! * then `${NAME}` and `${NAME:-default}` are substituted in every value, whatever its
//!   quotes, and there is no escape for `$`.
//!
//! So a value is written in single quotes when it holds no `'`, `\` or carriage return, else
//! in double quotes with `\\ \" \r \n` escaped; a value holding a `${…}` is refused.

use super::{Entry, Problem, Refused};
use crate::secret::SecretValue;
use zeroize::Zeroizing;

/// Renders `items` (already in name order; names satisfy [`super::dotenv::is_name`]), or
/// names every value python-dotenv would substitute into.
pub fn render<'a>(
    items: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Zeroizing<String>, Vec<Refused>> {
    let items: Vec<(&str, &str)> = items.into_iter().collect();
    let refused: Vec<Refused> = items
        .iter()
        .filter(|(_, value)| substitution_at(value).is_some())
        .map(|(name, _)| Refused {
            name: (*name).to_owned(),
            reason: "it holds '${…}', which python-dotenv substitutes (it has no escape for '$')",
        })
        .collect();
    if !refused.is_empty() {
        return Err(refused);
    }
    // Reserve the worst case up front so the buffer never reallocates (no stray copies).
    let capacity: usize = items.iter().map(|(n, v)| n.len() + 2 * v.len() + 4).sum();
    let mut out = Zeroizing::new(String::with_capacity(capacity));
    for (name, value) in items {
        out.push_str(name);
        out.push('=');
        if value.contains(['\'', '\\', '\r']) {
            out.push('"');
            for c in value.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '"' => out.push_str("\\\""),
                    '\r' => out.push_str("\\r"),
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
    Ok(out)
}

/// Where python-dotenv's `\$\{[^}:]*(?::-[^}]*)?\}` first matches in `value`.
fn substitution_at(value: &str) -> Option<usize> {
    value.match_indices("${").map(|(at, _)| at).find(|at| {
        let inner = &value[at + 2..];
        match inner.find(['}', ':']) {
            Some(end) if inner[end..].starts_with('}') => true,
            Some(end) => inner[end..].starts_with(":-") && inner[end..].contains('}'),
            None => false,
        }
    })
}

/// Python's `\s` for text (`str.isspace`).
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `[^\S\r\n]`: whitespace on the line.
fn is_py_blank(c: char) -> bool {
    is_py_space(c) && c != '\n' && c != '\r'
}

/// Parses a file as python-dotenv's `dotenv_values` does, refusing what it would substitute
/// and lines it skips with a warning. Returns every entry, or every problem.
pub fn parse(text: &str) -> Result<Vec<Entry>, Vec<Problem>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Text mode: universal newlines.
    let text = Zeroizing::new(text.replace("\r\n", "\n").replace('\r', "\n"));
    let mut reader = Reader {
        text: text.as_str(),
        at: 0,
    };
    let (mut entries, mut problems) = (Vec::new(), Vec::new());
    loop {
        reader.skip(is_py_space);
        if reader.at == text.len() {
            break;
        }
        let line = text[..reader.at].matches('\n').count() + 1;
        match reader.binding() {
            Ok(None) => {}
            Ok(Some((name, value))) => {
                if substitution_at(&value).is_some() {
                    problems.push(Problem::at(
                        Some(line),
                        "python-dotenv would substitute '${…}' here; import does not expand it",
                    ));
                } else {
                    entries.push(Entry {
                        name,
                        value: SecretValue::new(value),
                        line: Some(line),
                    });
                }
            }
            Err(message) => {
                problems.push(Problem::at(Some(line), message));
                reader.skip(|c| c != '\n');
            }
        }
    }
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(problems)
    }
}

struct Reader<'t> {
    text: &'t str,
    at: usize,
}

const NOT_A_LINE: &str = "not a NAME=value line (python-dotenv skips it)";

impl<'t> Reader<'t> {
    fn rest(&self) -> &'t str {
        &self.text[self.at..]
    }

    fn skip(&mut self, what: impl Fn(char) -> bool) -> &'t str {
        let start = self.at;
        self.at = self
            .rest()
            .find(|c| !what(c))
            .map_or(self.text.len(), |i| start + i);
        &self.text[start..self.at]
    }

    /// One binding: `None` for a comment line.
    fn binding(&mut self) -> Result<Option<(String, String)>, &'static str> {
        if let Some(rest) = self.rest().strip_prefix("export")
            && rest.starts_with(is_py_blank)
        {
            self.at += 6;
            self.skip(is_py_blank);
        }
        let name = if self.rest().starts_with('#') {
            None
        } else if let Some(rest) = self.rest().strip_prefix('\'') {
            let end = rest.find('\'').filter(|end| *end > 0).ok_or(NOT_A_LINE)?;
            self.at += end + 2;
            Some(rest[..end].to_owned())
        } else {
            let name = self.skip(|c| c != '=' && c != '#' && !is_py_space(c));
            (!name.is_empty())
                .then(|| name.to_owned())
                .ok_or(NOT_A_LINE)
                .map(Some)?
        };
        self.skip(is_py_blank);
        let value = match &name {
            Some(_) if self.rest().starts_with('=') => {
                self.at += 1;
                let spaced = !self.skip(is_py_blank).is_empty();
                if spaced && self.rest().starts_with('#') {
                    Some(String::new())
                } else {
                    Some(self.value()?)
                }
            }
            Some(_) => return Err("a name without '=' (python-dotenv reads it as unset)"),
            None => None,
        };
        // The rest of the line: spaces, then perhaps a comment.
        self.skip(is_py_blank);
        if self.rest().starts_with('#') {
            self.skip(|c| c != '\n');
        }
        if !self.rest().is_empty() && !self.rest().starts_with('\n') {
            return Err("text after the closing quote (python-dotenv skips the line)");
        }
        Ok(name.zip(value))
    }

    fn value(&mut self) -> Result<String, &'static str> {
        let rest = self.rest();
        let Some(quote) = rest.chars().next().filter(|c| *c == '\'' || *c == '"') else {
            let line = self.skip(|c| c != '\n');
            return Ok(unquoted(line));
        };
        let body = &rest[1..];
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            if c == '\\' {
                chars.next();
            } else if c == quote {
                self.at += i + 2;
                return Ok(decode_escapes(&body[..i], quote == '"'));
            }
        }
        Err("a quoted value is not closed before the end of the file")
    }
}

/// `re.sub(r"\s+#.*", "", part).rstrip()`.
fn unquoted(line: &str) -> String {
    let mut cut = line.len();
    let mut run_start = None;
    for (i, c) in line.char_indices() {
        if is_py_space(c) {
            run_start.get_or_insert(i);
        } else if c == '#' && run_start.is_some() {
            cut = run_start.unwrap_or(i);
            break;
        } else {
            run_start = None;
        }
    }
    line[..cut].trim_end_matches(is_py_space).to_owned()
}

/// python-dotenv's escapes, left to right: `\\ \'` in single quotes; also `\" \a \b \f \n \r
/// \t \v` in double quotes. Any other backslash stays.
fn decode_escapes(body: &str, double: bool) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        let decoded = match (c, chars.peek()) {
            ('\\', Some('\\')) => Some('\\'),
            ('\\', Some('\'')) => Some('\''),
            ('\\', Some(&e)) if double => match e {
                '"' => Some('"'),
                'a' => Some('\u{7}'),
                'b' => Some('\u{8}'),
                'f' => Some('\u{c}'),
                'n' => Some('\n'),
                'r' => Some('\r'),
                't' => Some('\t'),
                'v' => Some('\u{b}'),
                _ => None,
            },
            _ => None,
        };
        match decoded {
            Some(d) => {
                chars.next();
                out.push(d);
            }
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::tests_support::entries;

    fn parsed(text: &str) -> Vec<(String, String, usize)> {
        entries(parse(text))
    }

    #[test]
    fn quoting() {
        let out = render([("A", "plain $x #y"), ("B", "it's"), ("C", "a\\b\n\"c\"\r")]).unwrap();
        assert_eq!(
            out.as_str(),
            "A='plain $x #y'\nB=\"it's\"\nC=\"a\\\\b\\n\\\"c\\\"\\r\"\n"
        );
    }

    #[test]
    fn substitutions_are_refused() {
        for value in ["${HOME}", "a${}b", "${A:-x}", "${a b}"] {
            assert!(render([("A", value)]).is_err(), "{value:?}");
        }
        for value in ["$HOME", "${A:x}", "${", "$ {a}", "${a"] {
            assert!(render([("A", value)]).is_ok(), "{value:?}");
        }
    }

    #[test]
    fn hand_written_files() {
        let text =
            "# c\nA=1 # note\nexport B='x\\'y\\n'\nC=\"t\\tq\\\"\\z\"\nD= #empty\nE=a#b\n'F'=2\n";
        assert_eq!(
            parsed(text),
            vec![
                ("A".into(), "1".into(), 2),
                ("B".into(), "x'y\\n".into(), 3),
                ("C".into(), "t\tq\"\\z".into(), 4),
                ("D".into(), String::new(), 5),
                ("E".into(), "a#b".into(), 6),
                ("F".into(), "2".into(), 7),
            ]
        );
        let problems = parse("A=1\nB='x' y\nC=${HOME}\nD\nE='open\n").unwrap_err();
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 4, "{shown:?}");
        assert!(shown[0].starts_with("line 2: text after the closing quote"));
        assert!(shown[1].starts_with("line 3: python-dotenv would substitute"));
        assert!(shown[2].starts_with("line 4: a name without '='"));
        assert!(shown[3].starts_with("line 5: a quoted value is not closed"));
    }
}
