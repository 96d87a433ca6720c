//! Scopes: where a secret belongs (a branch, a sandbox, a standalone deployment, or a shared
//! namespace such as the whole app's) and how a scope maps to Amplify's SSM prefix.

use crate::amplify::{self, BackendKind, ParameterScope};
use crate::error::{Error, Result};
use crate::project::GitHead;
use std::fmt;

/// Longest branch name kept in the vault; git allows more, Amplify uses 50 characters.
const MAX_BRANCH_NAME: usize = 1000;

/// The scope a command line asks for, before defaults apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// `--shared`: the app id's shared namespace.
    Shared,
    /// `--shared=NS`: any shared namespace.
    SharedNamespace(String),
    Branch(String),
    /// `--sandbox` (`None`: the OS account name) or `--sandbox=ID`.
    Sandbox(Option<String>),
    /// `--standalone` (`None`: derived from the package name) or `--standalone=ID`.
    Standalone(Option<String>),
}

/// What a scope defaults to when the command line names none; read once at start.
#[derive(Debug, Clone)]
pub struct Defaults {
    /// `$AWS_BRANCH`, set by Amplify Hosting.
    pub aws_branch: Option<String>,
    pub git_head: GitHead,
    /// The OS account name: a sandbox's default id, as `ampx sandbox` takes it.
    pub os_user: Option<String>,
    /// The package name (`--app-name` or package.json): a standalone deployment's default
    /// identifier derives from it, as `ampx deploy` does. `Err` holds why it is unreadable.
    pub package_name: Result<Option<String>, String>,
}

