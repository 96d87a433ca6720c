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
    /// `--json` keeps stdout to its one document.
    pub fn message(&self, text: std::fmt::Arguments<'_>) {
        write_stderr(format!("{text}\n").as_bytes());
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
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
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
    }
}
