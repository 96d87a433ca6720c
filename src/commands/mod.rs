//! One module per command, sharing a [`Context`] that resolves what every command needs:
//! the vault, its key, the scope and the app's identity in Amplify.

mod check;
pub mod completions;
mod diff;
mod exec;
mod export;
mod import;
mod init;
mod list;
mod man;
mod path;
mod pull;
mod push;
mod read;
mod remove;
mod set;
mod sync;

use crate::amplify::{self, ParameterScope};
use crate::cli::{Cli, Command, GlobalArgs, ScopeArgs};
use crate::error::{Error, Result};
use crate::keystore;
use crate::project::{self, GitHead};
use crate::prompt;
use crate::scope::{AppIdentity, ScopeKey};
use crate::vault::{Encryption, Key, VaultDir};
use age::secrecy::SecretString;
use std::path::PathBuf;

/// Longest branch name kept in the vault; git allows more, Amplify uses 50 characters.
const MAX_SCOPE_NAME: usize = 1000;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let cx = Context::new(cli.global)?;
    match cli.command {
        Command::Init(args) => init::run(&cx, args),
        Command::Set(args) => set::run(&cx, args),
        Command::Get(args) => read::get(&cx, args),
        Command::List(args) => list::run(&cx, args),
        Command::Remove(args) => remove::run(&cx, args),
        Command::Path(args) => path::run(&cx, args),
        Command::Exec(args) => exec::run(&cx, args),
        Command::Export(args) => export::run(&cx, args),
        Command::Import(args) => import::run(&cx, args),
        Command::Check(args) => check::run(&cx, args),
        Command::Diff(args) => diff::run(&cx, args),
        Command::Push(args) => push::run(&cx, args),
        Command::Pull(args) => pull::run(&cx, args),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => man::run(&cx, args),
    }
}

/// What every command may need, resolved lazily from flags, environment and files.
pub struct Context {
    pub global: GlobalArgs,
    pub cwd: PathBuf,
    /// Prompts are allowed: a terminal is attached and `--no-input` is off.
    pub interactive: bool,
    /// A passphrase typed at the prompt, so a command that unlocks twice (the scope picker,
    /// then the command) asks only once.
    typed_passphrase: std::sync::OnceLock<SecretString>,
}

impl Context {
    fn new(global: GlobalArgs) -> Result<Context> {
        let cwd = std::env::current_dir()
            .map_err(|e| Error::Other(format!("cannot read the current directory: {e}")))?;
        let interactive = prompt::can_prompt(global.no_input);
        Ok(Context {
            global,
            cwd,
            interactive,
            typed_passphrase: std::sync::OnceLock::new(),
        })
    }

    /// The vault directory: `--vault`, else `.ampsecret` at the project root (or here).
    pub fn vault_dir(&self) -> PathBuf {
        match &self.global.vault {
            Some(dir) => self.cwd.join(dir),
            None => project::find_root(&self.cwd)
                .unwrap_or_else(|| self.cwd.clone())
                .join(project::VAULT_DIR),
        }
    }

    pub fn open_vault(&self) -> Result<VaultDir> {
        VaultDir::open(&self.vault_dir())
    }

    /// The key that opens `vault`: from the environment, the keyring or the identity file;
    /// for a passphrase vault, `AMPSECRET_PASSPHRASE` or a prompt.
    pub fn unlock(&self, vault: &VaultDir) -> Result<Key> {
        match vault.config.encryption {
            Encryption::X25519 => {
                let (identities, location) = keystore::find_identity(&vault.config.vault_id)?;
                tracing::debug!("using the key from {}", location.describe());
                Ok(Key::Identities(identities))
            }
            Encryption::Passphrase => self.passphrase(false).map(Key::Passphrase),
        }
    }

    pub fn passphrase(&self, confirm: bool) -> Result<SecretString> {
        if let Some(pass) = keystore::passphrase_from_env() {
            return Ok(pass);
        }
        if !self.interactive {
            return Err(Error::Key(format!(
                "this vault needs a passphrase: set {} or run on a terminal",
                keystore::PASSPHRASE_ENV
            )));
        }
        if let (false, Some(pass)) = (confirm, self.typed_passphrase.get()) {
            return Ok(pass.clone());
        }
        let pass = SecretString::from(prompt::passphrase(confirm)?.to_string());
        Ok(self.typed_passphrase.get_or_init(|| pass).clone())
    }

    /// The app's identity: `--app-id`/`AWS_APP_ID`, else the vault's config; `--app-name`,
    /// else package.json's name.
    pub fn app_identity(&self, vault: Option<&VaultDir>) -> Result<AppIdentity> {
        let app_id = match &self.global.app_id {
            Some(id) => Some(id.clone()),
            None => vault.and_then(|v| v.config.app_id.clone()),
        };
        if let Some(id) = &app_id {
            amplify::validate_app_id(id)
                .map_err(|e| Error::Invalid(format!("app id '{id}': {e}")))?;
        }
        let app_name = match &self.global.app_name {
            Some(name) => Some(name.clone()),
            None => match project::find_root(&self.cwd) {
                Some(root) => project::package_name(&root)?,
                None => None,
            },
        };
        Ok(AppIdentity { app_id, app_name })
    }

