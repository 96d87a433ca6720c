//! `ampsecret config list | get KEY | set KEY VALUE | unset KEY`: the vault's settings in
//! `.ampsecret/config.toml`, checked and written under the vault's lock, so nobody has to
//! edit the file by hand.

use crate::cli::{ConfigCommand, ConfigKeyArgs, ConfigSetArgs};
use crate::error::{Error, Result};
use crate::output::{Output, Render, Style, Table};
use crate::session::Context;
use crate::vault::config::{self, Config, DEFAULT_HISTORY, MAX_HISTORY, MAX_TAGS};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, Write};

/// The settings `config set` changes, as `config list` names them.
const SETTABLE: &[&str] = &["app_id", "history", "tags.NAME"];

/// Settings fixed when the vault was created.
const FIXED: &[&str] = &["format", "vault_id", "encryption"];

/// One setting, by the key the command line names it with.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    AppId,
    History,
    /// `tags.NAME`: a tag push puts on every parameter.
    Tag(String),
}

impl Key {
    /// Parses a key; anything else is refused with the closest key and what to do instead.
    fn parse(text: &str) -> Result<Key> {
        match text {
            "app_id" => return Ok(Key::AppId),
            "history" => return Ok(Key::History),
            "recipients" => {
                return Err(Error::Usage(
                    "recipients are the vault's members, changed with 'ampsecret recipients add KEY' or 'ampsecret recipients remove NAME' (see 'ampsecret recipients list')".into(),
                ));
            }
            _ => {}
        }
        if let Some(tag) = text.strip_prefix("tags.") {
            return Ok(Key::Tag(tag.to_owned()));
        }
        if FIXED.contains(&text) {
            return Err(Error::Usage(format!(
                "{text} is fixed when the vault is created and cannot be changed"
            )));
        }
        let known = SETTABLE.iter().copied().chain(["recipients", "tags"]);
        let hint = match crate::text::closest(text, known) {
            Some(close) => format!("did you mean {close}? "),
            None => String::new(),
        };
        Err(Error::Usage(format!(
            "no setting '{}'; {hint}the settings are {} (see 'ampsecret config list')",
            crate::text::escape(text),
            SETTABLE.join(", ")
        )))
    }

    fn name(&self) -> String {
        match self {
            Key::AppId => "app_id".into(),
            Key::History => "history".into(),
            Key::Tag(tag) => format!("tags.{tag}"),
        }
    }

    /// The setting's value in `config`, `None` when unset.
    fn value(&self, config: &Config) -> Option<String> {
        match self {
            Key::AppId => config.app_id.clone(),
            Key::History => Some(config.history.to_string()),
            Key::Tag(tag) => config.tags.get(tag).cloned(),
        }
    }

    /// Sets the setting to `value`, checked as push and the vault will use it.
    fn set(&self, config: &mut Config, value: &str) -> Result<()> {
        match self {
            Key::AppId => {
                crate::amplify::validate_app_id(value)
                    .map_err(|e| Error::Invalid(format!("app id '{value}': {e}")))?;
                config.app_id = Some(value.to_owned());
            }
            Key::History => {
                config.history = value
                    .parse::<u16>()
                    .ok()
                    .filter(|n| (1..=MAX_HISTORY).contains(n))
                    .ok_or_else(|| {
                        Error::Invalid(format!(
                            "history is the number of versions kept per secret, a whole number from 1 to {MAX_HISTORY}, not '{}'",
                            crate::text::escape(value)
                        ))
                    })?;
            }
            Key::Tag(tag) => {
                config::check_tag(tag, value).map_err(Error::Invalid)?;
                if !config.tags.contains_key(tag) && config.tags.len() >= MAX_TAGS {
                    return Err(Error::Invalid(format!(
                        "SSM takes at most {MAX_TAGS} tags on a parameter; unset one first"
                    )));
                }
                config.tags.insert(tag.clone(), value.to_owned());
            }
        }
        Ok(())
    }

    /// Back to the default: no app id, the default history, no such tag.
    fn unset(&self, config: &mut Config) {
        match self {
            Key::AppId => config.app_id = None,
            Key::History => config.history = DEFAULT_HISTORY,
            Key::Tag(tag) => {
                config.tags.remove(tag);
            }
        }
    }
}

/// `config list --json`: every setting, read-only ones included.
#[derive(Serialize)]
struct Settings {
    app_id: Option<String>,
    history: u16,
    tags: BTreeMap<String, String>,
    encryption: &'static str,
    vault_id: String,
    recipients: Vec<String>,
    /// Where the settings live.
    file: String,
}

impl Render for Settings {
    fn render(&self, out: &mut dyn Write, _: &mut dyn Write) -> io::Result<()> {
        let mut table = Table::new();
        table.heading(&["KEY", "VALUE", "NOTE"]);
        let app_id_note = if self.app_id.is_none() {
            "push needs it: ampsecret config set app_id ID"
        } else {
            ""
        };
        table.row([
            "app_id",
            self.app_id.as_deref().unwrap_or("(not set)"),
            app_id_note,
        ]);
        let history_note = if self.history == DEFAULT_HISTORY {
            "versions kept per secret (default)"
        } else {
            "versions kept per secret"
        };
        table.row([
            "history".to_owned(),
            self.history.to_string(),
            history_note.to_owned(),
        ]);
        for (tag, value) in &self.tags {
            table.row([
                format!("tags.{tag}"),
                value.clone(),
                "push tags every parameter with it".to_owned(),
            ]);
        }
        // What config.toml lists; members are checked against the payload when it is read.
        let members = format!(
            "{} listed",
            crate::output::count(self.recipients.len(), "key")
        );
        table.styled_row(vec![
            ("recipients".to_owned(), None),
            (members, None),
            (
                "read-only: ampsecret recipients".to_owned(),
                Some(Style::Quiet),
            ),
        ]);
        for (key, value) in [
            ("encryption", self.encryption),
            ("vault_id", &self.vault_id),
        ] {
            table.styled_row(vec![
                (key.to_owned(), None),
                (value.to_owned(), None),
                ("read-only".to_owned(), Some(Style::Quiet)),
            ]);
        }
        table.write(out, crate::output::Stream::Out)
    }
}

