//! Amplify Gen 2's SSM parameter path convention, reproduced exactly.
//!
//! Amplify derives a secret's SSM name from a backend identifier (a branch deployment or a
//! personal sandbox) or from the app id (secrets shared by all branches). The rules, including
//! their odd corners, are those of `@aws-amplify/platform-core`'s
//! `BackendIdentifierConversions` and `ParameterPathConversions`:
//!
//! * segments are *sanitized* (only ASCII letters and digits survive) and truncated so the
//!   CloudFormation stack name fits in 128 characters;
//! * a 10-hex-digit SHA-512 prefix of the **raw** namespace and name keeps lossy sanitization
//!   from merging distinct branches (`feature/login` vs `feature-login`);
//! * the shared prefix embeds the app id verbatim.
//!
//! Everything here is pure and I/O-free. Validation of what SSM itself accepts lives here too,
//! so a name is refused before anything is written.

use sha2::{Digest, Sha512};
use std::fmt;

/// Length budget of a CloudFormation stack name, which the SSM prefix is derived from.
const STACK_NAME_LENGTH_LIMIT: usize = 128;
/// Hex digits of the SHA-512 digest kept in a backend identifier.
const HASH_LENGTH: usize = 10;
/// The four dashes of `amplify-<ns>-<name>-<type>-<hash>`.
const NUM_DASHES: usize = 4;
/// Amplify keeps at most this many sanitized characters of the branch or sandbox name.
const MAX_NAME_LENGTH: usize = 50;

/// SSM's limit on a fully qualified parameter name.
pub const MAX_PARAMETER_NAME_LENGTH: usize = 1011;
/// SSM's limit on hierarchy levels in a parameter name.
pub const MAX_PARAMETER_LEVELS: usize = 15;

/// The kind of Amplify backend deployment a backend-scoped secret belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// A branch deployment by Amplify Hosting (`ampx pipeline-deploy`).
    Branch,
    /// A personal cloud sandbox (`ampx sandbox`).
    Sandbox,
    /// A deployment without Amplify Hosting (`ampx deploy --identifier ID`).
    Standalone,
}

impl BackendKind {
    /// The literal Amplify uses in stack names and paths.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Branch => "branch",
            BackendKind::Sandbox => "sandbox",
            BackendKind::Standalone => "standalone",
        }
    }
}

/// The backend name `ampx deploy` gives every standalone deployment; the identifier is its
/// namespace.
pub const STANDALONE_BACKEND_NAME: &str = "backend";
/// `ampx deploy`'s limit on an identifier (a CloudFormation stack name's).
pub const MAX_STANDALONE_ID_LENGTH: usize = 128;

/// Inputs that identify where a secret lives in SSM, exactly as Amplify receives them (raw).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterScope {
    /// A branch or sandbox deployment: `namespace` is the app id (branch) or the raw
    /// package.json name (sandbox); `name` is the raw branch name or sandbox identifier.
    Backend {
        kind: BackendKind,
        namespace: String,
        name: String,
    },
    /// Secrets shared by every branch of an app (or, for sandboxes, by the package name).
    Shared { namespace: String },
}

impl ParameterScope {
    /// The `GetParametersByPath` path of this scope: no trailing slash.
    pub fn prefix(&self) -> String {
        match self {
            ParameterScope::Backend {
                kind,
                namespace,
                name,
            } => backend_prefix(*kind, namespace, name),
            ParameterScope::Shared { namespace } => format!("/amplify/shared/{namespace}"),
        }
    }

    /// The full SSM parameter name of `secret` in this scope.
    pub fn parameter_name(&self, secret: &str) -> String {
        format!("{}/{secret}", self.prefix())
    }

    /// The CloudFormation stack name Amplify deploys this backend as (`None` for shared).
    pub fn stack_name(&self) -> Option<String> {
        match self {
            ParameterScope::Backend {
                kind,
                namespace,
                name,
            } => {
                let parts = BackendParts::new(*kind, namespace, name);
                Some(format!(
                    "amplify-{}-{}-{}-{}",
                    parts.namespace,
                    parts.name,
                    kind.as_str(),
                    parts.hash
                ))
            }
            ParameterScope::Shared { .. } => None,
        }
    }
}

