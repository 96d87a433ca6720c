//! Scopes: where a secret belongs (a branch, a sandbox, or shared by the whole app) and how a
//! scope maps to Amplify's SSM prefix.

use crate::amplify::{BackendKind, ParameterScope};
use crate::error::{Error, Result};
use std::fmt;

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
        match self {
            ScopeKey::Shared => f.write_str("shared"),
            ScopeKey::Branch(name) => write!(f, "branch:{name}"),
            ScopeKey::Sandbox(id) => write!(f, "sandbox:{id}"),
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