/// `config get KEY`: the value alone on stdout; `--json`: `{"key","value"}`.
#[derive(Serialize)]
struct Setting {
    key: String,
    value: String,
}

impl Render for Setting {
    fn render(&self, out: &mut dyn Write, _: &mut dyn Write) -> io::Result<()> {
        // Exact in a pipe (a script reads it); escaped on a terminal, since the file is
        // committed and anyone who can push can put control sequences in it.
        if io::IsTerminal::is_terminal(&io::stdout()) {
            writeln!(out, "{}", crate::text::escape(&self.value))
        } else {
            writeln!(out, "{}", self.value)
        }
    }
}

/// `config set` and `config unset`; `--json`: `{"key","value","changed"}`.
#[derive(Serialize)]
struct Changed {
    key: String,
    value: Option<String>,
    changed: bool,
    #[serde(skip)]
    file: String,
}

impl Render for Changed {
    fn render(&self, _: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        let value = self.value.as_deref().map(crate::text::escape);
        match (value, self.changed) {
            (Some(value), true) => writeln!(err, "Set {} to {value} in {}.", self.key, self.file),
            (Some(value), false) => {
                writeln!(err, "{} is already {value}; nothing changed.", self.key)
            }
            (None, true) => writeln!(err, "Unset {} in {}.", self.key, self.file),
            (None, false) => writeln!(err, "{} is not set; nothing changed.", self.key),
        }
    }
}

/// A tag named like a secret is most likely `config set` typed for `set`: its value would be
/// committed in config.toml and put on every parameter, in the open. Refused without
/// repeating the value.
fn refuse_secret_name_as_tag(cx: &Context, tag: &str) -> Result<()> {
    let vault = cx.vault()?;
    let view = vault.view()?;
    if let Some(scope) = view
        .scopes
        .iter()
        .find(|s| s.secrets.iter().any(|e| e.name == tag))
    {
        return Err(Error::Usage(format!(
            "{tag} is a secret in {}: a tag's value is public (committed in config.toml and shown on every parameter), so it was not set; to store a secret, run 'ampsecret set {tag}'",
            scope.key
        )));
    }
    Ok(())
}

/// A lower history depth drops the versions beyond it now, not at the next change: whoever
/// lowers it usually wants an old value gone.
fn trim_history(cx: &Context, depth: u16) -> Result<()> {
    let vault = cx.vault()?;
    vault.dir.update(vault.key, |v| {
        v.keep_versions(usize::from(depth));
        Ok(())
    })
}

pub fn run(cx: &Context, out: &Output, command: ConfigCommand) -> Result<()> {
    let vault = cx.vault_dir_to_repair()?;
    let file = vault.dir().join("config.toml").display().to_string();
    match command {
        ConfigCommand::List => {
            let config = &vault.config;
            out.emit(&Settings {
                app_id: config.app_id.clone(),
                history: config.history,
                tags: config.tags.clone(),
                encryption: match config.encryption {
                    config::Encryption::X25519 => "x25519",
                    config::Encryption::Passphrase => "passphrase",
                },
                vault_id: config.vault_id.clone(),
                recipients: config.recipients.clone(),
                file,
            })
        }
        ConfigCommand::Get(ConfigKeyArgs { key }) => {
            let key = Key::parse(&key)?;
            let value = key.value(&vault.config).ok_or_else(|| {
                Error::NotFound(format!(
                    "{} is not set; set it with 'ampsecret config set {} VALUE'",
                    key.name(),
                    key.name()
                ))
            })?;
            out.emit(&Setting {
                key: key.name(),
                value,
            })
        }
        ConfigCommand::Set(ConfigSetArgs { key, value }) => {
            let key = Key::parse(&key)?;
            if let Key::Tag(tag) = &key {
                refuse_secret_name_as_tag(cx, tag)?;
            }
            let before = key.value(&vault.config);
            let after = vault.update_config(|config| key.set(config, &value))?;
            if after.history < vault.config.history {
                trim_history(cx, after.history)?;
            }
            let value = key.value(&after);
            out.emit(&Changed {
                changed: before != value,
                key: key.name(),
                value,
                file,
            })
        }
        ConfigCommand::Unset(ConfigKeyArgs { key }) => {
            let key = Key::parse(&key)?;
            let before = key.value(&vault.config);
            let after = vault.update_config(|config| {
                key.unset(config);
                Ok(())
            })?;
            if after.history < vault.config.history {
                trim_history(cx, after.history)?;
            }
            let changed = before != key.value(&after);
            out.emit(&Changed {
                changed,
                key: key.name(),
                value: None,
                file,
            })
        }
    }
}
