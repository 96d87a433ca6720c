//! The one place where commands' results reach the terminal or a pipe.
//!
//! A command builds a [`Report`]: it serialises to the `--json` document and renders for a
//! person (stdout for data, stderr for messages). [`Output::emit`] prints it. Reports may
//! hold secret values (`get`, `export`), so the bytes are produced into a buffer sized
//! exactly beforehand (no reallocation leaves an unwiped copy), written straight to the file
//! descriptor (no standard-library buffer keeps a copy), and wiped. A reader that closes the
//! pipe early (`| head -1`) ends the command quietly with success.

use crate::error::{Error, Result};
use serde::Serialize;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use zeroize::Zeroizing;

/// Output for a person: data on `out` (stdout), messages on `err` (stderr).
pub trait Render {
    fn render(&self, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<()>;
}

/// What a command reports: rendered for a person, or serialised with `--json`.
pub trait Report: Render + Serialize {}

impl<T: Render + Serialize> Report for T {}

/// How reports are shown, fixed for the invocation.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
}

impl Output {
    /// Prints `report`: its JSON document with `--json`, else its rendering.
    pub fn emit(&self, report: &impl Report) -> Result<()> {
        if self.json {
            let document = exact(|w| {
                serde_json::to_writer(&mut *w, report).map_err(io::Error::from)?;
                w.write_all(b"\n")
            })
            .map_err(Error::stdout)?;
            return write_stdout(&document);
        }
        self.print(report)
    }

    /// Prints output that has one form whatever `--json` says: an export in its format, a
    /// completion script, a manual page.
    pub fn print(&self, rendered: &impl Render) -> Result<()> {
        let out = exact(|w| rendered.render(w, &mut io::sink())).map_err(Error::stdout)?;
        let err = exact(|w| rendered.render(&mut io::sink(), w)).map_err(Error::stdout)?;
        // Messages first: they often introduce the data (a plan header, a warning).
        write_stderr(&err);
        write_stdout(&out)
    }

    /// A message for a person on stderr (a warning, a note), whatever the output mode:
    /// `--json` keeps stdout to its one document. Each line is shown escaped: a message may
    /// quote a name or a setting from a committed file.
    pub fn message(&self, text: std::fmt::Arguments<'_>) {
        let text = text.to_string();
        let lines: Vec<String> = text
            .split('\n')
            .map(|line| styled_prefix(&crate::text::escape(line)))
            .collect();
        write_stderr(format!("{}\n", lines.join("\n")).as_bytes());
    }
}

/// Runs `produce` twice: once to measure, once into a buffer of exactly that size.
fn exact(produce: impl Fn(&mut dyn Write) -> io::Result<()>) -> io::Result<Zeroizing<Vec<u8>>> {
    let mut counter = Counter(0);
    produce(&mut counter)?;
    let mut bytes = Zeroizing::new(Vec::with_capacity(counter.0));
    produce(&mut *bytes)?;
    debug_assert!(bytes.len() <= counter.0, "a report renders the same twice");
    Ok(bytes)
}

struct Counter(usize);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes to the standard output's descriptor directly, bypassing `std::io::stdout`'s line
/// buffer (which would keep a copy of the last partial line).
fn write_stdout(bytes: &[u8]) -> Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    io::stdout().flush().map_err(Error::stdout)?;
    let mut file = io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .map(File::from)
        .map_err(Error::stdout)?;
    file.write_all(bytes).map_err(Error::stdout)
}

/// Messages are best effort: a closed stderr must not turn success into failure.
fn write_stderr(bytes: &[u8]) {
    if !bytes.is_empty() {
        let _ = io::stderr().lock().write_all(bytes);
    }
}

/// A secret value as a JSON string (for `#[serde(serialize_with)]`).
pub fn expose<S: serde::Serializer>(
    value: &crate::secret::SecretValue,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(value.expose())
}

