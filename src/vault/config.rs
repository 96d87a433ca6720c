//! `.ampsecret/config.toml`: the vault's plaintext settings. Safe to commit; no secrets.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The config format this build reads and writes.
pub const CONFIG_FORMAT: u32 = 1;

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
}

impl Config {
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        // Check the format before the rest, so a newer layout is reported as such.
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
        let version: Version = toml::from_str(text).map_err(damaged)?;
        if version.format != CONFIG_FORMAT {
            return Err(Error::Key(format!(
                "{} has config format {}, but this ampsecret reads format {CONFIG_FORMAT}; upgrade ampsecret",
                path.display(),
                version.format
            )));
        }
        toml::from_str(text).map_err(damaged)
    }

    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).expect("config serialises");
        format!(
            "# ampsecret vault settings. Safe to commit: secret values live only in vault.age,\n# encrypted to the recipients below.\n{body}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_version_check() {
        let config = Config {
            format: CONFIG_FORMAT,
            vault_id: "abc".into(),
            app_id: Some("d1".into()),
            encryption: Encryption::X25519,
            recipients: vec!["age1x".into()],
        };
        let text = config.to_toml();
        let back = Config::parse(&text, Path::new("c")).unwrap();
        assert_eq!(back.app_id.as_deref(), Some("d1"));
        let newer = text.replace("format = 1", "format = 2");
        let err = Config::parse(&newer, Path::new("c")).unwrap_err();
        assert!(err.to_string().contains("upgrade"), "{err}");
        assert!(Config::parse("garbage = ", Path::new("c")).is_err());
    }
}
