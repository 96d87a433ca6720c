//! `ampsecret recipients list | add | remove`: the members the vault is encrypted to.

use crate::cli::{RecipientAddArgs, RecipientRemoveArgs, RecipientsCommand};
use crate::error::{Error, Result};
use crate::output::{Output, Render, count};
use crate::session::Context;
use crate::vault::format::RotateNotice;
use crate::vault::{Member, members, members_from_config, trust};
use serde::Serialize;
use std::io::{self, Write};

pub fn run(cx: &Context, out: &Output, command: RecipientsCommand) -> Result<()> {
    match command {
        RecipientsCommand::List => list(cx, out),
        RecipientsCommand::Add(args) => add(cx, out, args),
        RecipientsCommand::Remove(args) => remove(cx, out, args),
    }
}

/// `--json`: `{"members":[{"name","key","you"}],"fingerprint","unreviewed":[…]}`.
#[derive(Serialize)]
struct Listing {
    members: Vec<Row>,
    /// The membership token's fingerprint: compare it with a teammate's to know you opened
    /// the same vault.
    fingerprint: Option<String>,
    /// Keys config.toml lists that no member added.
    unreviewed: Vec<String>,
}

#[derive(Serialize)]
struct Row {
    name: String,
    key: String,
    you: bool,
}

impl Render for Listing {
    fn render(&self, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        let mut table = crate::output::Table::new();
        table.heading(&["NAME", "KEY"]);
        for member in &self.members {
            let you = if member.you { "(you)" } else { "" };
            table.row([member.name.as_str(), member.key.as_str(), you]);
        }
        table.write(out, crate::output::Stream::Out)?;
        if let Some(fingerprint) = &self.fingerprint {
            writeln!(err, "Vault fingerprint: {fingerprint}")?;
        }
        for key in &self.unreviewed {
            writeln!(
                err,
                "warning: config.toml lists {} which no member added; review it, then 'ampsecret recipients add' it or remove the line",
                members::shorten(key)
            )?;
        }
        Ok(())
    }
}

fn list(cx: &Context, out: &Output) -> Result<()> {
    let vault = cx.vault()?;
    let view = vault.view()?;
    let mine = vault.key.public_keys();
    let mut team = view.team.clone();
    if team.members.is_empty() {
        // A vault from before members were recorded: its config is the list.
        team.members = members_from_config(&vault.dir.config.recipients, None);
    }
    let unreviewed = vault
        .dir
        .config
        .recipients
        .iter()
        .filter(|r| !team.members.iter().any(|m| m.recipient == **r))
        .cloned()
        .collect();
    out.emit(&Listing {
        members: team
            .members
            .iter()
            .map(|m| Row {
                name: m.name.clone(),
                key: m.recipient.clone(),
                you: mine.contains(&m.recipient),
            })
            .collect(),
        fingerprint: team.tokens.first().map(trust::fingerprint),
        unreviewed,
    })
}

/// `--json` of add: `{"added":{"name","key"}}`.
#[derive(Serialize)]
struct Added {
    added: Row,
}

impl Render for Added {
    fn render(&self, _: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        writeln!(
            err,
            "Added {} ({}); the vault is re-encrypted to them. Commit .ampsecret/ and push it.",
            crate::text::escape(&self.added.name),
            members::shorten(&self.added.key)
        )
    }
}

fn add(cx: &Context, out: &Output, args: RecipientAddArgs) -> Result<()> {
    let (key, comment) = members::normalize(&args.key).map_err(Error::Invalid)?;
    let vault = cx.vault()?;
    let name = vault.dir.update_team(vault.key, |v| {
        if let Some(existing) = v.team.members.iter().find(|m| m.recipient == key) {
            return Err(Error::Usage(format!(
                "that key is already a member ({}); nothing changed",
                existing.name
            )));
        }
        let name = args
            .name
            .clone()
            .or(comment)
            .unwrap_or_else(|| format!("member-{}", v.team.members.len() + 1));
        check_member_name(&name)?;
        if v.team.members.iter().any(|m| m.name == name) {
            return Err(Error::Usage(format!(
                "a member is already called {name}: pass --name with another name"
            )));
        }
        v.team.members.push(Member {
            name: name.clone(),
            recipient: key.clone(),
        });
        Ok(name)
    })?;
    out.emit(&Added {
        added: Row {
            name,
            key,
            you: false,
        },
    })
}