/// Anything by its `Display` form (for `#[serde(serialize_with)]`): scopes, paths.
pub fn display<T: std::fmt::Display, S: serde::Serializer>(
    value: &T,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// Unix seconds as RFC 3339 (for `#[serde(serialize_with)]`).
pub fn rfc3339<S: serde::Serializer>(
    secs: &u64,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.collect_str(&timestamp(*secs))
}

/// Formats Unix seconds as RFC 3339 (UTC).
pub fn timestamp(secs: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
        .to_string()
}

/// `n thing` or `n things`.
pub fn count(n: usize, thing: &str) -> String {
    format!("{n} {}", plural(n, thing))
}

/// `thing` or `things`, agreeing with `n`.
pub fn plural(n: usize, thing: &str) -> String {
    if n == 1 {
        thing.to_owned()
    } else {
        format!("{thing}s")
    }
}

/// A verb agreeing with `n` subjects: `agree(1, "has", "have")`.
pub fn agree(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// Where text goes: colour is decided per stream, since one may be a terminal and the
/// other a pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Out,
    Err,
}

/// The few styles ampsecret uses: a mark's meaning (create, change, delete, problem) and
/// headings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Something new: create, store.
    Added,
    /// Something changed: update.
    Changed,
    /// Something removed: delete.
    Removed,
    /// Needs attention: a conflict, a failure, an error.
    Problem,
    /// Column headings.
    Heading,
    /// Unchanged, kept: quiet.
    Quiet,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Added => "32",
            Style::Changed => "33",
            Style::Removed | Style::Problem => "31",
            Style::Heading => "1",
            Style::Quiet => "2",
        }
    }
}

/// Whether `stream` gets colour: never with `NO_COLOR` (any non-empty value), always with
/// `CLICOLOR_FORCE` (other than `0`), else only when it is a terminal. Pipes and files never
/// get escape codes by default.
pub fn colour(stream: Stream) -> bool {
    static OUT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    static ERR: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let decide = |terminal: bool| {
        let set = |var: &str| std::env::var_os(var).is_some_and(|v| !v.is_empty() && v != "0");
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            false
        } else {
            set("CLICOLOR_FORCE") || terminal
        }
    };
    match stream {
        Stream::Out => *OUT.get_or_init(|| decide(io::IsTerminal::is_terminal(&io::stdout()))),
        Stream::Err => *ERR.get_or_init(|| decide(io::IsTerminal::is_terminal(&io::stderr()))),
    }
}

/// `text` in `style` when `stream` gets colour, else as it is.
pub fn paint(stream: Stream, style: Style, text: &str) -> String {
    if colour(stream) {
        format!("\x1b[{}m{text}\x1b[0m", style.code())
    } else {
        text.to_owned()
    }
}

/// A line for stderr with its `error:` in red, or its `warning:` in yellow, when stderr
/// gets colour.
pub fn styled_prefix(line: &str) -> String {
    for (prefix, style) in [("error:", Style::Problem), ("warning:", Style::Changed)] {
        if let Some(rest) = line.strip_prefix(prefix) {
            return format!("{}{rest}", paint(Stream::Err, style, prefix));
        }
    }
    line.to_owned()
}

/// Rows of cells printed in aligned columns (two spaces apart; the last column is not
/// padded, so no line ends in spaces). A cell may carry a style, applied after padding so
/// escape codes never shift a column. Cells are shown escaped (see [`crate::text::escape`]):
/// they quote names, keys and settings from committed files, which must not act on the
/// terminal or forge a row.
#[derive(Default)]
pub struct Table {
    rows: Vec<Vec<(String, Option<Style>)>>,
    /// Leading spaces before every row.
    indent: usize,
    /// One space, not two, after the first column (a plan's mark: `+ NAME`).
    tight_first: bool,
}

impl Table {
    pub fn new() -> Table {
        Table::default()
    }

    /// A table whose rows start with `indent` spaces (plan lines under a heading).
    pub fn indented(indent: usize) -> Table {
        Table {
            rows: Vec::new(),
            indent,
            tight_first: false,
        }
    }

