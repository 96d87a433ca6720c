//! What a command works with: the [`Config`] of this invocation, and the vault it points at,
//! opened, unlocked and decrypted at most once however many times a command (or the scope
//! picker before it) asks.

use crate::amplify::ParameterScope;
use crate::cli::ScopeArgs;
use crate::config::Config;
use crate::effective::Lookup;
use crate::error::{Error, Result};
use crate::keystore;
use crate::prompt;
use crate::scope::{self, AppIdentity, ScopeKey};
use crate::vault::{Encryption, Key, Part, Payload, VaultDir, VaultView};
use age::secrecy::SecretString;
use std::cell::OnceCell;

pub struct Context {
    pub config: Config,
    /// The vault directory's config, read on first use; `None` when there is no vault.
    opened: OnceCell<Option<VaultDir>>,
    key: OnceCell<Key>,
    /// vault.age, decrypted as far as it was read.
    payload: OnceCell<Payload>,
}

/// An unlocked vault: read it with [`OpenVault::view`], change it with [`VaultDir::update`].
pub struct OpenVault<'a> {
    pub dir: &'a VaultDir,
    pub key: &'a Key,
    payload: &'a Payload,
}

impl OpenVault<'_> {
    /// The whole decrypted payload, parsed without copying.
    pub fn view(&self) -> Result<VaultView<'_>> {
        self.payload.view(self.key)
    }

    /// Only what holds `secrets` (scope, name) and all of `scopes`: what `get` decrypts.
    pub fn part(&self, secrets: &[(&ScopeKey, &str)], scopes: &[&ScopeKey]) -> Result<Part<'_>> {
        self.payload.part(self.key, secrets, scopes)
    }

    /// The member whose key opened the vault, by name (what history and tombstones record).
    pub fn member_name(&self) -> Option<String> {
        let team = self.payload.team(self.key).ok()?;
        team.member_holding(self.key).map(|m| m.name.clone())
    }
}

impl Context {
    pub fn new(config: Config) -> Context {
        Context {
            config,
            opened: OnceCell::new(),
            key: OnceCell::new(),
            payload: OnceCell::new(),
        }
    }

    /// The vault directory, if one exists (its config is read; nothing is decrypted).
    pub fn vault_dir(&self) -> Result<Option<&VaultDir>> {
        self.open_vault_dir(VaultDir::open)
    }

    /// The vault directory for `config`, whose settings are read without their checks, so
    /// that `config set` can repair one that fails them.
    pub fn vault_dir_to_repair(&self) -> Result<&VaultDir> {
        self.open_vault_dir(VaultDir::open_to_repair)?
            .ok_or_else(|| self.no_vault())
    }

    fn open_vault_dir(
        &self,
        open: impl FnOnce(&std::path::Path) -> Result<VaultDir>,
    ) -> Result<Option<&VaultDir>> {
        if let Some(opened) = self.opened.get() {
            return Ok(opened.as_ref());
        }
        let opened = match open(&self.config.vault_dir) {
            Ok(dir) => Some(dir),
            Err(Error::NoVault { .. }) => None,
            Err(e) => return Err(e),
        };
        Ok(self.opened.get_or_init(|| opened).as_ref())
    }

    /// The vault directory; a missing vault is an error that says how to create one.
    pub fn require_vault_dir(&self) -> Result<&VaultDir> {
        self.vault_dir()?.ok_or_else(|| self.no_vault())
    }

    /// Why there is no vault. Outside any project (no vault, backend, package.json or .git
    /// here or above) `init` is not the answer: it would make a vault in this folder, which
    /// may be the home directory.
    pub fn no_vault(&self) -> Error {
        let config = &self.config;
        let default_location = config.vault_dir == config.cwd.join(crate::project::VAULT_DIR);
        if config.project_root.is_none() && default_location {
            return Error::NotFound(format!(
                "no ampsecret project here: neither {} nor a folder above it has a .ampsecret vault, an amplify/ backend, a package.json or a .git; run ampsecret from your app's folder ('ampsecret init' there creates the vault), or pass --vault DIR",
                config.cwd.display()
            ));
        }
        Error::NoVault {
            dir: config.vault_dir.clone(),
        }
    }