/// Member names appear in lists, history and messages: one line of visible text, with no
/// control character and no invisible formatting character (a direction override would
/// make one name read as another).
pub(super) fn check_member_name(name: &str) -> Result<()> {
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(crate::text::is_unusual) {
        return Err(Error::Invalid(format!(
            "member name '{}' must be 1 to 100 visible characters (no control or direction-changing characters): pass another --name",
            crate::text::escape(name)
        )));
    }
    Ok(())
}

/// `--json` of remove: `{"removed":{"name","key"},"to_rotate":[{"scope","name"}]}`.
#[derive(Serialize)]
struct Removed {
    removed: Row,
    to_rotate: Vec<ToRotate>,
}

#[derive(Serialize)]
struct ToRotate {
    scope: String,
    name: String,
}

impl Render for Removed {
    fn render(&self, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        writeln!(
            err,
            "Removed {}; the vault is re-encrypted without them. They could read {}: rotate each at its source (list and diff mark them until their value changes):",
            self.removed.name,
            count(self.to_rotate.len(), "secret")
        )?;
        for secret in &self.to_rotate {
            writeln!(out, "{}  {}", secret.scope, secret.name)?;
        }
        Ok(())
    }
}

fn remove(cx: &Context, out: &Output, args: RecipientRemoveArgs) -> Result<()> {
    let vault = cx.vault()?;
    let view = vault.view()?;
    let wanted = members::normalize(&args.member).map_or(args.member.clone(), |(k, _)| k);
    let mut team_members = view.team.members.clone();
    if team_members.is_empty() {
        team_members = members_from_config(&vault.dir.config.recipients, None);
    }
    let Some(member) = team_members
        .iter()
        .find(|m| m.name == args.member || m.recipient == wanted)
        .cloned()
    else {
        // A key added to config.toml by hand is not a member: removing it fixes the mirror.
        if vault.dir.config.recipients.contains(&wanted) {
            vault.dir.update_team(vault.key, |_| Ok(()))?;
            return out.emit(&Removed {
                removed: Row {
                    name: "(not a member)".into(),
                    key: wanted,
                    you: false,
                },
                to_rotate: Vec::new(),
            });
        }
        return Err(Error::NotFound(format!(
            "no member {}: 'ampsecret recipients list' shows them",
            args.member
        )));
    };
    if team_members.len() == 1 {
        return Err(Error::Usage(format!(
            "{} is the last member: a vault nobody can open would be lost; add another member first",
            member.name
        )));
    }
    if vault.key.public_keys().contains(&member.recipient) && !args.remove_myself {
        return Err(Error::Usage(format!(
            "{} is you: after this you could not open the vault; pass --remove-myself if you mean it",
            member.name
        )));
    }
    let question = format!(
        "Remove {} and re-encrypt the vault without them?",
        member.name
    );
    cx.confirm(args.yes, "recipients remove", false, &question)?;
    drop(view);
    let to_rotate = vault.dir.update_team(vault.key, |v| {
        v.team.members.retain(|m| m.recipient != member.recipient);
        // They knew every token so far: draw a new one, keeping the old after it.
        v.team
            .tokens
            .insert(0, zeroize::Zeroizing::new(rand::random()));
        let notices: Vec<RotateNotice> = v
            .entries()
            .map(|(scope, name, _)| RotateNotice {
                scope: scope.clone(),
                name: name.to_owned(),
                member: member.name.clone(),
            })
            .collect();
        for notice in &notices {
            if !v
                .team
                .to_rotate
                .iter()
                .any(|n| n.scope == notice.scope && n.name == notice.name)
            {
                v.team.to_rotate.push(notice.clone());
            }
        }
        Ok(notices)
    })?;
    out.emit(&Removed {
        removed: Row {
            name: member.name,
            key: member.recipient,
            you: false,
        },
        to_rotate: to_rotate
            .into_iter()
            .map(|n| ToRotate {
                scope: n.scope.to_string(),
                name: n.name,
            })
            .collect(),
    })
}
