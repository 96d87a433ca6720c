//! The invocation, resolved once at start from the global flags and the environment: where
//! the project and its vault are, whether prompts are allowed, how output is shown, the app's
//! identity in Amplify and what a scope defaults to. Immutable once built.

use crate::cli::GlobalArgs;
use crate::error::{Error, Result};
use crate::project;
use crate::scope::{AppIdentity, Defaults};
use crate::{amplify, prompt};
use std::cell::OnceCell;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Config {
    pub cwd: PathBuf,
    /// The project root (see [`project::find_root`]), if there is one.
    pub project_root: Option<PathBuf>,
    /// `--vault`, else `.ampsecret` at the project root (or here).
    pub vault_dir: PathBuf,
    /// Print JSON on stdout (and errors as JSON).
    pub json: bool,
    pub verbose: u8,
    /// Prompts are allowed: a terminal is attached and `--no-input` is off.
    pub interactive: bool,
    /// `--app-id` or `$AWS_APP_ID`; the vault's config supplies one otherwise.
    pub app_id: Option<String>,
    /// `--app-name`.
    app_name_flag: Option<String>,
    /// Read on first use (see [`Config::app_name`]).
    app_name: OnceCell<Result<Option<String>, String>>,
    /// Read on first use (see [`Config::scope_defaults`]).
    scope_defaults: OnceCell<Defaults>,
    /// `$CI` is set (not empty, `false` or `0`): running in a CI system, where logs are kept.
    pub ci: bool,
}

impl Config {
    pub fn new(global: &GlobalArgs) -> Result<Config> {
        let cwd = std::env::current_dir()
            .map_err(|e| Error::Other(format!("cannot read the current directory: {e}")))?;
        let project_root = project::find_root(&cwd);
        let vault_dir = match &global.vault {
            Some(dir) => cwd.join(dir),
            None => project_root
                .clone()
                .unwrap_or_else(|| cwd.clone())
                .join(project::VAULT_DIR),
        };
        Ok(Config {
            interactive: prompt::can_prompt(global.no_input),
            json: global.json,
            verbose: global.verbose,
            app_id: global.app_id.clone(),
            cwd,
            project_root,
            vault_dir,
            app_name_flag: global.app_name.clone(),
            app_name: OnceCell::new(),
            scope_defaults: OnceCell::new(),
            ci: std::env::var("CI").is_ok_and(|v| !matches!(v.as_str(), "" | "false" | "0")),
        })
    }

    /// What a scope defaults to when the command line names none: read when first asked (a
    /// command given its scope reads neither git nor the account database, see
    /// [`crate::scope::resolve`]).
    pub fn scope_defaults(&self) -> &Defaults {
        self.scope_defaults.get_or_init(|| Defaults {
            aws_branch: std::env::var("AWS_BRANCH").ok().filter(|b| !b.is_empty()),
            git_head: project::git_head(&self.cwd),
            os_user: crate::sys::os_user_name(),
            package_name: self.app_name().clone(),
        })
    }

    /// `--app-name`, else the project's package.json `"name"`, read on first use (a command
    /// on a branch needs neither); `Err` holds why package.json could not be read, reported
    /// only when a command needs the name.
    fn app_name(&self) -> &Result<Option<String>, String> {
        self.app_name
            .get_or_init(|| match (&self.app_name_flag, &self.project_root) {
                (Some(name), _) => Ok(Some(name.clone())),
                (None, Some(root)) => project::package_name(root).map_err(|e| e.to_string()),
                (None, None) => Ok(None),
            })
    }

    /// The app id from the flags or environment, else `vault_app_id` (the vault's config).
    pub fn app_id<'a>(&'a self, vault_app_id: Option<&'a str>) -> Result<Option<&'a str>> {
        let app_id = self.app_id.as_deref().or(vault_app_id);
        if let Some(id) = app_id {
            amplify::validate_app_id(id)
                .map_err(|e| Error::Invalid(format!("app id '{id}': {e}")))?;
        }
        Ok(app_id)
    }

    /// The app's identity: its [`Config::app_id`] and the sandbox namespace from
    /// `--app-name` or package.json.
    pub fn app_identity(&self, vault_app_id: Option<&str>) -> Result<AppIdentity> {
        Ok(AppIdentity {
            app_id: self.app_id(vault_app_id)?.map(str::to_owned),
            app_name: self.app_name().clone().map_err(Error::Invalid)?,
        })
    }
}
