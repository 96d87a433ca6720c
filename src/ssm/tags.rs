//! Tags on the parameters a push writes: the wanted set (config.toml's defaults, then
//! `--tag` flags), what each parameter lacks of it, and reading what SSM has.
//!
//! Tags go on with `AddTagsToResource`, never with `PutParameter`: SSM refuses Tags together
//! with Overwrite, and a tag change must not write a new value version. Only tags that are
//! missing or differ are sent, and tags the wanted set does not name are left alone (other
//! tools may own them).
//!
//! config.toml is a committed, unauthenticated file: anyone who can push to the repository
//! can edit its `[tags]`, and tags can decide who may read a parameter (tag-based IAM). So
//! a default only adds a tag a parameter lacks; replacing a value SSM holds takes a `--tag`
//! typed by whoever runs the push, and the plan shows the value it replaces.

use super::failure::CallError;
use super::governor::{Governor, Limits};
use super::plan::{Action, Status, Step};
use super::sync::SyncSession;
use crate::error::{Error, Result};
use crate::vault::config::{MAX_TAGS, check_tag};
use futures_util::stream::{self, StreamExt};
use std::collections::{BTreeMap, BTreeSet};

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

/// The tags a push puts on: config.toml's `[tags]` (defaults) and the `--tag` flags (a flag
/// wins over a default with the same key).
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    defaults: Tags,
    flags: Tags,
}

impl Wanted {
    pub fn is_empty(&self) -> bool {
        self.defaults.is_empty() && self.flags.is_empty()
    }
}

/// The defaults (checked when config.toml was read) and flags a push wants.
pub fn wanted(defaults: &Tags, flags: &[(String, String)]) -> Result<Wanted> {
    let flags: Tags = flags.iter().cloned().collect();
    let keys = defaults.keys().chain(flags.keys()).collect::<BTreeSet<_>>();
    if keys.len() > MAX_TAGS {
        return Err(Error::Invalid(format!(
            "{} tags wanted, but SSM allows {MAX_TAGS} per parameter",
            keys.len()
        )));
    }
    Ok(Wanted {
        defaults: defaults.clone(),
        flags,
    })
}

/// What one parameter needs of the wanted tags, given what it has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagChange {
    /// Tags to send: missing ones, and flags that replace another value.
    pub add: Tags,
    /// The values those flags replace.
    pub replaced: Tags,
    /// Defaults not sent because the parameter holds another value: (SSM's, config.toml's)
    /// by key.
    pub held: BTreeMap<String, (String, String)>,
}

impl TagChange {
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.held.is_empty()
    }

    /// `KEY=VALUE (was OLD), …; kept KEY=OLD (config.toml says NEW: --tag replaces it)`.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self
            .add
            .iter()
            .map(|(k, v)| match self.replaced.get(k) {
                Some(old) => format!("{k}={v} (was {old})"),
                None => format!("{k}={v}"),
            })
            .collect();
        parts.extend(self.held.iter().map(|(k, (old, new))| {
            format!("kept {k}={old} (config.toml says {new}; --tag {k}=… replaces it)")
        }));
        crate::text::escape(&parts.join(", ")).into_owned()
    }
}

/// What `have` needs of `want`: flags that differ, defaults it lacks; a default it holds
/// with another value is kept (see the module's note).
pub fn change(want: &Wanted, have: &Tags) -> TagChange {
    let mut change = TagChange::default();
    for (key, value) in &want.flags {
        match have.get(key) {
            Some(old) if old == value => {}
            old => {
                change.add.insert(key.clone(), value.clone());
                if let Some(old) = old {
                    change.replaced.insert(key.clone(), old.clone());
                }
            }
        }
    }
    for (key, value) in want
        .defaults
        .iter()
        .filter(|(k, _)| !want.flags.contains_key(*k))
    {
        match have.get(key) {
            None => {
                change.add.insert(key.clone(), value.clone());
            }
            Some(old) if old != value => {
                change
                    .held
                    .insert(key.clone(), (old.clone(), value.clone()));
            }
            Some(_) => {}
        }
    }
    change
}

/// Tags to add to one parameter (or defaults it holds otherwise, to report).
#[derive(Debug, Clone)]
pub struct TagStep {
    pub name: String,
    pub parameter: String,
    pub change: TagChange,
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
pub fn plan_tags(session: &SyncSession<'_>, steps: &[Step], want: &Wanted) -> Result<Vec<TagStep>> {
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
            let change = change(want, have.get(&parameter).unwrap_or(&none));
            (!change.is_empty()).then(|| TagStep {
                name: step.name.clone(),
                parameter,
                change,
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
    fn defaults_only_add_and_flags_replace_showing_what_they_replace() {
        let want = wanted(&tags(&[("team", "web"), ("env", "prod")]), &[]).unwrap();
        let lacking = change(&want, &tags(&[("team", "web"), ("owner", "x")]));
        assert_eq!(lacking.add, tags(&[("env", "prod")]));
        assert!(lacking.held.is_empty() && lacking.replaced.is_empty());
        // A committed default never replaces a value SSM holds.
        let other = change(&want, &tags(&[("team", "payments"), ("env", "prod")]));
        assert!(other.add.is_empty());
        assert_eq!(other.held["team"], ("payments".into(), "web".into()));
        assert_eq!(
            other.describe(),
            "kept team=payments (config.toml says web; --tag team=… replaces it)"
        );
        assert!(change(&want, &tags(&[("team", "web"), ("env", "prod")])).is_empty());
        // A flag typed by the one pushing does, and says what it replaces.
        let flag = vec![("team".to_owned(), "public".to_owned())];
        let want = wanted(&tags(&[("team", "web")]), &flag).unwrap();
        let replacing = change(&want, &tags(&[("team", "payments")]));
        assert_eq!(replacing.add, tags(&[("team", "public")]));
        assert_eq!(replacing.describe(), "team=public (was payments)");
    }

    #[test]
    fn flags_win_over_defaults_and_bad_tags_are_refused() {
        let defaults = tags(&[("team", "web"), ("env", "dev")]);
        let flags = vec![("env".to_owned(), "prod".to_owned())];
        let want = wanted(&defaults, &flags).unwrap();
        assert_eq!(
            change(&want, &Tags::new()).add,
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
    }
}
