//! `ampsecret man [--dir DIR | --install]`: print the top manual page, or install every
//! page and say whether `man` will find them.

use crate::cli::ManArgs;
use crate::cli::man::pages;
use crate::error::{Error, Result};
use crate::output::{Output, Render};
use serde::Serialize;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// `ampsecret man` without `--dir`: the roff of ampsecret(1), always rendered.
struct Page(Vec<u8>);

impl Render for Page {
    fn render(&self, out: &mut dyn Write, _: &mut dyn Write) -> io::Result<()> {
        out.write_all(&self.0)
    }
}

/// `--json`: `{"dir","pages":[…],"found_by_man":bool|null}`.
#[derive(Serialize)]
struct Installed {
    dir: String,
    pages: Vec<String>,
    /// Whether `man` searches the folder above `dir` (null: no `manpath` to ask).
    found_by_man: Option<bool>,
    #[serde(skip)]
    root: String,
}

impl Render for Installed {
    fn render(&self, _: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        writeln!(
            err,
            "Wrote {} manual pages to {}.",
            self.pages.len(),
            self.dir
        )?;
        match self.found_by_man {
            Some(true) => writeln!(err, "man finds them: try 'man ampsecret-push'."),
            // A trailing ':' keeps the system's pages: man-db appends its own path to it.
            _ => writeln!(
                err,
                "man does not look in {root} yet: add this line to your shell's startup file (~/.bashrc, ~/.zshrc), then open a new shell:\n  export MANPATH=\"{root}:$MANPATH\"",
                root = self.root
            ),
        }
    }
}

pub fn run(out: &Output, args: ManArgs) -> Result<()> {
    let mut pages = pages();
    let dir = match (args.dir, args.install) {
        (Some(dir), _) => dir,
        (None, true) => own_manual_folder()?,
        (None, false) => {
            let (_, top) = pages.swap_remove(0);
            return out.print(&Page(top));
        }
    };
    std::fs::create_dir_all(&dir).map_err(Error::io("cannot create", &dir))?;
    for (name, page) in &pages {
        let path = dir.join(name);
        std::fs::write(&path, page).map_err(Error::io("cannot write", &path))?;
    }
    // man reads section 1 from ROOT/man1.
    let root = if dir.file_name().is_some_and(|n| n == "man1") {
        dir.parent().unwrap_or(&dir).to_path_buf()
    } else {
        dir.clone()
    };
    out.emit(&Installed {
        found_by_man: man_searches(&root),
        dir: dir.display().to_string(),
        root: root.display().to_string(),
        pages: pages.into_iter().map(|(name, _)| name).collect(),
    })
}

/// `$XDG_DATA_HOME/man/man1`, by default `~/.local/share/man/man1`: where man-db looks
/// when `~/.local/bin` is on PATH.
fn own_manual_folder() -> Result<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|home| home.join(".local/share")))
        .ok_or_else(|| Error::Usage("no home directory (is HOME set?): pass --dir DIR".into()))?;
    Ok(data.join("man/man1"))
}

/// Whether man's search path (as `manpath` prints it, from MANPATH or PATH) holds `root`;
/// `None` when there is no `manpath` to ask.
fn man_searches(root: &Path) -> Option<bool> {
    let output = std::process::Command::new("manpath")
        .arg("-q")
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let wanted = std::fs::canonicalize(root).ok()?;
    let searched = String::from_utf8_lossy(&output.stdout);
    Some(
        searched
            .trim()
            .split(':')
            .filter_map(|dir| std::fs::canonicalize(dir).ok())
            .any(|dir| dir == wanted),
    )
}
