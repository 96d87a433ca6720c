//! `ampsecret check`: does every `secret('NAME')` of the Amplify backend have an effective
//! value in the scope? Missing names are listed with file:line and the exit code is 3, so CI
//! can stop a deploy. Literal credentials in function environments are warned about.

use crate::amplify::{ParameterScope, validate_parameter_name};
use crate::backend::{self, Location, Scan};
use crate::cli::{AwsArgs, CheckArgs};
use crate::effective;
use crate::error::{Error, Result};
use crate::output::{Output, Render};
use crate::scope::ScopeKey;
use crate::session::Context;
use crate::ssm::remote::Remote;
use crate::ssm::resolve;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

pub fn run(cx: &Context, out: &Output, args: CheckArgs) -> Result<()> {
    let scope = cx.scope(&args.scope)?;
    let lookup = cx.lookup(scope.clone())?;
    let root = cx.config.project_root.as_ref().unwrap_or(&cx.config.cwd);
    let scan = backend::scan(root)?;
    let vault = cx.vault()?;
    let view = vault.view()?;
    // --remote needs the SSM path: say exactly why it is unknown. Without --remote, paths are
    // shown where they are known.
    let own = match scope.parameter_scope(&cx.app_identity()?) {
        Ok(own) => Some(own),
        Err(e) if args.remote => return Err(e),
        Err(_) => None,
    };

    // Each name once, with every place that uses it.
    let mut uses: BTreeMap<&str, Vec<&Location>> = BTreeMap::new();
    for secret in &scan.secrets {
        uses.entry(&secret.name).or_default().push(&secret.at);
    }
    let names: Vec<&str> = uses.keys().copied().collect();
    let missing_remote = match (args.remote, &own) {
        (true, Some(own)) => Some(missing_remotely(&args.aws, own, &names)?),
        _ => None,
    };
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    for (name, locations) in &uses {
        let resolved = effective::resolve(&view, &lookup, name);
        let remote_found = missing_remote.as_ref().map(|m| !m.contains(name));
        if resolved.is_none() || remote_found == Some(false) {
            missing.push(*name);
        }
        rows.push(Checked {
            remote: remote_found,
            name,
            found: resolved.is_some(),
            source: resolved
                .as_ref()
                .map(|r| lookup.source_scope(r.source).to_string()),
            path: match (&resolved, &own) {
                (Some(r), Some(own)) => Some(r.parameter_name(own)),
                _ => None,
            },
            references: locations.iter().map(|l| Reference::from(*l)).collect(),
        });
    }

    out.emit(&Report {
        scope: &scope,
        lookup: &lookup,
        files: scan.files,
        secrets: rows,
        missing: &missing,
        dynamic: scan.dynamic.iter().map(Reference::from).collect(),
        warnings: scan
            .credentials
            .iter()
            .map(|c| Warning {
                file: &c.at.file,
                line: c.at.line,
                key: &c.key,
                reason: &c.reason,
            })
            .collect(),
        scan: &scan,
        uses: &uses,
        missing_remote: missing_remote.as_deref(),
    })?;
    if missing.is_empty() {
        return Ok(());
    }
    let fallback = lookup.nor_fallback();
    let where_ = if args.remote {
        " (in the vault or in SSM)"
    } else {
        ""
    };
    Err(Error::NotFound(format!(
        "{} of {} used by the backend {} no value in {scope}{fallback}{where_}: {}",
        missing.len(),
        crate::output::count(uses.len(), "secret"),
        crate::output::agree(missing.len(), "has", "have"),
        missing.join(", ")
    )))
}

/// `--json`: `{"scope","files","secrets","missing","dynamic","warnings"}`.
#[derive(Serialize)]
struct Report<'a> {
    #[serde(serialize_with = "crate::output::display")]
    scope: &'a ScopeKey,
    files: usize,
    secrets: Vec<Checked<'a>>,
    missing: &'a [&'a str],
    dynamic: Vec<Reference<'a>>,
    warnings: Vec<Warning<'a>>,
    #[serde(skip)]
    lookup: &'a effective::Lookup,
    #[serde(skip)]
    scan: &'a Scan,
    #[serde(skip)]
    uses: &'a BTreeMap<&'a str, Vec<&'a Location>>,
    #[serde(skip)]
    missing_remote: Option<&'a [&'a str]>,
}

#[derive(Serialize)]
struct Checked<'a> {
    name: &'a str,
    found: bool,
    remote: Option<bool>,
    source: Option<String>,
    path: Option<String>,
    references: Vec<Reference<'a>>,
}

#[derive(Serialize)]
struct Reference<'a> {
    file: &'a str,
    line: usize,
}

impl<'a> From<&'a Location> for Reference<'a> {
    fn from(at: &'a Location) -> Self {
        Reference {
            file: &at.file,
            line: at.line,
        }
    }
}

#[derive(Serialize)]
struct Warning<'a> {
    file: &'a str,
    line: usize,
    key: &'a str,
    reason: &'a str,
}

impl Render for Report<'_> {
    fn render(&self, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        let scope = self.scope;
        for credential in &self.scan.credentials {
            writeln!(
                err,
                "warning: {}: environment {} holds a literal string and {}; Amplify writes environment values in plaintext into build artifacts: store it with 'ampsecret set {}' and use secret('{}')",
                credential.at, credential.key, credential.reason, credential.key, credential.key
            )?;
        }
        for at in &self.scan.dynamic {
            writeln!(
                err,
                "warning: {at}: secret() with a computed name cannot be checked"
            )?;
        }
        let fallback = self.lookup.nor_fallback();
        for name in self.missing {
            let side = match self.missing_remote {
                Some(remote) if remote.contains(name) => " in SSM",
                _ => "",
            };
            for at in &self.uses[name] {
                writeln!(out, "{at}: {name} has no value{side} in {scope}{fallback}")?;
            }
        }
        if self.missing.is_empty() {
            let n = self.uses.len();
            writeln!(
                err,
                "{} {} used by the backend (in {}) {} a value in {scope}.",
                if n == 1 { "The" } else { "All" },
                crate::output::count(n, "secret"),
                crate::output::count(self.scan.files, "file"),
                crate::output::agree(n, "has", "have"),
            )?;
        }
        Ok(())
    }
}

/// The names SSM has neither at the scope's own path nor at the shared path Amplify falls
/// back to (GetParameters in batches of ten; values are not read).
fn missing_remotely<'a>(
    aws: &AwsArgs,
    own: &ParameterScope,
    names: &[&'a str],
) -> Result<Vec<&'a str>> {
    let remote = Remote::connect(aws)?;
    let fallback = effective::fallback_parameter_scope(own);
    let fallback = validate_parameter_name(&fallback.prefix())
        .is_ok()
        .then_some(&fallback);
    let found = remote
        .run(resolve::own_then_fallback(
            own,
            fallback,
            names,
            async |paths: &[String]| remote.ssm().existing(paths).await,
        ))
        .map_err(|e| Error::Remote(format!("cannot read {} from SSM: {}", e.prefix, e.error)))?;
    Ok(names
        .iter()
        .filter(|name| !found.contains_key(**name))
        .copied()
        .collect())
}
