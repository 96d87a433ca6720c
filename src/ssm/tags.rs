//! Tags on the parameters a push writes: the wanted set (config.toml's defaults, then
//! `--tag` flags), what each parameter lacks of it, and reading what SSM has.
//!
//! Tags go on with `AddTagsToResource`, never with `PutParameter`: SSM refuses Tags together
//! with Overwrite, and a tag change must not write a new value version. Only tags that are
//! missing or differ are sent, and tags the wanted set does not name are left alone (other
//! tools may own them).

use super::failure::CallError;
use super::governor::{Governor, Limits};
use super::plan::{Action, Status, Step};
use super::sync::SyncSession;
use crate::error::{Error, Result};
use crate::vault::config::{MAX_TAGS, check_tag};
use futures_util::stream::{self, StreamExt};
use std::collections::BTreeMap;

/// Tags by key.
pub type Tags = BTreeMap<String, String>;

/// Parses `KEY=VALUE` as `--tag` takes it.
pub fn parse_tag(text: &str) -> Result<(String, String), String> {
    let Some((key, value)) = text.split_once('=') else {
        return Err("write a tag as KEY=VALUE".into());
    };
    check_tag(key, value)?;
    Ok((key.to_owned(), value.to_owned()))
}

/// The tags a push puts on: config.toml's `[tags]`, then the `--tag` flags (a flag wins
/// over a default with the same key). Checked like the flags.
pub fn wanted(defaults: &Tags, flags: &[(String, String)]) -> Result<Tags> {
    for (key, value) in defaults {
        check_tag(key, value)
            .map_err(|e| Error::Invalid(format!("config.toml [tags]: {e}; fix the tag there")))?;
    }
    let mut tags = defaults.clone();
    tags.extend(flags.iter().cloned());
    if tags.len() > MAX_TAGS {
        return Err(Error::Invalid(format!(
            "{} tags wanted, but SSM allows {MAX_TAGS} per parameter",
            tags.len()
        )));
    }
    Ok(tags)
}

/// What `have` lacks of `want`: keys it does not have or holds with another value.
pub fn missing(want: &Tags, have: &Tags) -> Tags {
    want.iter()
        .filter(|(key, value)| have.get(*key) != Some(*value))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// Tags to add to one parameter.
#[derive(Debug, Clone)]
pub struct TagStep {
    pub name: String,
    pub parameter: String,
    pub tags: Tags,
}

/// `KEY=VALUE, …` for people.
pub fn describe(tags: &Tags) -> String {
    tags.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `step` leaves a parameter in SSM that the vault's secret maps to, and whether
/// it existed before (a new one has no tags to read).
fn tag_target(step: &Step) -> Option<bool> {
    match (step.action, step.status) {
        (Action::Put, Status::AddedHere | Status::DeletedRemote) => Some(false),
        (Action::Put | Action::RecordSync | Action::Store, _) => Some(true),
        _ => None,
    }
}

/// Reads the tags of every parameter of `names` (full SSM names) that SSM has, a few at a
/// time and paced; by parameter.
pub fn read_tags(session: &SyncSession<'_>, names: &[String]) -> Result<BTreeMap<String, Tags>> {
    if names.is_empty() {
        return Ok(BTreeMap::new());
    }
    let governor = Governor::new(Limits::reads());
    let ssm = session.remote.ssm();
    let read = stream::iter(names)
        .map(|parameter| {
            let governor = &governor;
            async move { (parameter.clone(), ssm.tags(governor, parameter).await) }
        })
        .buffer_unordered(4)
        .collect::<Vec<(String, Result<Tags, CallError>)>>();
    let mut tags = BTreeMap::new();
    for (parameter, result) in session.remote.run(read) {
        let have = result.map_err(|e| {
            Error::Remote(format!(
                "cannot read the tags of {parameter}: {e}; nothing was changed"
            ))
        })?;
        tags.insert(parameter, have);
    }
    Ok(tags)
}

/// The tags each parameter a push leaves in SSM lacks of `want`, read from SSM for those
/// that exist (none is read when nothing is wanted). A parameter that has them all is left
/// out: it costs no tagging call.
pub fn plan_tags(session: &SyncSession<'_>, steps: &[Step], want: &Tags) -> Result<Vec<TagStep>> {
    if want.is_empty() {
        return Ok(Vec::new());
    }
    let targets: Vec<(&Step, bool)> = steps
        .iter()
        .filter_map(|s| tag_target(s).map(|exists| (s, exists)))
        .collect();
    let existing: Vec<String> = targets
        .iter()
        .filter(|(_, exists)| *exists)
        .map(|(s, _)| session.parameter(&s.name))
        .collect();
    let have = read_tags(session, &existing)?;
    let none = Tags::new();
    Ok(targets
        .into_iter()
        .filter_map(|(step, _)| {
            let parameter = session.parameter(&step.name);
            let tags = missing(want, have.get(&parameter).unwrap_or(&none));
            (!tags.is_empty()).then(|| TagStep {
                name: step.name.clone(),
                parameter,
                tags,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn only_missing_or_different_tags_are_sent() {
        let want = tags(&[("team", "web"), ("env", "prod")]);
        assert_eq!(
            missing(&want, &tags(&[("team", "web"), ("owner", "x")])),
            tags(&[("env", "prod")])
        );
        assert_eq!(
            missing(&want, &tags(&[("team", "ops"), ("env", "prod")])),
            tags(&[("team", "web")])
        );
        assert!(missing(&want, &want).is_empty());
    }

    #[test]
    fn flags_win_over_defaults_and_bad_tags_are_refused() {
        let defaults = tags(&[("team", "web"), ("env", "dev")]);
        let flags = vec![("env".to_owned(), "prod".to_owned())];
        assert_eq!(
            wanted(&defaults, &flags).unwrap(),
            tags(&[("team", "web"), ("env", "prod")])
        );
        assert_eq!(parse_tag("a=b=c").unwrap(), ("a".into(), "b=c".into()));
        assert_eq!(
            parse_tag("empty=").unwrap(),
            ("empty".into(), String::new())
        );
        for bad in [
            "novalue",
            "=v",
            "aws:x=1",
            "k=v;rm",
            &format!("{}=v", "k".repeat(129)),
        ] {
            assert!(parse_tag(bad).is_err(), "{bad}");
        }
        let bad_default = tags(&[("aws:owner", "x")]);
        assert!(wanted(&bad_default, &[]).is_err());
    }
}
