//! `.ampsecret/config.toml`: the vault's plaintext settings. Safe to commit; no secrets.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The config format this build reads and writes.
pub const CONFIG_FORMAT: u32 = 1;

/// How many versions of each secret the vault keeps when config.toml does not say.
pub const DEFAULT_HISTORY: u16 = 10;
/// The most versions per secret `history` may ask for: every version is re-encrypted on
/// every write.
pub const MAX_HISTORY: u16 = 100;

/// The most tags SSM puts on one parameter.
pub const MAX_TAGS: usize = 50;

/// Checks a tag as SSM's `PutParameter` and `AddTagsToResource` take it: a key of 1 to 128
/// and a value of up to 256 letters, digits, spaces and `_ . : / = + - @`, and no key in
/// AWS's reserved `aws:` prefix. `Err` says which rule was broken.
pub fn check_tag(key: &str, value: &str) -> std::result::Result<(), String> {
    // Spaces (Unicode's separators), never a control character such as a newline or tab.
    let allowed = |c: char| {
        c.is_alphanumeric() || (c.is_whitespace() && !c.is_control()) || "_.:/=+-@".contains(c)
    };
    let (key_len, value_len) = (key.chars().count(), value.chars().count());
    if !(1..=128).contains(&key_len) {
        return Err(format!(
            "a tag key has 1 to 128 characters, '{key}' has {key_len}"
        ));
    }
    if value_len > 256 {
        return Err(format!(
            "a tag value has at most 256 characters, not {value_len}"
        ));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err(format!(
            "tag key '{key}': the aws: prefix is reserved by AWS"
        ));
    }
    if let Some(c) = key.chars().chain(value.chars()).find(|c| !allowed(*c)) {
        return Err(format!(
            "tag {key}: '{}' is not allowed (SSM takes letters, digits, spaces and _ . : / = + - @)",
            c.escape_default()
        ));
    }
    Ok(())
}

/// Length in hex digits of the vault id `init` writes (12 random bytes).
const VAULT_ID_LEN: usize = 24;

/// A new random vault id, in the only form [`Config::parse`] accepts.
pub fn new_vault_id() -> String {
    hex::encode(rand::random::<[u8; VAULT_ID_LEN / 2]>())
}

/// Whether `id` has the form `init` writes: 24 lowercase hex digits. The id names the key's
/// file and keyring entry, so anything else (`../../x`) is refused before it is used.
fn is_vault_id(id: &str) -> bool {
    id.len() == VAULT_ID_LEN && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// How the vault is encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encryption {
    /// To the X25519 public keys in `recipients`.
    X25519,
    /// To a passphrase (scrypt).
    Passphrase,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Format version; a newer one is refused, never rewritten.
    pub format: u32,
    /// Random id naming this vault's key in the OS keyring and the identity-file fallback.
    pub vault_id: String,
    /// The Amplify app id, for branch and shared scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    pub encryption: Encryption,
    /// age public keys (`age1…`) the vault is encrypted to; add a teammate's to share it.
    #[serde(default)]
    pub recipients: Vec<String>,
    /// Versions of each secret kept in the vault, the current one included (1 keeps none
    /// before it).
    #[serde(
        default = "default_history",
        skip_serializing_if = "is_default_history"
    )]
    pub history: u16,
    /// Tags `push` puts on every parameter it writes (`push --tag` adds to them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

fn default_history() -> u16 {
    DEFAULT_HISTORY
}

fn is_default_history(depth: &u16) -> bool {
    *depth == DEFAULT_HISTORY
}

impl Config {
    /// A new vault's settings: the defaults for everything not given.
    pub fn new(
        vault_id: String,
        app_id: Option<String>,
        encryption: Encryption,
        recipients: Vec<String>,
    ) -> Config {
        Config {
            format: CONFIG_FORMAT,
            vault_id,
            app_id,
            encryption,
            recipients,
            history: DEFAULT_HISTORY,
            tags: BTreeMap::new(),
        }
    }