    /// The unlocked, decrypted vault.
    pub fn vault(&self) -> Result<OpenVault<'_>> {
        let dir = self.require_vault_dir()?;
        let key = self.key()?;
        let payload = match self.payload.get() {
            Some(payload) => payload,
            None => {
                // Opened lazily: `get` reads one scope's file, not vault.age.
                self.payload.get_or_init(|| dir.payload())
            }
        };
        Ok(OpenVault { dir, key, payload })
    }

    /// The vault's key, without decrypting vault.age: for a command that reads it itself
    /// (under the write lock, or another version of it for git).
    pub fn key(&self) -> Result<&Key> {
        if let Some(key) = self.key.get() {
            return Ok(key);
        }
        let key = self.unlock(self.require_vault_dir()?)?;
        Ok(self.key.get_or_init(|| key))
    }

    /// The key that opens `vault`: from the environment, the keyring or the identity file;
    /// for a passphrase vault, `AMPSECRET_PASSPHRASE` or a prompt.
    fn unlock(&self, vault: &VaultDir) -> Result<Key> {
        match vault.config.encryption {
            Encryption::X25519 => {
                let (key, location) = keystore::find_key(&vault.config.vault_id)?;
                tracing::debug!("using the key from {}", location.describe());
                Ok(key)
            }
            Encryption::Passphrase => self.passphrase(false).map(Key::Passphrase),
        }
    }

    /// A vault passphrase: `AMPSECRET_PASSPHRASE`, else asked for (twice when `confirm`).
    pub fn passphrase(&self, confirm: bool) -> Result<SecretString> {
        if let Some(pass) = keystore::passphrase_from_env() {
            return Ok(pass);
        }
        if !self.config.interactive {
            return Err(Error::Key(format!(
                "this vault needs a passphrase: set {} or run on a terminal",
                keystore::PASSPHRASE_ENV
            )));
        }
        Ok(SecretString::from(prompt::passphrase(confirm)?.to_string()))
    }

    /// The app's identity, with the vault's app id as the fallback.
    pub fn app_identity(&self) -> Result<AppIdentity> {
        self.config.app_identity(self.vault_app_id()?)
    }

    /// The app id of the flags or environment, else of the vault's config.
    fn app_id(&self) -> Result<Option<&str>> {
        self.config.app_id(self.vault_app_id()?)
    }

    fn vault_app_id(&self) -> Result<Option<&str>> {
        Ok(self
            .vault_dir()?
            .and_then(|vault| vault.config.app_id.as_deref()))
    }

    /// The scope named by the flags, else `$AWS_BRANCH`, else the current git branch, else
    /// (on a terminal) one the user picks from the vault's scopes.
    pub fn scope(&self, args: &ScopeArgs) -> Result<ScopeKey> {
        let key = match scope::resolve(args.requested().as_ref(), || self.config.scope_defaults()) {
            // No vault is the first thing to fix, before which scope to use.
            Err(Error::NoScope { .. }) if self.vault_dir()?.is_none() => Err(self.no_vault()),
            Err(Error::NoScope { why }) if self.config.interactive => {
                self.pick_scope()?.ok_or(Error::NoScope { why })
            }
            resolved => resolved,
        }?;
        Ok(self.canonical(key))
    }

    /// A scope written as `list` shows it (`copy --from/--to`), checked like the flags.
    pub fn parse_scope(&self, text: &str, what: &str) -> Result<ScopeKey> {
        ScopeKey::parse_checked(text, what).map(|key| self.canonical(key))
    }

    /// `shared:<the app id>` is the `shared` scope.
    fn canonical(&self, key: ScopeKey) -> ScopeKey {
        key.canonical(self.app_id().unwrap_or_default())
    }

    /// `scope` and the shared scope a deployment of it falls back to. A fallback SSM cannot
    /// hold (a scoped package name) is kept, so nothing resolves from it, with a warning.
    pub fn lookup(&self, scope: ScopeKey) -> Result<Lookup> {
        let fallback = scope.fallback(&self.app_identity()?)?;
        if let Some(ScopeKey::SharedNamespace(namespace)) = &fallback
            && let Err(e) = crate::amplify::validate_shared_namespace(namespace)
        {
            // A warning for the person, like every other: not a diagnostic log line.
            crate::output::Output {
                json: self.config.json,
            }
            .message(format_args!(
                "warning: {scope} falls back to /amplify/shared/{namespace}, which can hold \
                 nothing: {e}"
            ));
        }
        Ok(Lookup { scope, fallback })
    }

    /// Asks which of the vault's scopes to use; `None` when there is no vault or it is empty.
    fn pick_scope(&self) -> Result<Option<ScopeKey>> {
        if self.vault_dir()?.is_none() {
            return Ok(None);
        }
        let vault = self.vault()?;
        let view = vault.view()?;
        let scopes: Vec<ScopeKey> = view.scopes.into_iter().map(|s| s.key).collect();
        if scopes.is_empty() {
            return Ok(None);
        }
        let labels: Vec<String> = scopes.iter().map(ToString::to_string).collect();
        let choice = prompt::select("No scope given and no git branch. Which scope?", &labels)?;
        Ok(scopes.into_iter().nth(choice))
    }

    /// Fails when a change needs consent that nobody can give: no `--yes` and no terminal
    /// (`preview`: the command has `--dry-run` too). Checked before a plan is shown, so a
    /// script gets one line.
    pub fn require_consent(&self, yes: bool, command: &'static str, preview: bool) -> Result<()> {
        if yes || self.config.interactive {
            Ok(())
        } else {
            Err(Error::NeedsYes { command, preview })
        }
    }

    /// Goes ahead when `yes`; otherwise asks `question` on a terminal ("no" cancels) and
    /// tells a script to pass `--yes`.
    pub fn confirm(
        &self,
        yes: bool,
        command: &'static str,
        preview: bool,
        question: &str,
    ) -> Result<()> {
        self.require_consent(yes, command, preview)?;
        if yes {
            return Ok(());
        }
        if prompt::confirm(question, false)? {
            Ok(())
        } else {
            Err(Error::Cancelled)
        }
    }

    /// The SSM scope of `scope`, and the checked SSM name of `name` in it: fails before
    /// anything is written when Amplify or SSM would refuse it.
    pub fn parameter(&self, scope: &ScopeKey, name: &str) -> Result<(ParameterScope, String)> {
        // A bad name is reported before a missing app id: it is the first thing to fix.
        check_name(name)?;
        let parameter_scope = scope.parameter_scope(&self.app_identity()?)?;
        let full = checked_parameter(&parameter_scope, name)?;
        Ok((parameter_scope, full))
    }
}

