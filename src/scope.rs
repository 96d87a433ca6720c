//! Scopes: where a secret belongs (a branch, a sandbox, or shared by the whole app) and how a
//! scope maps to Amplify's SSM prefix.

use crate::amplify::{self, BackendKind, ParameterScope};
use crate::error::{Error, Result};
use crate::project::GitHead;
use std::fmt;

/// Longest branch name kept in the vault; git allows more, Amplify uses 50 characters.
const MAX_BRANCH_NAME: usize = 1000;

/// The scope a command line asks for, before defaults apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    Shared,
    Branch(String),
    /// `--sandbox` (`None`: the OS account name) or `--sandbox=ID`.
    Sandbox(Option<String>),
}

/// What a scope defaults to when the command line names none; read once at start.
#[derive(Debug, Clone)]
pub struct Defaults {
    /// `$AWS_BRANCH`, set by Amplify Hosting.
    pub aws_branch: Option<String>,
    pub git_head: GitHead,
    /// The OS account name: a sandbox's default id, as `ampx sandbox` takes it.
    pub os_user: Option<String>,
}

/// The scope for `requested`, else `$AWS_BRANCH`, else the git branch. `Err(NoScope)` when
/// none applies (the caller may then ask on a terminal).
pub fn resolve(requested: Option<&Requested>, defaults: &Defaults) -> Result<ScopeKey> {
    match requested {
        Some(Requested::Shared) => return Ok(ScopeKey::Shared),
        Some(Requested::Sandbox(None)) => {
            let user = defaults.os_user.clone().ok_or_else(|| {
                Error::Usage("cannot read your OS account name: pass --sandbox=ID".into())
            })?;
            refuse_unusual_characters(&user, "sandbox id from your OS account name")?;
            return Ok(ScopeKey::Sandbox(user));
        }
        Some(Requested::Sandbox(Some(id))) => {
            amplify::validate_sandbox_id(id)
                .map_err(|e| Error::Invalid(format!("sandbox id '{id}': {e}")))?;
            return Ok(ScopeKey::Sandbox(id.clone()));
        }
        Some(Requested::Branch(branch)) => return branch_scope(branch, "--branch"),
        None => {}
    }
    if let Some(branch) = &defaults.aws_branch {
        return branch_scope(branch, "AWS_BRANCH");
    }
    let why = match &defaults.git_head {
        GitHead::Branch(branch) => return branch_scope(branch, "the git branch"),
        GitHead::Detached => "git HEAD is detached, so there is no branch to use",
        GitHead::NoRepository => {
            "no scope given, AWS_BRANCH is not set and this is not a git repository"
        }
    };
    Err(Error::NoScope { why })
}

fn branch_scope(branch: &str, source: &str) -> Result<ScopeKey> {
    if branch.is_empty() || branch.len() > MAX_BRANCH_NAME {
        return Err(Error::Invalid(format!(
            "branch name from {source} must be 1 to {MAX_BRANCH_NAME} bytes"
        )));
    }
    refuse_unusual_characters(branch, &format!("branch name from {source}"))?;
    Ok(ScopeKey::Branch(branch.to_owned()))
}

/// Refuses a scope name holding control characters or invisible formatting characters: it
/// would be stored, then shown on terminals and offered by shell completion.
fn refuse_unusual_characters(name: &str, what: &str) -> Result<()> {
    if name.chars().any(crate::text::is_unusual) {
        return Err(Error::Invalid(format!(
            "{what} '{}' contains control or invisible characters; use a name without them",
            crate::text::escape(name)
        )));
    }
    Ok(())
}

/// A scope as the vault stores it. The app id and package name are not part of the key:
/// they belong to the project, and are applied when a path is computed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ScopeKey {
    /// Secrets every branch of the app falls back to.
    Shared,
    /// A branch deployment, by raw git branch name.
    Branch(String),
    /// A personal sandbox, by raw identifier.
    Sandbox(String),
}

impl ScopeKey {
    /// Parses the display form (`shared`, `branch:NAME`, `sandbox:ID`).
    pub fn parse(text: &str) -> Option<ScopeKey> {
        match text.split_once(':') {
            None if text == "shared" => Some(ScopeKey::Shared),
            Some(("branch", name)) if !name.is_empty() => Some(ScopeKey::Branch(name.into())),
            Some(("sandbox", id)) if !id.is_empty() => Some(ScopeKey::Sandbox(id.into())),
            _ => None,
        }
    }