/// The scope for `requested`, else `$AWS_BRANCH`, else the git branch. `Err(NoScope)` when
/// none applies (the caller may then ask on a terminal). `defaults` is asked for only when
/// `requested` leaves something to default (reading them means git and the account database).
pub fn resolve<'d>(
    requested: Option<&Requested>,
    defaults: impl FnOnce() -> &'d Defaults,
) -> Result<ScopeKey> {
    match requested {
        Some(Requested::Shared) => return Ok(ScopeKey::Shared),
        Some(Requested::Sandbox(None)) => {
            let user = defaults().os_user.clone().ok_or_else(|| {
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
        Some(Requested::SharedNamespace(namespace)) => {
            return ScopeKey::shared_namespace(namespace);
        }
        Some(Requested::Standalone(Some(id))) => {
            amplify::validate_standalone_id(id)
                .map_err(|e| Error::Invalid(format!("standalone identifier '{id}': {e}")))?;
            return Ok(ScopeKey::Standalone(id.clone()));
        }
        Some(Requested::Standalone(None)) => {
            let package = defaults().package_name.clone().map_err(Error::Invalid)?;
            let package = package.ok_or_else(|| {
                Error::Usage(
                    "no package.json \"name\" to derive a standalone identifier from: pass --standalone=ID".into(),
                )
            })?;
            let id = amplify::standalone_id_from_package(&package)
                .map_err(|e| Error::Invalid(format!("package name '{package}': {e}")))?;
            return Ok(ScopeKey::Standalone(id));
        }
        None => {}
    }
    let defaults = defaults();
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
    /// A deployment without Amplify Hosting (`ampx deploy`), by identifier.
    Standalone(String),
    /// `/amplify/shared/<namespace>` for a namespace other than the app id: the fallback of
    /// a sandbox (its package name) or of a standalone deployment (its identifier).
    SharedNamespace(String),
}

impl ScopeKey {
    /// Parses the display form (`shared`, `shared:NS`, `branch:NAME`, `sandbox:ID`,
    /// `standalone:ID`); the names are not checked (see [`ScopeKey::parse_checked`]).
    pub fn parse(text: &str) -> Option<ScopeKey> {
        match text.split_once(':') {
            None if text == "shared" => Some(ScopeKey::Shared),
            Some((_, "")) => None,
            Some(("shared", ns)) => Some(ScopeKey::SharedNamespace(ns.into())),
            Some(("branch", name)) => Some(ScopeKey::Branch(name.into())),
            Some(("sandbox", id)) => Some(ScopeKey::Sandbox(id.into())),
            Some(("standalone", id)) => Some(ScopeKey::Standalone(id.into())),
            _ => None,
        }
    }

    /// Parses a scope written as `list` shows it, checking its name as the matching flag
    /// would (`what` names the argument in the error).
    pub fn parse_checked(text: &str, what: &str) -> Result<ScopeKey> {
        let requested = match ScopeKey::parse(text) {
            Some(ScopeKey::Shared) => Requested::Shared,
            Some(ScopeKey::SharedNamespace(ns)) => Requested::SharedNamespace(ns),
            Some(ScopeKey::Branch(name)) => Requested::Branch(name),
            Some(ScopeKey::Sandbox(id)) => Requested::Sandbox(Some(id)),
            Some(ScopeKey::Standalone(id)) => Requested::Standalone(Some(id)),
            None => {
                return Err(Error::Usage(format!(
                    "{what} '{text}' is not a scope: write it as 'list' shows it (branch:NAME, sandbox:ID, standalone:ID, shared or shared:NS)"
                )));
            }
        };
        let no_defaults = Defaults {
            aws_branch: None,
            git_head: GitHead::NoRepository,
            os_user: None,
            package_name: Ok(None),
        };
        resolve(Some(&requested), || &no_defaults)
    }

    /// A shared namespace scope, refused when SSM cannot hold `/amplify/shared/<namespace>`.
    pub fn shared_namespace(namespace: &str) -> Result<ScopeKey> {
        amplify::validate_shared_namespace(namespace)
            .map_err(|e| Error::Invalid(format!("shared namespace '{namespace}': {e}")))?;
        Ok(ScopeKey::SharedNamespace(namespace.to_owned()))
    }

    /// The same scope in its one canonical form: the app id's own shared namespace is the
    /// `shared` scope, so one SSM prefix never has two vault scopes.
    pub fn canonical(self, app_id: Option<&str>) -> ScopeKey {
        match self {
            ScopeKey::SharedNamespace(ns) if Some(ns.as_str()) == app_id => ScopeKey::Shared,
            other => other,
        }
    }

    /// The flag that names this scope on the command line (`--branch main`, `--sandbox=bob`).
    pub fn flag(&self) -> String {
        use crate::text::escape;
        match self {
            ScopeKey::Shared => "--shared".to_owned(),
            ScopeKey::Branch(name) => format!("--branch {}", escape(name)),
            ScopeKey::Sandbox(id) => format!("--sandbox={}", escape(id)),
            ScopeKey::Standalone(id) => format!("--standalone={}", escape(id)),
            ScopeKey::SharedNamespace(ns) => format!("--shared={}", escape(ns)),
        }
    }

    /// Whether this is a shared scope (the app id's or another namespace).
    pub fn is_shared(&self) -> bool {
        matches!(self, ScopeKey::Shared | ScopeKey::SharedNamespace(_))
    }

    /// The vault scope a deployment of this scope falls back to, as Amplify does:
    /// `/amplify/shared/<its namespace>`, i.e. the app id's (branch), the raw package name's
    /// (sandbox) or the identifier's (standalone). `None` for a shared scope.
    pub fn fallback(&self, app: &AppIdentity) -> Result<Option<ScopeKey>> {
        let namespace = match self {
            ScopeKey::Shared | ScopeKey::SharedNamespace(_) => return Ok(None),
            ScopeKey::Branch(_) => return Ok(Some(ScopeKey::Shared)),
            ScopeKey::Sandbox(_) => app.require_app_name()?,
            ScopeKey::Standalone(id) => id,
        };
        let fallback = ScopeKey::SharedNamespace(namespace.to_owned());
        Ok(Some(fallback.canonical(app.app_id.as_deref())))
    }

    /// Maps the scope to Amplify's SSM inputs. Branch and shared scopes need the app id;
    /// a sandbox needs the package name (its namespace).
    pub fn parameter_scope(&self, app: &AppIdentity) -> Result<ParameterScope> {
        Ok(match self {
            ScopeKey::Shared => ParameterScope::Shared {
                namespace: app.require_app_id(self)?.to_owned(),
            },
            ScopeKey::SharedNamespace(namespace) => {
                amplify::validate_shared_namespace(namespace)
                    .map_err(|e| Error::Invalid(format!("shared namespace '{namespace}': {e}")))?;
                ParameterScope::Shared {
                    namespace: namespace.clone(),
                }
            }
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
            ScopeKey::Standalone(id) => ParameterScope::Backend {
                kind: BackendKind::Standalone,
                namespace: id.clone(),
                name: amplify::STANDALONE_BACKEND_NAME.to_owned(),
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
            ScopeKey::Standalone(id) => write!(f, "standalone:{}", crate::text::escape(id)),
            ScopeKey::SharedNamespace(ns) => write!(f, "shared:{}", crate::text::escape(ns)),
        }
    }
}

/// The app's identity in Amplify: the app id (branch and shared scopes) and the sandbox
/// namespace (the raw `name` of package.json). A standalone deployment needs neither.
#[derive(Debug, Clone, Default)]
pub struct AppIdentity {
    pub app_id: Option<String>,
    pub app_name: Option<String>,
}

impl AppIdentity {
    fn require_app_id(&self, scope: &ScopeKey) -> Result<&str> {
        self.app_id.as_deref().ok_or_else(|| {
            Error::Usage(format!(
                "no Amplify app id for the {scope} scope: pass --app-id, set AWS_APP_ID, or run 'ampsecret config set app_id ID'"
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
            ScopeKey::Standalone("prod".into()),
            ScopeKey::SharedNamespace("my-app".into()),
        ] {
            assert_eq!(ScopeKey::parse(&key.to_string()), Some(key));
        }
        assert_eq!(ScopeKey::parse("branch:"), None);
        assert_eq!(ScopeKey::parse("other:x"), None);
        assert_eq!(ScopeKey::parse("shared:"), None);
        assert_eq!(ScopeKey::parse("standalone:"), None);
    }

    #[test]
    fn parse_checked_applies_the_flags_rules() {
        let ok = |t: &str| ScopeKey::parse_checked(t, "--from").unwrap();
        assert_eq!(ok("standalone:prod"), ScopeKey::Standalone("prod".into()));
        assert_eq!(
            ok("shared:my-app"),
            ScopeKey::SharedNamespace("my-app".into())
        );
        for (bad, code) in [
            ("shared:@acme/web", 5),
            ("standalone:1x", 5),
            ("sandbox:not valid", 5),
            ("nope", 2),
        ] {
            let err = ScopeKey::parse_checked(bad, "--to").unwrap_err();
            assert_eq!(err.exit_code(), code, "{bad}: {err}");
        }
        let err = ScopeKey::parse_checked("shared:@acme/web", "--to").unwrap_err();
        assert!(err.to_string().contains("scoped package name"), "{err}");
    }

    #[test]
    fn each_deployment_falls_back_to_its_own_namespace() {
        let app = AppIdentity {
            app_id: Some("d1a2b3c4d5e6f7".into()),
            app_name: Some("my-app".into()),
        };
        let fallback = |k: ScopeKey| k.fallback(&app).unwrap();
        assert_eq!(
            fallback(ScopeKey::Branch("main".into())),
            Some(ScopeKey::Shared)
        );
        assert_eq!(
            fallback(ScopeKey::Sandbox("alice".into())),
            Some(ScopeKey::SharedNamespace("my-app".into()))
        );
        assert_eq!(
            fallback(ScopeKey::Standalone("prod".into())),
            Some(ScopeKey::SharedNamespace("prod".into()))
        );
        assert_eq!(
            fallback(ScopeKey::Standalone("d1a2b3c4d5e6f7".into())),
            Some(ScopeKey::Shared)
        );
        assert_eq!(fallback(ScopeKey::Shared), None);
        assert_eq!(fallback(ScopeKey::SharedNamespace("x".into())), None);
        assert_eq!(
            ScopeKey::SharedNamespace("d1a2b3c4d5e6f7".into()).canonical(Some("d1a2b3c4d5e6f7")),
            ScopeKey::Shared
        );
    }

    #[test]
    fn standalone_default_derives_from_the_package_name() {
        let mut defaults = Defaults {
            aws_branch: None,
            git_head: GitHead::NoRepository,
            os_user: None,
            package_name: Ok(Some("@acme/web.app".into())),
        };
        let standalone = Requested::Standalone(None);
        assert_eq!(
            resolve(Some(&standalone), || &defaults).unwrap(),
            ScopeKey::Standalone("web-app".into())
        );
        defaults.package_name = Ok(None);
        assert_eq!(
            resolve(Some(&standalone), || &defaults)
                .unwrap_err()
                .exit_code(),
            2
        );
        defaults.package_name = Ok(Some("@acme/123".into()));
        assert_eq!(
            resolve(Some(&standalone), || &defaults)
                .unwrap_err()
                .exit_code(),
            5
        );
    }

    #[test]
    fn flags_then_aws_branch_then_git() {
        let mut defaults = Defaults {
            aws_branch: None,
            git_head: GitHead::Branch("dev".into()),
            os_user: Some("alice".into()),
            package_name: Ok(None),
        };
        let branch = |b: &str| ScopeKey::Branch(b.into());
        assert_eq!(resolve(None, || &defaults).unwrap(), branch("dev"));
        defaults.aws_branch = Some("main".into());
        assert_eq!(resolve(None, || &defaults).unwrap(), branch("main"));
        let sandbox = Requested::Sandbox(None);
        assert_eq!(
            resolve(Some(&sandbox), || &defaults).unwrap(),
            ScopeKey::Sandbox("alice".into())
        );
        let bad = Requested::Sandbox(Some("not valid!".into()));
        assert_eq!(
            resolve(Some(&bad), || &defaults).unwrap_err().exit_code(),
            5
        );
        defaults.aws_branch = None;
        defaults.git_head = GitHead::Detached;
        let err = resolve(None, || &defaults).unwrap_err();
        assert!(matches!(err, Error::NoScope { .. }), "{err}");
        let long = Requested::Branch("x".repeat(MAX_BRANCH_NAME + 1));
        assert!(resolve(Some(&long), || &defaults).is_err());
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