/// The three derived segments shared by the stack name and the SSM prefix.
struct BackendParts {
    namespace: String,
    name: String,
    hash: String,
}

impl BackendParts {
    fn new(kind: BackendKind, namespace: &str, name: &str) -> Self {
        let name_part: String = sanitize(name).chars().take(MAX_NAME_LENGTH).collect();
        // Amplify's budget: 128 - len("amplify") - len(type) - len(name) - dashes - hash, and
        // then one more because its `slice(0, max - 1)` drops a character.
        let keep = STACK_NAME_LENGTH_LIMIT
            - "amplify".len()
            - kind.as_str().len()
            - name_part.len()
            - NUM_DASHES
            - HASH_LENGTH
            - 1;
        let namespace_part: String = sanitize(namespace).chars().take(keep).collect();
        Self {
            namespace: namespace_part,
            name: name_part,
            hash: backend_hash(namespace, name),
        }
    }
}

fn backend_prefix(kind: BackendKind, namespace: &str, name: &str) -> String {
    let parts = BackendParts::new(kind, namespace, name);
    format!(
        "/amplify/{}/{}-{}-{}",
        parts.namespace,
        parts.name,
        kind.as_str(),
        parts.hash
    )
}

/// Keeps only ASCII letters and digits; everything else (including non-ASCII letters) is
/// deleted, as Amplify's `replace(/[^A-Za-z0-9]/g, '')` does.
pub fn sanitize(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// First 10 hex digits of SHA-512 over the raw namespace bytes followed by the raw name bytes,
/// with no separator (Amplify's `createHash('sha512').update(ns).update(name)`).
pub fn backend_hash(namespace: &str, name: &str) -> String {
    let mut hasher = Sha512::new();
    hasher.update(namespace.as_bytes());
    hasher.update(name.as_bytes());
    let mut digest = hex::encode(hasher.finalize());
    digest.truncate(HASH_LENGTH);
    digest
}

/// Why a name cannot be used with SSM or Amplify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    /// The secret name has characters outside `[A-Za-z0-9_.-]` or is empty.
    SecretName,
    /// A sandbox identifier does not match `^[a-zA-Z0-9-]{1,15}$`.
    SandboxId,
    /// An app id is empty or has characters SSM refuses in a parameter name.
    AppId,
    /// A standalone identifier breaks `ampx deploy`'s rule.
    StandaloneId,
    /// A package name from which `ampx deploy` could derive no identifier.
    NoStandaloneId,
    /// A shared namespace SSM cannot hold as one path segment.
    SharedNamespace,
    /// The full parameter name is longer than SSM allows.
    TooLong(usize),
    /// The full parameter name has more hierarchy levels than SSM allows.
    TooDeep(usize),
    /// The full parameter name has characters SSM refuses (e.g. from a raw package name).
    ParameterCharacters,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::SecretName => f.write_str(
                "secret names may only contain letters, digits, '_', '.' and '-' (Amplify's rule)",
            ),
            NameError::SandboxId => f.write_str(
                "a sandbox identifier must be 1 to 15 letters, digits or '-' (Amplify's rule)",
            ),
            NameError::AppId => {
                f.write_str("an app id may only contain letters, digits, '_', '.' and '-'")
            }
            NameError::StandaloneId => write!(
                f,
                "a standalone identifier must be 1 to {MAX_STANDALONE_ID_LENGTH} letters, digits or '-', starting with a letter (ampx deploy's rule)"
            ),
            NameError::NoStandaloneId => f.write_str(
                "ampx deploy derives no identifier from it (it must start with a letter once '@scope/' is dropped); pass --standalone=ID",
            ),
            NameError::SharedNamespace => f.write_str(
                "SSM cannot hold /amplify/shared/<it>: a namespace may only contain letters, digits, '_', '.' and '-' (a scoped package name such as @acme/web has '@' and '/'), so Amplify's fallback there can never have a value",
            ),
            NameError::TooLong(len) => write!(
                f,
                "the SSM parameter name would be {len} characters; SSM allows at most {MAX_PARAMETER_NAME_LENGTH}"
            ),
            NameError::TooDeep(levels) => write!(
                f,
                "the SSM parameter name would have {levels} levels; SSM allows at most {MAX_PARAMETER_LEVELS}"
            ),
            NameError::ParameterCharacters => f.write_str(
                "the SSM parameter name would contain characters SSM refuses (allowed: letters, digits, '_', '.', '-', '/')",
            ),
        }
    }
}