    /// Parses and checks every setting.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let config = Self::parse_unchecked(text, path)?;
        if !(1..=MAX_HISTORY).contains(&config.history) {
            return Err(Error::Key(format!(
                "{}: history is {}, but it must be 1 to {MAX_HISTORY} (versions kept per secret); fix it with 'ampsecret config set history 10'",
                path.display(),
                config.history
            )));
        }
        if let Some(app_id) = &config.app_id
            && let Err(e) = crate::amplify::validate_app_id(app_id)
        {
            return Err(Error::Key(format!(
                "{}: app_id '{}' {e}; fix it with 'ampsecret config set app_id ID'",
                path.display(),
                crate::text::escape(app_id)
            )));
        }
        for (key, value) in &config.tags {
            check_tag(key, value).map_err(|e| {
                Error::Key(format!(
                    "{}: [tags]: {}; fix it with 'ampsecret config unset tags.{}'",
                    path.display(),
                    crate::text::escape(&e),
                    crate::text::escape(key)
                ))
            })?;
        }
        Ok(config)
    }

    /// Parses the format and the vault id (what naming the key relies on), not the other
    /// settings: what `config set` reads, so that it can repair one.
    pub fn parse_unchecked(text: &str, path: &Path) -> Result<Config> {
        #[derive(Deserialize)]
        struct Version {
            format: u32,
        }
        let damaged = |e: toml::de::Error| {
            Error::Key(format!(
                "{} is not a valid ampsecret config ({}); restore it from version control",
                path.display(),
                e.message().split_whitespace().collect::<Vec<_>>().join(" ")
            ))
        };
        // One parse: the format is read again on its own only when the settings do not
        // parse, so that a newer layout is reported as such.
        let config: Config = match toml::from_str(text) {
            Ok(config) => config,
            Err(e) => match toml::from_str::<Version>(text) {
                Ok(version) if version.format != CONFIG_FORMAT => {
                    return Err(newer_format(path, version.format));
                }
                _ => return Err(damaged(e)),
            },
        };
        if config.format != CONFIG_FORMAT {
            return Err(newer_format(path, config.format));
        }
        if !is_vault_id(&config.vault_id) {
            return Err(Error::Key(format!(
                "{}: vault_id is not {VAULT_ID_LEN} lowercase hex digits (the form 'ampsecret init' writes); restore the file from version control",
                path.display()
            )));
        }
        Ok(config)
    }

    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).expect("config serialises");
        format!(
            "# ampsecret vault settings. Safe to commit: secret values live only in vault.age,\n# encrypted to the recipients below.\n{body}"
        )
    }
}

fn newer_format(path: &Path, format: u32) -> Error {
    Error::Key(format!(
        "{} has config format {format}, but this ampsecret reads format {CONFIG_FORMAT}; upgrade ampsecret",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_version_check() {
        let config = Config {
            format: CONFIG_FORMAT,
            vault_id: new_vault_id(),
            app_id: Some("d1".into()),
            encryption: Encryption::X25519,
            recipients: vec!["age1x".into()],
            history: DEFAULT_HISTORY,
            tags: BTreeMap::new(),
        };
        let text = config.to_toml();
        let back = Config::parse(&text, Path::new("c")).unwrap();
        assert_eq!(back.app_id.as_deref(), Some("d1"));
        let newer = text.replace("format = 1", "format = 2");
        let err = Config::parse(&newer, Path::new("c")).unwrap_err();
        assert!(err.to_string().contains("upgrade"), "{err}");
        // A newer format whose settings this release cannot read is reported as newer too.
        let newer = newer.replace("\"x25519\"", "\"pq-hybrid\"");
        assert!(newer.contains("pq-hybrid"));
        let err = Config::parse(&newer, Path::new("c")).unwrap_err();
        assert!(err.to_string().contains("format 2"), "{err}");
        let damaged = text.replace("\"x25519\"", "\"pq-hybrid\"");
        let err = Config::parse(&damaged, Path::new("c")).unwrap_err();
        assert!(err.to_string().contains("not a valid"), "{err}");
        assert!(Config::parse("garbage = ", Path::new("c")).is_err());
        assert!(
            !text.contains("history"),
            "the default depth is not written: {text}"
        );
        for bad in ["0", "101"] {
            let deep = format!("{text}history = {bad}\n");
            let err = Config::parse(&deep, Path::new("c")).unwrap_err();
            assert!(err.to_string().contains("history is"), "{bad}: {err}");
        }
        assert!(check_tag("team", "web platform").is_ok());
        for (key, value) in [("aws:x", "v"), ("", "v"), ("team", "a\nb"), ("t", "{{x}}")] {
            assert!(check_tag(key, value).is_err(), "{key:?} {value:?}");
        }
        let tagged = format!("{text}history = 3\n[tags]\nteam = \"web\"\n");
        let back = Config::parse(&tagged, Path::new("c")).unwrap();
        assert_eq!((back.history, back.tags.len()), (3, 1));
        let id = config.vault_id.clone();
        for bad in ["../../../etc/key", "ABCDEF0123456789ABCDEF01", "abc", ""] {
            let forged = text.replace(&id, bad);
            let err = Config::parse(&forged, Path::new("c")).unwrap_err();
            assert!(err.to_string().contains("vault_id"), "{bad}: {err}");
        }
    }
}
