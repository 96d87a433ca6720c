//! `ampsecret path NAME`: the SSM parameter name Amplify uses.

use crate::cli::PathArgs;
use crate::error::Result;
use crate::output::{Output, Render};
use crate::session::Context;
use serde::Serialize;
use std::io::{self, Write};

/// `--json`: `{"scope","name","prefix","path"}`.
#[derive(Serialize)]
struct Paths {
    scope: String,
    name: Option<String>,
    prefix: String,
    path: Option<String>,
}

impl Render for Paths {
    fn render(&self, out: &mut dyn Write, _: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{}", self.path.as_ref().unwrap_or(&self.prefix))
    }
}

pub fn run(cx: &Context, out: &Output, args: PathArgs) -> Result<()> {
    let scope = cx.scope(&args.scope)?;
    // The vault only supplies the app id; without one, flags and environment may.
    let (parameter_scope, path) = match &args.name {
        Some(name) => {
            let (parameter_scope, path) = cx.parameter(&scope, name)?;
            (parameter_scope, Some(path))
        }
        None => (scope.parameter_scope(&cx.app_identity()?)?, None),
    };
    out.emit(&Paths {
        scope: scope.to_string(),
        name: args.name,
        prefix: parameter_scope.prefix(),
        path,
    })
}
