//! age encryption of the vault payload, to X25519 recipients or to a passphrase (scrypt).

use age::secrecy::SecretString;
use age::x25519;
use std::io::{Read, Write};
use zeroize::Zeroizing;

/// Environment variable that lowers scrypt's work factor, read by debug builds only (the
/// test suite's): the default (18) costs about a second per unlock by design, and a release
/// binary must not let its environment weaken a passphrase vault.
#[cfg(debug_assertions)]
pub const SCRYPT_WORK_FACTOR_ENV: &str = "AMPSECRET_SCRYPT_WORK_FACTOR";

/// What the vault is encrypted to.
pub enum Seal<'a> {
    /// Members' keys: age X25519 or SSH recipients.
    Recipients(&'a [&'a dyn age::Recipient]),
    Passphrase(&'a SecretString),
}

/// What opens the vault.
pub enum Unseal<'a> {
    Identities(&'a [x25519::Identity]),
    /// A member whose key is an (unencrypted) SSH private key.
    Ssh(&'a age::ssh::Identity),
    Passphrase(&'a SecretString),
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("none of the available keys can decrypt it")]
    NoMatchingKey,
    #[error("it is damaged or was tampered with ({0})")]
    Damaged(String),
    #[error("it needs a passphrase, but an X25519 key was given")]
    WantsPassphrase,
    #[error("it is encrypted to keys, but a passphrase was given")]
    WantsKeys,
    #[error("it has no recipients to encrypt to")]
    NoRecipients,
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

#[cfg(debug_assertions)]
fn test_work_factor() -> Option<u8> {
    std::env::var(SCRYPT_WORK_FACTOR_ENV)
        .ok()?
        .parse()
        .ok()
        .filter(|n| (1..=30).contains(n))
}

#[cfg(not(debug_assertions))]
fn test_work_factor() -> Option<u8> {
    None
}

/// Encrypts `plaintext`. The output is ciphertext only; no plaintext touches a buffer that is
/// not wiped.
pub fn seal(plaintext: &[u8], to: Seal<'_>) -> Result<Vec<u8>, CryptoError> {
    seal_with_work_factor(plaintext, to, test_work_factor())
}

/// [`seal`], with scrypt's work factor lowered to `work_factor` when given (tests only).
fn seal_with_work_factor(
    plaintext: &[u8],
    to: Seal<'_>,
    work_factor: Option<u8>,
) -> Result<Vec<u8>, CryptoError> {
    let encryptor = match to {
        Seal::Recipients(recipients) => {
            if recipients.is_empty() {
                return Err(CryptoError::NoRecipients);
            }
            age::Encryptor::with_recipients(recipients.iter().copied())
                .map_err(|e| CryptoError::Damaged(e.to_string()))?
        }
        Seal::Passphrase(passphrase) => {
            let mut recipient = age::scrypt::Recipient::new(passphrase.clone());
            if let Some(n) = work_factor {
                recipient.set_work_factor(n);
            }
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .map_err(|e| CryptoError::Damaged(e.to_string()))?
        }
    };
    // age adds a header and 16 bytes per 64 KiB chunk; reserve so the Vec rarely regrows.
    let mut out = Vec::with_capacity(plaintext.len() + plaintext.len() / 4096 + 512);
    let mut writer = encryptor.wrap_output(&mut out)?;
    writer.write_all(plaintext)?;
    writer.finish()?;
    Ok(out)
}

/// Decrypts `ciphertext` into memory that is wiped on drop.
pub fn unseal(ciphertext: &[u8], with: Unseal<'_>) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let decryptor = age::Decryptor::new_buffered(ciphertext).map_err(map_decrypt_error)?;
    let reader = match with {
        Unseal::Identities(identities) => {
            if decryptor.is_scrypt() {
                return Err(CryptoError::WantsPassphrase);
            }
            decryptor.decrypt(identities.iter().map(|i| i as &dyn age::Identity))
        }
        Unseal::Ssh(identity) => {
            if decryptor.is_scrypt() {
                return Err(CryptoError::WantsPassphrase);
            }
            decryptor.decrypt(std::iter::once(identity as &dyn age::Identity))
        }
        Unseal::Passphrase(passphrase) => {
            if !decryptor.is_scrypt() {
                return Err(CryptoError::WantsKeys);
            }
            let identity = age::scrypt::Identity::new(passphrase.clone());
            decryptor.decrypt(std::iter::once(&identity as &dyn age::Identity))
        }
    };
    let mut reader = reader.map_err(map_decrypt_error)?;
    // The plaintext is shorter than the ciphertext: sizing up front avoids regrowth copies.
    let mut plaintext = Zeroizing::new(Vec::with_capacity(ciphertext.len()));
    reader
        .read_to_end(&mut plaintext)
        .map_err(|e| CryptoError::Damaged(e.to_string()))?;
    Ok(plaintext)
}

fn map_decrypt_error(error: age::DecryptError) -> CryptoError {
    match error {
        age::DecryptError::NoMatchingKeys | age::DecryptError::DecryptionFailed => {
            CryptoError::NoMatchingKey
        }
        other => CryptoError::Damaged(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x25519_round_trip_and_wrong_key() {
        let me = x25519::Identity::generate();
        let other = x25519::Identity::generate();
        let public = me.to_public();
        let sealed = seal(b"payload", Seal::Recipients(&[&public])).unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"payload"));
        let opened = unseal(&sealed, Unseal::Identities(std::slice::from_ref(&me))).unwrap();
        assert_eq!(&opened[..], b"payload");
        assert!(matches!(
            unseal(&sealed, Unseal::Identities(&[other])),
            Err(CryptoError::NoMatchingKey)
        ));
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(matches!(
            unseal(&tampered, Unseal::Identities(&[me])),
            Err(CryptoError::Damaged(_))
        ));
    }

    #[test]
    fn passphrase_round_trip() {
        let pass = SecretString::from("correct horse".to_owned());
        let sealed = seal_with_work_factor(b"payload", Seal::Passphrase(&pass), Some(2)).unwrap();
        let opened = unseal(&sealed, Unseal::Passphrase(&pass)).unwrap();
        assert_eq!(&opened[..], b"payload");
        let wrong = SecretString::from("wrong".to_owned());
        assert!(matches!(
            unseal(&sealed, Unseal::Passphrase(&wrong)),
            Err(CryptoError::NoMatchingKey)
        ));
    }
}