fn is_ssm_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// A non-empty run of characters SSM accepts within one level of a parameter name.
fn is_ssm_segment(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_ssm_name_char)
}

/// Checks a secret name against Amplify's rule `^[A-Za-z0-9_.-]+$`.
pub fn validate_secret_name(name: &str) -> Result<(), NameError> {
    if is_ssm_segment(name) {
        Ok(())
    } else {
        Err(NameError::SecretName)
    }
}

/// Checks a sandbox identifier given by the user against `^[a-zA-Z0-9-]{1,15}$`.
pub fn validate_sandbox_id(id: &str) -> Result<(), NameError> {
    let valid =
        (1..=15).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(NameError::SandboxId)
    }
}

/// Checks an Amplify app id; it is embedded verbatim in shared paths, so it must be a valid
/// SSM name segment.
pub fn validate_app_id(app_id: &str) -> Result<(), NameError> {
    if is_ssm_segment(app_id) {
        Ok(())
    } else {
        Err(NameError::AppId)
    }
}

/// Checks a standalone identifier against `ampx deploy`'s rule `^[A-Za-z][A-Za-z0-9-]*$`, at
/// most 128 characters.
pub fn validate_standalone_id(id: &str) -> Result<(), NameError> {
    let mut chars = id.chars();
    let valid = id.len() <= MAX_STANDALONE_ID_LENGTH
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(NameError::StandaloneId)
    }
}

/// The identifier `ampx deploy` derives from a package.json name: `@scope/` dropped, every
/// character other than a letter, digit or `-` turned into `-`, cut to 128 characters, no
/// trailing `-`; it must then start with a letter.
pub fn standalone_id_from_package(package: &str) -> Result<String, NameError> {
    let unscoped = match package.strip_prefix('@') {
        Some(scoped) => scoped.split_once('/').map_or(scoped, |(_, name)| name),
        None => package,
    };
    let mut id: String = unscoped
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(MAX_STANDALONE_ID_LENGTH)
        .collect();
    id.truncate(id.trim_end_matches('-').len());
    validate_standalone_id(&id).map_err(|_| NameError::NoStandaloneId)?;
    Ok(id)
}

/// Checks a shared namespace: it is embedded verbatim as one segment of
/// `/amplify/shared/<namespace>`, so it must be a valid SSM name segment.
pub fn validate_shared_namespace(namespace: &str) -> Result<(), NameError> {
    if is_ssm_segment(namespace) {
        Ok(())
    } else {
        Err(NameError::SharedNamespace)
    }
}

/// A secret that cannot live under a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterError {
    /// The secret's own name breaks Amplify's rule.
    Name(NameError),
    /// The full SSM name (`parameter`) breaks SSM's limits.
    Parameter { parameter: String, error: NameError },
}

impl ParameterScope {
    /// The full SSM name of `secret`, checked against Amplify's name rule and SSM's limits:
    /// what would be refused at push time is refused before anything is stored.
    pub fn checked_parameter_name(&self, secret: &str) -> Result<String, ParameterError> {
        validate_secret_name(secret).map_err(ParameterError::Name)?;
        let parameter = self.parameter_name(secret);
        match validate_parameter_name(&parameter) {
            Ok(()) => Ok(parameter),
            Err(error) => Err(ParameterError::Parameter { parameter, error }),
        }
    }
}