    /// Adds a row of plain cells.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.styled_row(cells.into_iter().map(|c| (c.into(), None)).collect());
    }

    /// Adds a row whose cells may carry a style.
    pub fn styled_row(&mut self, cells: Vec<(String, Option<Style>)>) {
        self.rows.push(
            cells
                .into_iter()
                .map(|(cell, style)| (shown(cell), style))
                .collect(),
        );
    }

    /// Adds a heading row (bold on a terminal).
    pub fn heading(&mut self, cells: &[&str]) {
        self.styled_row(
            cells
                .iter()
                .map(|c| ((*c).to_owned(), Some(Style::Heading)))
                .collect(),
        );
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Writes the rows to `w`, styled for `stream`.
    pub fn write(&self, w: &mut dyn Write, stream: Stream) -> io::Result<()> {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .map(|(c, _)| c.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in &self.rows {
            // Trailing empty cells add nothing, not even padding.
            let used = row
                .iter()
                .rposition(|(c, _)| !c.is_empty())
                .map_or(0, |i| i + 1);
            let mut line = " ".repeat(self.indent);
            for (i, (cell, style)) in row.iter().take(used).enumerate() {
                let last = i + 1 == used;
                let pad = if last {
                    0
                } else {
                    widths[i] - cell.chars().count()
                };
                match style {
                    Some(style) => line.push_str(&paint(stream, *style, cell)),
                    None => line.push_str(cell),
                }
                if !last {
                    let gap = if i == 0 && self.tight_first { 1 } else { 2 };
                    line.push_str(&" ".repeat(pad + gap));
                }
            }
            writeln!(w, "{line}")?;
        }
        Ok(())
    }
}

/// `text` as a terminal may show it (escaped), without a copy when nothing needs escaping.
fn shown(text: String) -> String {
    match crate::text::escape(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(escaped) => escaped,
    }
}

/// What a change does, in the one vocabulary push, pull and import share: the verb of the
/// plan ("create") and of the report ("created"), and its mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    Create,
    Update,
    Delete,
    /// Push keeping SSM's value: stored in the vault.
    Store,
    /// Pull keeping the vault's value: written to SSM.
    Write,
    /// Nothing to do (unchanged, or kept as it is).
    Keep,
}

/// A JSON report names a change by its plan verb ("create").
impl Serialize for Change {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.verb())
    }
}

impl Change {
    /// The plan's verb: "create".
    pub fn verb(self) -> &'static str {
        match self {
            Change::Create => "create",
            Change::Update => "update",
            Change::Delete => "delete",
            Change::Store => "store",
            Change::Write => "write",
            Change::Keep => "keep",
        }
    }

    /// The report's verb: "created".
    pub fn done(self) -> &'static str {
        match self {
            Change::Create => "created",
            Change::Update => "updated",
            Change::Delete => "deleted",
            Change::Store => "stored in the vault",
            Change::Write => "written to SSM",
            Change::Keep => "kept",
        }
    }

    fn mark(self) -> (&'static str, Style) {
        match self {
            Change::Create => ("+", Style::Added),
            Change::Update => ("~", Style::Changed),
            Change::Delete => ("-", Style::Removed),
            Change::Store => ("<", Style::Changed),
            Change::Write => (">", Style::Changed),
            Change::Keep => ("=", Style::Quiet),
        }
    }
}

/// A plan as push, pull and import show it on stderr: a heading, then one aligned line per
/// name (`  + NAME  create (new)`), marks coloured on a terminal.
pub struct Plan {
    heading: String,
    lines: Table,
}

impl Plan {
    pub fn new(heading: String) -> Plan {
        let mut lines = Table::indented(2);
        lines.tight_first = true;
        Plan { heading, lines }
    }

    /// A line: the change's mark, the name, and what happens.
    pub fn line(&mut self, change: Change, name: &str, what: String) {
        let (mark, style) = change.mark();
        self.marked(mark, style, name, what);
    }

    /// A line about a problem (`  ! NAME  not stored: …`).
    pub fn problem(&mut self, name: &str, what: String) {
        self.marked("!", Style::Problem, name, what);
    }

    /// A line with a mark of its own (`diff`'s states).
    pub fn marked(&mut self, mark: &str, style: Style, name: &str, what: String) {
        self.lines.styled_row(vec![
            (mark.to_owned(), Some(style)),
            (name.to_owned(), None),
            (what, None),
        ]);
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Writes the heading and the lines (nothing when there are no lines).
    pub fn write(&self, err: &mut dyn Write) -> io::Result<()> {
        if self.lines.is_empty() {
            return Ok(());
        }
        writeln!(err, "{}", self.heading)?;
        self.write_lines(err)
    }

    /// Writes the lines alone (problems under a report).
    pub fn write_lines(&self, err: &mut dyn Write) -> io::Result<()> {
        self.lines.write(err, Stream::Err)
    }

    /// Writes the heading and the lines to `w`, styled for `stream` (a report on stdout).
    pub fn write_on(&self, w: &mut dyn Write, stream: Stream) -> io::Result<()> {
        writeln!(w, "{}", self.heading)?;
        self.lines.write(w, stream)
    }
}

/// How many changes of each kind: the counts in a plan's or a report's last line.
#[derive(Debug, Default, Clone)]
pub struct Tally(std::collections::BTreeMap<Change, usize>);

impl Tally {
    pub fn add(&mut self, change: Change) {
        *self.0.entry(change).or_default() += 1;
    }

