//! Effective values read straight from SSM, the way Amplify's function runtime resolves
//! them: the deployment's own path first, then its shared namespace for what is missing.
//! Whole prefixes are read with `GetParametersByPath` pages, named secrets with
//! `GetParameters` batches of ten; never one call per secret.

use super::client::{RemoteParameter, Ssm};
use super::failure::CallError;
use crate::amplify::ParameterScope;
use crate::effective::Source;
use std::collections::BTreeMap;

/// A read that failed: the prefix it was reading and why.
#[derive(Debug)]
pub struct ReadError {
    pub prefix: String,
    pub error: CallError,
}

/// Every secret with an effective value: all of `own`'s prefix, then those of `fallback`'s
/// it does not have (the deployment's own value wins).
pub async fn all(
    ssm: &Ssm,
    own: &ParameterScope,
    fallback: Option<&ParameterScope>,
) -> Result<BTreeMap<String, (RemoteParameter, Source)>, ReadError> {
    let read = async |scope: &ParameterScope| {
        let prefix = scope.prefix();
        ssm.read_scope(&prefix)
            .await
            .map_err(|error| ReadError { prefix, error })
    };
    let mut found: BTreeMap<String, (RemoteParameter, Source)> = read(own)
        .await?
        .into_iter()
        .map(|(name, p)| (name, (p, Source::Own)))
        .collect();
    if let Some(fallback) = fallback.filter(|f| *f != own) {
        for (name, parameter) in read(fallback).await? {
            found.entry(name).or_insert((parameter, Source::Shared));
        }
    }
    Ok(found)
}

/// The named secrets that have an effective value, with their values.
pub async fn named(
    ssm: &Ssm,
    own: &ParameterScope,
    fallback: Option<&ParameterScope>,
    names: &[&str],
) -> Result<BTreeMap<String, (RemoteParameter, Source)>, ReadError> {
    own_then_fallback(own, fallback, names, async |paths: &[String]| {
        ssm.read_names(paths).await
    })
    .await
}

/// For each of `names`, what `lookup` finds at the own path, else at the fallback path.
/// `lookup` takes full SSM names and returns what it found by full name.
pub async fn own_then_fallback<T>(
    own: &ParameterScope,
    fallback: Option<&ParameterScope>,
    names: &[&str],
    lookup: impl AsyncFn(&[String]) -> Result<BTreeMap<String, T>, CallError>,
) -> Result<BTreeMap<String, (T, Source)>, ReadError> {
    let mut found = BTreeMap::new();
    let mut rest: Vec<&str> = names.to_vec();
    let fallback = fallback.filter(|f| *f != own);
    for (scope, source) in [(Some(own), Source::Own), (fallback, Source::Shared)] {
        let Some(scope) = scope else { continue };
        if rest.is_empty() {
            break;
        }
        let paths: Vec<String> = rest.iter().map(|n| scope.parameter_name(n)).collect();
        let mut got = lookup(&paths).await.map_err(|error| ReadError {
            prefix: scope.prefix(),
            error,
        })?;
        let mut missing = Vec::new();
        for (name, path) in rest.iter().zip(&paths) {
            match got.remove(path) {
                Some(value) => {
                    found.insert((*name).to_owned(), (value, source));
                }
                None => missing.push(*name),
            }
        }
        rest = missing;
    }
    Ok(found)
}