/// Checks a full parameter name against SSM's character, length and depth limits.
pub fn validate_parameter_name(full: &str) -> Result<(), NameError> {
    if !full.chars().all(|c| c == '/' || is_ssm_name_char(c)) {
        return Err(NameError::ParameterCharacters);
    }
    let len = full.chars().count();
    if len > MAX_PARAMETER_NAME_LENGTH {
        return Err(NameError::TooLong(len));
    }
    let levels = full.trim_start_matches('/').split('/').count();
    if levels > MAX_PARAMETER_LEVELS {
        return Err(NameError::TooDeep(levels));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn branch(app: &str, name: &str) -> ParameterScope {
        ParameterScope::Backend {
            kind: BackendKind::Branch,
            namespace: app.into(),
            name: name.into(),
        }
    }

    #[test]
    fn spec_examples() {
        assert_eq!(
            branch("d1a2b3c4d5e6f7", "feature/login").parameter_name("API_KEY"),
            "/amplify/d1a2b3c4d5e6f7/featurelogin-branch-976afe7de1/API_KEY"
        );
        assert_eq!(
            branch("d1a2b3c4d5e6f7", "ветка").prefix(),
            "/amplify/d1a2b3c4d5e6f7/-branch-2c9f506286"
        );
        let shared = ParameterScope::Shared {
            namespace: "d1a2b3c4d5e6f7".into(),
        };
        assert_eq!(shared.prefix(), "/amplify/shared/d1a2b3c4d5e6f7");
        assert_eq!(shared.stack_name(), None);
    }

    #[test]
    fn standalone_spec_example() {
        let standalone = ParameterScope::Backend {
            kind: BackendKind::Standalone,
            namespace: "my-app".into(),
            name: STANDALONE_BACKEND_NAME.into(),
        };
        assert_eq!(
            standalone.parameter_name("API_KEY"),
            "/amplify/myapp/backend-standalone-abeed4c9fc/API_KEY"
        );
    }

    #[test]
    fn standalone_ids_derived_like_ampx_deploy() {
        let derive = |p: &str| standalone_id_from_package(p);
        assert_eq!(derive("my-app").unwrap(), "my-app");
        assert_eq!(derive("@acme/web").unwrap(), "web");
        assert_eq!(derive("my.app_v2").unwrap(), "my-app-v2");
        assert_eq!(derive("app!!").unwrap(), "app");
        assert_eq!(derive("Ωapp").unwrap_err(), NameError::NoStandaloneId);
        assert_eq!(derive("1app").unwrap_err(), NameError::NoStandaloneId);
        assert_eq!(derive("@acme/").unwrap_err(), NameError::NoStandaloneId);
        let long = format!("a{}-b", "x".repeat(126));
        assert_eq!(derive(&long).unwrap(), format!("a{}", "x".repeat(126)));
        assert!(validate_standalone_id(&"a".repeat(128)).is_ok());
        assert!(validate_standalone_id(&"a".repeat(129)).is_err());
        assert!(validate_standalone_id("a_b").is_err());
        assert!(validate_standalone_id("").is_err());
    }

    #[test]
    fn shared_namespaces_ssm_can_hold() {
        assert!(validate_shared_namespace("my-app").is_ok());
        assert!(validate_shared_namespace("d1a2b3c4d5e6f7").is_ok());
        for bad in ["@acme/web", "", "a b", "é"] {
            assert_eq!(
                validate_shared_namespace(bad),
                Err(NameError::SharedNamespace),
                "{bad}"
            );
        }
    }

    #[test]
    fn hash_has_no_separator() {
        assert_eq!(backend_hash("ab", "c"), backend_hash("a", "bc"));
        assert_eq!(backend_hash("ab", "c"), "ddaf35a193");
    }

    #[test]
    fn name_rules() {
        assert!(validate_secret_name("MY_API.KEY-2").is_ok());
        for bad in ["", "MY KEY", "a/b", "é", "x{"] {
            assert_eq!(
                validate_secret_name(bad),
                Err(NameError::SecretName),
                "{bad}"
            );
        }
        assert!(validate_sandbox_id("abcdefghijklmno").is_ok());
        assert!(validate_sandbox_id("abcdefghijklmnop").is_err());
        assert!(validate_sandbox_id("john.doe").is_err());
        assert!(validate_sandbox_id("").is_err());
        assert_eq!(
            validate_parameter_name(&format!("/a/{}", "x".repeat(1010))),
            Err(NameError::TooLong(1013))
        );
        assert_eq!(
            validate_parameter_name(&"/a".repeat(16)),
            Err(NameError::TooDeep(16))
        );
        assert!(validate_parameter_name(&"/a".repeat(15)).is_ok());
        assert_eq!(
            validate_parameter_name("/amplify/shared/@acme/web/X"),
            Err(NameError::ParameterCharacters)
        );
    }
}