    /// Changes other than keeping.
    pub fn changes(&self) -> usize {
        self.0
            .iter()
            .filter(|(c, _)| **c != Change::Keep)
            .map(|(_, n)| n)
            .sum()
    }

    /// "1 to create, 2 to update".
    pub fn planned(&self) -> String {
        self.list(|c| format!("to {}", c.verb()))
    }

    /// "1 created, 2 updated".
    pub fn done(&self) -> String {
        self.list(|c| c.done().to_owned())
    }

    fn list(&self, word: impl Fn(Change) -> String) -> String {
        self.0
            .iter()
            .filter(|(c, n)| **c != Change::Keep && **n > 0)
            .map(|(c, n)| format!("{n} {}", word(*c)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The report's last line: `Applied 2 changes to TARGET: 1 created, 1 updated.`, with
    /// failures counted, or the dry run's line, or `Nothing to VERB: …` when nothing
    /// differs.
    pub fn summary(&self, dry_run: bool, failed: usize, target: &str, nothing: &str) -> String {
        let changes = self.changes();
        if dry_run {
            return if changes == 0 {
                format!("{nothing} Dry run: nothing was changed.")
            } else {
                format!(
                    "Dry run: {} planned for {target} ({}); nothing was changed.",
                    count(changes, "change"),
                    self.planned()
                )
            };
        }
        match (changes, failed) {
            (0, 0) => nothing.to_owned(),
            (0, failed) => format!("Applied no change to {target}; {failed} failed."),
            (n, 0) => format!(
                "Applied {} to {target}: {}.",
                count(n, "change"),
                self.done()
            ),
            (n, failed) => format!(
                "Applied {n} of {} to {target}: {}; {failed} failed.",
                count(n + failed, "change"),
                self.done()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Demo {
        rows: Vec<String>,
    }

    impl Render for Demo {
        fn render(&self, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
            for row in &self.rows {
                writeln!(out, "{row}")?;
            }
            writeln!(err, "{} rows", self.rows.len())
        }
    }

    #[test]
    fn buffers_are_sized_exactly() {
        let demo = Demo {
            rows: (0..1000).map(|i| format!("row {i}")).collect(),
        };
        let out = exact(|w| demo.render(w, &mut io::sink())).unwrap();
        assert_eq!(out.len(), out.capacity());
        assert!(out.starts_with(b"row 0\nrow 1\n"));
        let err = exact(|w| demo.render(&mut io::sink(), w)).unwrap();
        assert_eq!(&err[..], b"1000 rows\n");
    }

    #[test]
    fn plurals() {
        assert_eq!(count(1, "secret"), "1 secret");
        assert_eq!(count(0, "secret"), "0 secrets");
        assert_eq!(agree(2, "needs", "need"), "need");
    }

    #[test]
    fn one_vocabulary_for_reports() {
        let mut tally = Tally::default();
        tally.add(Change::Create);
        tally.add(Change::Update);
        tally.add(Change::Update);
        tally.add(Change::Keep);
        assert_eq!(
            tally.summary(false, 0, "P", "Nothing."),
            "Applied 3 changes to P: 1 created, 2 updated."
        );
        assert_eq!(
            tally.summary(true, 0, "P", "Nothing."),
            "Dry run: 3 changes planned for P (1 to create, 2 to update); nothing was changed."
        );
        assert_eq!(
            Tally::default().summary(false, 0, "P", "Nothing to push."),
            "Nothing to push."
        );
        let mut plan = Plan::new("Plan:".into());
        plan.line(Change::Create, "A", "create (new)".into());
        plan.line(Change::Keep, "LONGER", "unchanged".into());
        let mut out = Vec::new();
        plan.write(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Plan:\n  + A       create (new)\n  = LONGER  unchanged\n"
        );
    }

    #[test]
    fn tables_align_without_trailing_spaces() {
        let mut table = Table::indented(2);
        table.row(["+", "A", "create"]);
        table.row(["~", "LONGER_NAME", "update"]);
        table.row(["=", "B", ""]);
        let mut out = Vec::new();
        table.write(&mut out, Stream::Out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "  +  A            create\n  ~  LONGER_NAME  update\n  =  B\n"
        );
    }
}