    /// The scope named by the flags, else `$AWS_BRANCH`, else the current git branch, else
    /// (on a terminal) one the user picks from the vault's scopes.
    pub fn scope(&self, args: &ScopeArgs) -> Result<ScopeKey> {
        if args.shared {
            return Ok(ScopeKey::Shared);
        }
        if let Some(id) = &args.sandbox {
            return sandbox_scope(id);
        }
        if let Some(branch) = &args.branch {
            return branch_scope(branch, "--branch");
        }
        if let Some(branch) = std::env::var("AWS_BRANCH").ok().filter(|b| !b.is_empty()) {
            return branch_scope(&branch, "AWS_BRANCH");
        }
        let why = match project::git_head(&self.cwd) {
            GitHead::Branch(branch) => return branch_scope(&branch, "the git branch"),
            GitHead::Detached => "git HEAD is detached, so there is no branch to use",
            GitHead::NoRepository => {
                "no scope given, AWS_BRANCH is not set and this is not a git repository"
            }
        };
        if self.interactive
            && let Some(scope) = self.pick_scope()?
        {
            return Ok(scope);
        }
        Err(Error::Usage(format!(
            "{why}: pass --branch NAME, --sandbox or --shared"
        )))
    }

    /// Asks which of the vault's scopes to use; `None` when there is no vault or it is empty.
    fn pick_scope(&self) -> Result<Option<ScopeKey>> {
        let vault = match self.open_vault() {
            Ok(vault) => vault,
            Err(Error::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let plaintext = vault.read(&self.unlock(&vault)?)?;
        let view = plaintext.view()?;
        let scopes: Vec<ScopeKey> = view.scopes.into_iter().map(|s| s.key).collect();
        if scopes.is_empty() {
            return Ok(None);
        }
        let labels: Vec<String> = scopes.iter().map(ToString::to_string).collect();
        let choice = prompt::select("No scope given and no git branch. Which scope?", &labels)?;
        Ok(scopes.into_iter().nth(choice))
    }

    /// Checks `name` and computes its SSM parameter in `scope`; fails before anything is
    /// written when Amplify or SSM would refuse it.
    pub fn parameter(
        &self,
        vault: Option<&VaultDir>,
        scope: &ScopeKey,
        name: &str,
    ) -> Result<(ParameterScope, String)> {
        // A bad name is reported before a missing app id: it is the first thing to fix.
        check_secret_name(name)?;
        let parameter_scope = scope.parameter_scope(&self.app_identity(vault)?)?;
        let full = checked_parameter(&parameter_scope, scope, name)?;
        Ok((parameter_scope, full))
    }
}

/// Checks a secret name against Amplify's rule `^[A-Za-z0-9_.-]+$`.
pub fn check_secret_name(name: &str) -> Result<()> {
    amplify::validate_secret_name(name)
        .map_err(|e| Error::Invalid(format!("secret name '{name}': {e}")))
}

/// The full SSM name of `name` under an already-resolved `parameter_scope`, checked against
/// Amplify's name rule and SSM's limits. Commands that check many names resolve the scope
/// once and call this for each (resolving reads package.json).
pub fn checked_parameter(
    parameter_scope: &ParameterScope,
    scope: &ScopeKey,
    name: &str,
) -> Result<String> {
    check_secret_name(name)?;
    let full = parameter_scope.parameter_name(name);
    amplify::validate_parameter_name(&full)
        .map_err(|e| Error::Invalid(format!("secret {name} in {scope} ({full}): {e}")))?;
    Ok(full)
}

fn sandbox_scope(id: &str) -> Result<ScopeKey> {
    if id.is_empty() {
        let user = project::os_user_name().ok_or_else(|| {
            Error::Usage("cannot read your OS account name: pass --sandbox=ID".into())
        })?;
        return Ok(ScopeKey::Sandbox(user));
    }
    amplify::validate_sandbox_id(id)
        .map_err(|e| Error::Invalid(format!("sandbox id '{id}': {e}")))?;
    Ok(ScopeKey::Sandbox(id.to_owned()))
}

fn branch_scope(branch: &str, source: &str) -> Result<ScopeKey> {
    if branch.is_empty() || branch.len() > MAX_SCOPE_NAME {
        return Err(Error::Invalid(format!(
            "branch name from {source} must be 1 to {MAX_SCOPE_NAME} bytes"
        )));
    }
    Ok(ScopeKey::Branch(branch.to_owned()))
}

/// Says that a value of `len` bytes needs SSM's Advanced tier (values over 4 KB).
pub fn warn_advanced_tier(name: &str, len: usize) {
    eprintln!(
        "warning: the value of {name} is {len} bytes; above {} bytes SSM needs the Advanced tier",
        crate::secret::STANDARD_TIER_MAX
    );
}

/// Formats Unix seconds as RFC 3339 (UTC).
pub fn timestamp(secs: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
        .to_string()
}

/// The current time in Unix seconds.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Prints one JSON document on stdout.
pub fn print_json(value: &serde_json::Value) {
    println!("{value}");
}
