//! What `exec` and `export` share: the values of a scope they pass on, from the vault or
//! (`--remote`) straight from SSM, limited to `--names` / `--from-backend`, and `--strict`
//! checked before anything runs or is printed.

use crate::backend;
use crate::cli::{ScopeArgs, ValuesArgs};
use crate::effective::{self, Lookup};
use crate::error::{Error, Result};
use crate::scope::ScopeKey;
use crate::secret::SecretValue;
use crate::session::{self, Context};
use crate::ssm::remote::Remote;
use crate::ssm::resolve;

/// The values to pass on, by name, in name order.
pub struct Values {
    pub lookup: Lookup,
    pub secrets: Vec<(String, SecretValue)>,
}

/// The scope's values: effective ones (its own, else its shared namespace's) when
/// `effective` or `--remote`, else its own. Fails (exit 3) when a `--strict` name has none.
pub fn gather(
    cx: &Context,
    scope: &ScopeArgs,
    args: &ValuesArgs,
    effective: bool,
) -> Result<Values> {
    let scope = cx.scope(scope)?;
    let mut names = selected_names(cx, args)?;
    let strict = match (&args.strict, &names) {
        (None, _) => Vec::new(),
        (Some(strict), _) if !strict.is_empty() => strict.clone(),
        (Some(_), Some(names)) => names.clone(),
        (Some(_), None) => {
            return Err(Error::Usage(
                "--strict needs names: --strict=NAME,… or --names / --from-backend".into(),
            ));
        }
    };
    if let Some(names) = &mut names {
        // A --strict name is passed on too.
        names.extend(strict.iter().cloned());
        names.sort();
        names.dedup();
    }
    for name in names.iter().flatten().chain(&strict) {
        session::check_name(name)?;
    }
    let lookup = if effective || args.remote {
        cx.lookup(scope)?
    } else {
        Lookup {
            scope,
            fallback: None,
        }
    };
    let mut secrets = if args.remote {
        from_ssm(cx, args, &lookup, names.as_deref())?
    } else {
        from_vault(cx, &lookup)?
    };
    if let Some(names) = &names {
        secrets.retain(|(name, _)| names.contains(name));
    }
    let missing: Vec<&str> = strict
        .iter()
        .map(String::as_str)
        .filter(|name| {
            secrets
                .binary_search_by(|(n, _)| n.as_str().cmp(name))
                .is_err()
        })
        .collect();
    if !missing.is_empty() {
        let place = if args.remote { " in SSM" } else { "" };
        return Err(Error::NotFound(format!(
            "--strict: no value{place} for {} in {}{}; nothing was run or printed",
            missing.join(", "),
            lookup.scope,
            lookup.nor_fallback()
        )));
    }
    Ok(Values { lookup, secrets })
}

/// `--names`, else the backend's `secret()` names (`--from-backend`), else `None` (all).
fn selected_names(cx: &Context, args: &ValuesArgs) -> Result<Option<Vec<String>>> {
    if args.from_backend {
        let root = cx.config.project_root.as_ref().unwrap_or(&cx.config.cwd);
        let mut names: Vec<String> = backend::scan(root)?
            .secrets
            .into_iter()
            .map(|s| s.name)
            .collect();
        names.sort();
        names.dedup();
        return Ok(Some(names));
    }
    Ok((!args.names.is_empty()).then(|| args.names.clone()))
}

fn from_vault(cx: &Context, lookup: &Lookup) -> Result<Vec<(String, SecretValue)>> {
    let vault = cx.vault()?;
    let view = vault.view()?;
    Ok(effective::resolve_all(&view, lookup)
        .iter()
        .map(|r| (r.name.to_owned(), r.entry.value()))
        .collect())
}

/// Reads SSM with no vault: whole prefixes, or only the named secrets when names are known.
fn from_ssm(
    cx: &Context,
    args: &ValuesArgs,
    lookup: &Lookup,
    names: Option<&[String]>,
) -> Result<Vec<(String, SecretValue)>> {
    let app = cx.app_identity()?;
    let own = lookup.scope.parameter_scope(&app)?;
    // A fallback SSM cannot hold (a scoped package name) can have no value: not read.
    let fallback = lookup
        .fallback
        .as_ref()
        .and_then(|f: &ScopeKey| f.parameter_scope(&app).ok());
    let remote = Remote::connect(&args.aws)?;
    let wanted: Option<Vec<&str>> = names.map(|n| n.iter().map(String::as_str).collect());
    let read = match &wanted {
        Some(wanted) => remote.run(resolve::named(
            remote.ssm(),
            &own,
            fallback.as_ref(),
            wanted,
        )),
        None => remote.run(resolve::all(remote.ssm(), &own, fallback.as_ref())),
    };
    let found = read.map_err(|e| {
        Error::Remote(format!(
            "cannot read {} from SSM: {}; nothing was run or printed",
            e.prefix, e.error
        ))
    })?;
    tracing::debug!("read {} secrets of {} from SSM", found.len(), lookup.scope);
    Ok(found
        .into_iter()
        .map(|(name, (parameter, _))| (name, parameter.value))
        .collect())
}
