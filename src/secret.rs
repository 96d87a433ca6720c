//! Secret values: held in memory that is wiped on drop, never printed by accident, and checked
//! against what SSM accepts before anything is stored.

use sha2::{Digest, Sha256};
use std::fmt;
use zeroize::Zeroizing;

/// SSM's Standard tier value limit; larger values need the Advanced tier.
pub const STANDARD_TIER_MAX: usize = 4096;
/// SSM's absolute value limit (Advanced tier).
pub const ADVANCED_TIER_MAX: usize = 8192;

/// A secret value. Its memory is zeroed on drop, and `Debug` shows only its length, so a value
/// cannot reach a log, an error message or a panic through formatting.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(Zeroizing<String>);

impl SecretValue {
    /// Takes ownership of `value`; the caller's buffer moves in, so no unwiped copy is left.
    pub fn new(value: String) -> Self {
        SecretValue(Zeroizing::new(value))
    }

    /// Decodes UTF-8 bytes (SSM values are strings). The input buffer is wiped either way.
    pub fn from_utf8(bytes: Vec<u8>) -> Result<Self, ValueError> {
        // Moves the buffer into the String (no copy); on failure, takes it back to wipe it.
        String::from_utf8(bytes).map(SecretValue::new).map_err(|e| {
            drop(Zeroizing::new(e.into_bytes()));
            ValueError::NotUtf8
        })
    }

    /// The plaintext. Call only where the value must leave: `get`'s stdout, encryption, SSM.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// SHA-256 of the value, kept as sync metadata to tell which side changed a secret.
    pub fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.0.as_bytes()).into()
    }

    /// Checks the value against SSM's rules and what every consumer can carry (no NUL: an
    /// environment variable cannot hold one). Every way into the vault (`set`, `import`,
    /// `pull`) calls this. `Ok(true)` means the value needs the Advanced tier.
    pub fn validate(&self) -> Result<bool, ValueError> {
        if self.is_empty() {
            return Err(ValueError::Empty);
        }
        if self.expose().contains('\0') {
            return Err(ValueError::Nul);
        }
        if self.len() > ADVANCED_TIER_MAX {
            return Err(ValueError::TooLarge(self.len()));
        }
        if has_parameter_reference(self.expose()) {
            return Err(ValueError::Reference);
        }
        Ok(needs_advanced_tier(self.len()))
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValue(<{} bytes redacted>)", self.len())
    }
}

/// SSM's tier rule: a value of `len` bytes needs the Advanced tier.
pub fn needs_advanced_tier(len: usize) -> bool {
    len > STANDARD_TIER_MAX
}

/// The warning `set` and `import` give for a value that needs the Advanced tier.
pub fn advanced_tier_warning(name: &str, len: usize) -> String {
    format!(
        "warning: the value of {name} is {len} bytes; above {STANDARD_TIER_MAX} bytes SSM needs the Advanced tier"
    )
}

/// SSM refuses values containing `{{ … }}` (parameter references).
fn has_parameter_reference(value: &str) -> bool {
    value
        .find("{{")
        .is_some_and(|start| value[start + 2..].contains("}}"))
}

/// Why a value cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("the value is empty; SSM refuses empty parameters")]
    Empty,
    #[error("the value is {0} bytes; SSM stores at most {ADVANCED_TIER_MAX} bytes (Advanced tier)")]
    TooLarge(usize),
    #[error("the value contains '{{{{...}}}}', which SSM refuses (parameter references)")]
    Reference,
    #[error("the value is not valid UTF-8; SSM stores text only")]
    NotUtf8,
    #[error("the value contains a NUL byte, which no environment variable or .env file can hold")]
    Nul,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let v = SecretValue::new("hunter2-distinctive".into());
        let shown = format!("{v:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("19 bytes"));
    }

    #[test]
    fn validation() {
        let v = |s: &str| SecretValue::new(s.into()).validate();
        assert_eq!(v(""), Err(ValueError::Empty));
        assert_eq!(v("x"), Ok(false));
        assert_eq!(v(&"x".repeat(4097)), Ok(true));
        assert_eq!(v(&"x".repeat(8193)), Err(ValueError::TooLarge(8193)));
        assert_eq!(v("a{{b}}c"), Err(ValueError::Reference));
        assert_eq!(v("a}}b{{c"), Ok(false));
        assert_eq!(v("{{ only open"), Ok(false));
        assert_eq!(v("a\0b"), Err(ValueError::Nul));
        assert_eq!(
            SecretValue::from_utf8(vec![0xff, 0xfe]),
            Err(ValueError::NotUtf8)
        );
    }
}