/// The checked SSM name of `name` under an already-resolved scope (commands that check many
/// names resolve the scope once).
pub fn checked_parameter(parameter_scope: &ParameterScope, name: &str) -> Result<String> {
    parameter_scope
        .checked_parameter_name(name)
        .map_err(|e| Error::parameter(name, e))
}

/// `name` is not in `scope` (nor in `fallback`, when that was looked in too): the error
/// names the vault's other scopes that hold it, else the closest name the scopes looked in
/// hold.
pub fn secret_not_found(
    view: &VaultView<'_>,
    scope: &ScopeKey,
    name: &str,
    fallback: Option<&ScopeKey>,
) -> Error {
    let looked_in = |key: &ScopeKey| key == scope || Some(key) == fallback;
    let elsewhere: Vec<ScopeKey> = view
        .scopes
        .iter()
        .filter(|s| !looked_in(&s.key) && s.secrets.iter().any(|e| e.name == name))
        .map(|s| s.key.clone())
        .collect();
    let nearby = view
        .scopes
        .iter()
        .filter(|s| looked_in(&s.key))
        .flat_map(|s| s.secrets.iter().map(|e| e.name));
    Error::secret_not_found(
        scope.clone(),
        name,
        fallback.cloned(),
        &elsewhere,
        crate::text::closest(name, nearby),
    )
}

/// Checks a secret name against Amplify's rule `^[A-Za-z0-9_.-]+$`.
pub fn check_name(name: &str) -> Result<()> {
    crate::amplify::validate_secret_name(name)
        .map_err(|e| Error::parameter(name, crate::amplify::ParameterError::Name(e)))
}
