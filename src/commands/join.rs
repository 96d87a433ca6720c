//! `ampsecret join`: a teammate's first command in a fresh clone. Makes their key for this
//! vault and prints exactly what to send to a member.

use crate::cli::JoinArgs;
use crate::error::{Error, Result};
use crate::keystore;
use crate::output::{Output, Render};
use crate::session::Context;
use crate::vault::Encryption;
use serde::Serialize;
use std::io::{self, Write};

/// `--json`: `{"name","key","send","key_location","existing"}`.
#[derive(Serialize)]
struct Joined {
    name: String,
    key: String,
    /// The command a member runs to add you.
    send: String,
    key_location: String,
    /// The key already existed (join was run before).
    existing: bool,
}

impl Render for Joined {
    fn render(&self, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
        let made = if self.existing {
            "You already have a key for this vault"
        } else {
            "Made your key for this vault"
        };
        writeln!(
            err,
            "{made} (in {}). Send this line to a member:",
            self.key_location
        )?;
        writeln!(out, "{}", self.send)?;
        writeln!(
            err,
            "Once they have run it and pushed the commit, pull it: the vault then opens for you."
        )
    }
}

pub fn run(cx: &Context, out: &Output, args: JoinArgs) -> Result<()> {
    let dir = cx.require_vault_dir()?;
    if dir.config.encryption != Encryption::X25519 {
        return Err(Error::Usage(
            "this vault is encrypted with a passphrase: ask a member for it; there is no key to make".into(),
        ));
    }
    let name = args
        .name
        .or_else(|| cx.config.scope_defaults().os_user.clone())
        .unwrap_or_else(|| "teammate".into());
    // Checked here, before a key is made, as 'recipients add' will check it.
    super::recipients::check_member_name(&name)?;
    let (key, location, existing) = match keystore::find_key(&dir.config.vault_id) {
        Ok((key, location)) => (key, location, true),
        Err(Error::Key(_)) => {
            let (identity, location, note) = super::init::new_identity(&dir.config.vault_id)?;
            if let Some(note) = note {
                out.message(format_args!("{note}"));
            }
            (
                crate::vault::Key::Identities(vec![identity]),
                location,
                false,
            )
        }
        Err(e) => return Err(e),
    };
    let public = key
        .public_keys()
        .into_iter()
        .next()
        .ok_or_else(|| Error::Key("the key found has no public key".into()))?;
    let send = format!(
        "ampsecret recipients add '{public}' --name '{}'",
        name.replace('\'', "")
    );
    out.emit(&Joined {
        name,
        key: public,
        send,
        key_location: location.describe(),
        existing,
    })
}
