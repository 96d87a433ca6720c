//! `ampsecret man [--dir DIR]`: print the top manual page, or install every page.

use crate::cli::ManArgs;
use crate::cli::man::pages;
use crate::error::{Error, Result};
use crate::output::{Output, Render};
use serde::Serialize;
use std::io::{self, Write};

/// `ampsecret man` without `--dir`: the roff of ampsecret(1), always rendered.
struct Page(Vec<u8>);

impl Render for Page {
    fn render(&self, out: &mut dyn Write, _: &mut dyn Write) -> io::Result<()> {
        out.write_all(&self.0)
    }
}

/// `--json`: `{"dir","pages":[…]}`.
#[derive(Serialize)]
struct Installed {
    dir: String,
    pages: Vec<String>,
}

impl Render for Installed {
    fn render(&self, _: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        writeln!(
            err,
            "Wrote {} manual pages to {}.",
            self.pages.len(),
            self.dir
        )
    }
}

pub fn run(out: &Output, args: ManArgs) -> Result<()> {
    let mut pages = pages();
    let Some(dir) = args.dir else {
        let (_, top) = pages.swap_remove(0);
        return out.print(&Page(top));
    };
    std::fs::create_dir_all(&dir).map_err(Error::io("cannot create", &dir))?;
    for (name, page) in &pages {
        let path = dir.join(name);
        std::fs::write(&path, page).map_err(Error::io("cannot write", &path))?;
    }
    out.emit(&Installed {
        dir: dir.display().to_string(),
        pages: pages.into_iter().map(|(name, _)| name).collect(),
    })
}
