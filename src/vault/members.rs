//! Members' public keys: an age X25519 key (`age1…`) or an OpenSSH public key line
//! (`ssh-ed25519 AAAA… comment`, `ssh-rsa …`), each turned into the age recipient the vault is
//! encrypted to.

use age::{ssh, x25519};
use std::str::FromStr;

/// A member's public key in its stored form: `age1…`, or `TYPE BASE64` for SSH (the comment
/// is dropped: it is not part of the key). The comment, if any, is returned as a name hint.
pub fn normalize(text: &str) -> Result<(String, Option<String>), String> {
    let text = text.trim();
    if text.starts_with("age1") {
        let recipient = x25519::Recipient::from_str(text)
            .map_err(|_| format!("'{}' is not an age public key", shorten(text)))?;
        return Ok((recipient.to_string(), None));
    }
    if text.starts_with("ssh-") {
        let mut words = text.split_whitespace();
        let key: String = words.by_ref().take(2).collect::<Vec<_>>().join(" ");
        let comment = words.collect::<Vec<_>>().join(" ");
        let recipient = ssh::Recipient::from_str(&key).map_err(|e| {
            format!(
                "'{}' is not an SSH public key age can encrypt to ({e:?}); use ssh-ed25519 or ssh-rsa",
                shorten(text)
            )
        })?;
        return Ok((
            recipient.to_string(),
            Some(comment).filter(|c| !c.is_empty()),
        ));
    }
    Err(format!(
        "'{}' is not a public key: give an age key (age1…) or an OpenSSH public key line (ssh-ed25519 …)",
        shorten(text)
    ))
}

/// The age recipient for a stored key.
pub fn recipient(stored: &str) -> Result<Box<dyn age::Recipient + Send>, String> {
    if stored.starts_with("ssh-") {
        ssh::Recipient::from_str(stored)
            .map(|r| Box::new(r) as Box<dyn age::Recipient + Send>)
            .map_err(|e| format!("'{}' is not a usable SSH key ({e:?})", shorten(stored)))
    } else {
        x25519::Recipient::from_str(stored)
            .map(|r| Box::new(r) as Box<dyn age::Recipient + Send>)
            .map_err(|_| format!("'{}' is not an age public key", shorten(stored)))
    }
}

/// A key shortened for messages: enough to recognise it.
pub fn shorten(key: &str) -> String {
    // A key hand-written into config.toml is shown escaped: it must not act on the terminal.
    let key = crate::text::escape(key);
    if key.chars().count() <= 24 {
        key.into_owned()
    } else {
        let head: String = key.chars().take(20).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_and_ssh_keys() {
        let id = x25519::Identity::generate();
        let public = id.to_public().to_string();
        assert_eq!(
            normalize(&format!("  {public}\n")).unwrap(),
            (public.clone(), None)
        );
        assert!(recipient(&public).is_ok());
        // ssh-keygen -t ed25519 output, with its comment.
        let line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB/VHtZ6yZxc carol@laptop";
        let (key, comment) = normalize(line).unwrap();
        assert_eq!(
            key,
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB/VHtZ6yZxc"
        );
        assert_eq!(comment.as_deref(), Some("carol@laptop"));
        assert!(recipient(&key).is_ok());
        assert!(normalize("age1notakey").is_err());
        assert!(normalize("hello").unwrap_err().contains("age1"));
        assert!(normalize("ssh-dss AAAA").is_err());
    }
}