    /// Maps the scope to Amplify's SSM inputs. Branch and shared scopes need the app id;
    /// a sandbox needs the package name (its namespace).
    pub fn parameter_scope(&self, app: &AppIdentity) -> Result<ParameterScope> {
        Ok(match self {
            ScopeKey::Shared => ParameterScope::Shared {
                namespace: app.require_app_id(self)?.to_owned(),
            },
            ScopeKey::Branch(name) => ParameterScope::Backend {
                kind: BackendKind::Branch,
                namespace: app.require_app_id(self)?.to_owned(),
                name: name.clone(),
            },
            ScopeKey::Sandbox(id) => ParameterScope::Backend {
                kind: BackendKind::Sandbox,
                namespace: app.require_app_name()?.to_owned(),
                name: id.clone(),
            },
        })
    }
}

impl fmt::Display for ScopeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Escaped: a vault written by an older version (or forged) may hold a name with
        // control characters, and this form reaches terminals.
        match self {
            ScopeKey::Shared => f.write_str("shared"),
            ScopeKey::Branch(name) => write!(f, "branch:{}", crate::text::escape(name)),
            ScopeKey::Sandbox(id) => write!(f, "sandbox:{}", crate::text::escape(id)),
        }
    }
}

/// The app's identity in Amplify: the app id (branch and shared scopes) and the sandbox
/// namespace (the raw `name` of package.json).
#[derive(Debug, Clone, Default)]
pub struct AppIdentity {
    pub app_id: Option<String>,
    pub app_name: Option<String>,
}

impl AppIdentity {
    fn require_app_id(&self, scope: &ScopeKey) -> Result<&str> {
        self.app_id.as_deref().ok_or_else(|| {
            Error::Usage(format!(
                "no Amplify app id for the {scope} scope: pass --app-id, set AWS_APP_ID, or run 'ampsecret init --app-id ID'"
            ))
        })
    }

    fn require_app_name(&self) -> Result<&str> {
        self.app_name.as_deref().ok_or_else(|| {
            Error::Usage(
                "no package name for the sandbox scope: add a package.json with a \"name\" at the project root, or pass --app-name".into(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_round_trips() {
        for key in [
            ScopeKey::Shared,
            ScopeKey::Branch("feature/login".into()),
            ScopeKey::Sandbox("alice".into()),
        ] {
            assert_eq!(ScopeKey::parse(&key.to_string()), Some(key));
        }
        assert_eq!(ScopeKey::parse("branch:"), None);
        assert_eq!(ScopeKey::parse("other:x"), None);
    }

    #[test]
    fn flags_then_aws_branch_then_git() {
        let mut defaults = Defaults {
            aws_branch: None,
            git_head: GitHead::Branch("dev".into()),
            os_user: Some("alice".into()),
        };
        let branch = |b: &str| ScopeKey::Branch(b.into());
        assert_eq!(resolve(None, &defaults).unwrap(), branch("dev"));
        defaults.aws_branch = Some("main".into());
        assert_eq!(resolve(None, &defaults).unwrap(), branch("main"));
        let sandbox = Requested::Sandbox(None);
        assert_eq!(
            resolve(Some(&sandbox), &defaults).unwrap(),
            ScopeKey::Sandbox("alice".into())
        );
        let bad = Requested::Sandbox(Some("not valid!".into()));
        assert_eq!(resolve(Some(&bad), &defaults).unwrap_err().exit_code(), 5);
        defaults.aws_branch = None;
        defaults.git_head = GitHead::Detached;
        let err = resolve(None, &defaults).unwrap_err();
        assert!(matches!(err, Error::NoScope { .. }), "{err}");
        let long = Requested::Branch("x".repeat(MAX_BRANCH_NAME + 1));
        assert!(resolve(Some(&long), &defaults).is_err());
    }

    #[test]
    fn missing_identity_is_a_usage_error() {
        let app = AppIdentity::default();
        let err = ScopeKey::Shared.parameter_scope(&app).unwrap_err();
        assert!(err.to_string().contains("--app-id"));
        let err = ScopeKey::Sandbox("a".into())
            .parameter_scope(&app)
            .unwrap_err();
        assert!(err.to_string().contains("--app-name"));
    }
}
