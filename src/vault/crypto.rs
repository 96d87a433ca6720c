//! age encryption of the vault payload, to X25519 recipients or to a passphrase (scrypt).

use age::secrecy::SecretString;
use age::x25519;
use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::ops::Range;
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

/// age's STREAM chunk: the unit in which a payload is decrypted, and so read by range.
pub const CHUNK_SIZE: u64 = 64 * 1024;

/// A decrypting reader over an age file, seekable by plaintext offset: only the chunks read
/// are decrypted.
pub type PlainReader<R> = age::stream::StreamReader<R>;

/// Encrypts `plaintext`. The output is ciphertext only; no plaintext touches a buffer that is
/// not wiped.
pub fn seal(plaintext: &[u8], to: Seal<'_>) -> Result<Vec<u8>, CryptoError> {
    // age adds a header and 16 bytes per 64 KiB chunk; reserve so the Vec rarely regrows.
    let mut out = Vec::with_capacity(plaintext.len() + plaintext.len() / 4096 + 512);
    let mut writer = sealer(&mut out, to)?;
    writer.write_all(plaintext)?;
    writer.finish()?;
    Ok(out)
}

/// A writer that encrypts what is written to it into `out` (with a fresh file key, as every
/// age file has); call `finish` to write the last chunk.
pub fn sealer<W: Write>(out: W, to: Seal<'_>) -> Result<age::stream::StreamWriter<W>, CryptoError> {
    sealer_with_work_factor(out, to, test_work_factor())
}

/// [`sealer`], with scrypt's work factor lowered to `work_factor` when given (tests only).
fn sealer_with_work_factor<W: Write>(
    out: W,
    to: Seal<'_>,
    work_factor: Option<u8>,
) -> Result<age::stream::StreamWriter<W>, CryptoError> {
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
    Ok(encryptor.wrap_output(out)?)
}

/// Decrypts `ciphertext` into memory that is wiped on drop.
pub fn unseal(ciphertext: &[u8], with: Unseal<'_>) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let mut reader = open(ciphertext, with)?;
    // The plaintext is shorter than the ciphertext: sizing up front avoids regrowth copies.
    let mut plaintext = Zeroizing::new(Vec::with_capacity(ciphertext.len()));
    reader.read_to_end(&mut plaintext).map_err(damaged)?;
    Ok(plaintext)
}

/// Unwraps the file key of the age file `input` (its header only; no payload is read).
pub fn open<R: BufRead>(input: R, with: Unseal<'_>) -> Result<PlainReader<R>, CryptoError> {
    let decryptor = age::Decryptor::new_buffered(input).map_err(map_decrypt_error)?;
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
    reader.map_err(map_decrypt_error)
}

/// The plaintext length of the file `reader` decrypts, authenticated by decrypting its last
/// chunk as the last one: a file cut at a chunk boundary, or extended, fails here.
pub fn plaintext_len<R: Read + Seek>(reader: &mut PlainReader<R>) -> Result<u64, CryptoError> {
    reader.seek(SeekFrom::End(0)).map_err(damaged)
}

/// [`plaintext_len`], for a file whose head states its length (`stated`): the same check,
/// with the last chunk decrypted once rather than twice. age authenticates the length when
/// the reader first moves to another chunk, and then decrypts the chunk a seek lands inside:
/// landing first on the start of the last chunk, stated, leaves the seek to the end inside
/// the chunk already placed. A wrong statement only costs that second decryption.
pub fn plaintext_len_stated<R: Read + Seek>(
    reader: &mut PlainReader<R>,
    stated: u64,
    ciphertext_len: u64,
) -> Result<u64, CryptoError> {
    // A plaintext is never longer than its ciphertext: a larger statement is not followed.
    if stated <= ciphertext_len {
        let last_chunk_start = stated.saturating_sub(1) / CHUNK_SIZE * CHUNK_SIZE;
        reader
            .seek(SeekFrom::Start(last_chunk_start))
            .map_err(damaged)?;
    }
    plaintext_len(reader)
}

/// Whether the plaintext after position `at` of a file whose head states its length
/// (`stated`) lies in `at`'s chunk and the one after it: then [`read_on`] reads it in one
/// pass, where the length check and a later read of the last chunk decrypt it twice.
pub fn rest_is_near(at: u64, stated: u64, ciphertext_len: u64) -> bool {
    stated <= ciphertext_len && stated.saturating_sub(1) / CHUNK_SIZE <= at / CHUNK_SIZE + 1
}

/// Reads on from the reader's position `at` to the end of a file whose head states its
/// length (`stated`), decrypting each chunk once and the last as the last, so that a file
/// cut (at a chunk boundary too) or extended is found as [`plaintext_len`] finds it.
/// Gives the bytes of `keep` (sorted, disjoint ranges from `at` on; cut short where the
/// file ends) and the length the file has; what it passes over is wiped, and at most one
/// byte past the stated end is read.
pub fn read_on<R: Read>(
    reader: &mut PlainReader<R>,
    at: u64,
    stated: u64,
    keep: &[Range<u64>],
) -> Result<ReadOn, CryptoError> {
    let mut scratch = Zeroizing::new(vec![0; 8 * 1024]);
    let mut at = at;
    let mut pass_over =
        |reader: &mut PlainReader<R>, at: &mut u64, to: u64| -> std::io::Result<()> {
            while *at < to {
                let n = scratch
                    .len()
                    .min(usize::try_from(to - *at).unwrap_or(usize::MAX));
                let read = fill(reader, &mut scratch[..n])?;
                *at += read as u64;
                if read < n {
                    break;
                }
            }
            Ok(())
        };
    let mut kept = Vec::with_capacity(keep.len());
    for range in keep {
        assert!(
            range.start >= at,
            "ranges to keep are sorted and after the head"
        );
        pass_over(reader, &mut at, range.start).map_err(damaged)?;
        let len = usize::try_from(range.end - range.start).expect("a block in memory");
        let bytes = read_wiped(reader, len).map_err(damaged)?;
        at += bytes.len() as u64;
        kept.push(bytes);
    }
    pass_over(reader, &mut at, stated.saturating_add(1)).map_err(damaged)?;
    Ok(ReadOn { kept, len: at })
}

/// What [`read_on`] read: the ranges kept, and the plaintext's length.
pub struct ReadOn {
    pub kept: Vec<Zeroizing<Vec<u8>>>,
    pub len: u64,
}

/// Decrypts plaintext bytes `range` into wiped memory, or those of them before the
/// plaintext ends (a file's head, read before its length is known), decrypting only the
/// chunks that hold them. Reading starts at a chunk boundary: age discards the bytes before
/// an unaligned offset in a buffer it does not wipe.
pub fn read_up_to<R: Read + Seek>(
    reader: &mut PlainReader<R>,
    range: Range<u64>,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let aligned = range.start - range.start % CHUNK_SIZE;
    reader.seek(SeekFrom::Start(aligned)).map_err(damaged)?;
    let len = usize::try_from(range.end - aligned).expect("a range of a payload in memory");
    let mut bytes = read_wiped(reader, len).map_err(damaged)?;
    let before = (range.start - aligned).min(bytes.len() as u64) as usize;
    // Moves the wanted bytes to the front in place: no copy outside this wiped buffer.
    bytes.drain(..before);
    Ok(bytes)
}

/// Up to `len` bytes of `reader`, fewer only where it ends, read straight into wiped memory
/// (`read_to_end` reads a short tail through a buffer on the stack that nothing wipes).
fn read_wiped<R: Read>(reader: &mut R, len: usize) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let mut bytes = Zeroizing::new(vec![0; len]);
    let filled = fill(reader, &mut bytes)?;
    bytes.truncate(filled);
    Ok(bytes)
}

/// Reads into all of `buf`, or as much as there is before `reader` ends: the bytes read.
fn fill<R: Read>(reader: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// A decrypted read that failed: the file is damaged (cut, extended or changed).
fn damaged(error: std::io::Error) -> CryptoError {
    CryptoError::Damaged(error.to_string())
}

/// `range` cut at chunk boundaries: pieces that each decrypt one chunk.
pub fn chunk_ranges(range: Range<u64>) -> impl Iterator<Item = Range<u64>> {
    let mut start = range.start;
    std::iter::from_fn(move || {
        (start < range.end).then(|| {
            let end = (start - start % CHUNK_SIZE + CHUNK_SIZE).min(range.end);
            let piece = start..end;
            start = end;
            piece
        })
    })
}

/// [`read_up_to`] of a `range` that ends at most at the plaintext's end: all of it.
pub fn read_range<R: Read + Seek>(
    reader: &mut PlainReader<R>,
    range: Range<u64>,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let wanted = range.end - range.start;
    let bytes = read_up_to(reader, range)?;
    if bytes.len() as u64 != wanted {
        return Err(CryptoError::Damaged("failed to fill whole buffer".into()));
    }
    Ok(bytes)
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
    fn a_range_decrypts_alone_and_a_cut_file_is_refused() {
        let me = x25519::Identity::generate();
        let public = me.to_public();
        let plaintext: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let sealed = seal(&plaintext, Seal::Recipients(&[&public])).unwrap();
        let ids = std::slice::from_ref(&me);
        let mut reader = open(&sealed[..], Unseal::Identities(ids)).unwrap();
        // A std::io::Cursor gives the reader Seek.
        let mut reader_at =
            open(std::io::Cursor::new(&sealed[..]), Unseal::Identities(ids)).unwrap();
        assert_eq!(plaintext_len(&mut reader_at).unwrap(), 200_000);
        for range in [0..10, 65_530..65_545, 131_072..131_072, 199_990..200_000] {
            let bytes = read_range(&mut reader_at, range.clone()).unwrap();
            assert_eq!(
                &bytes[..],
                &plaintext[range.start as usize..range.end as usize]
            );
        }
        let pieces: Vec<_> = chunk_ranges(65_530..200_000).collect();
        assert_eq!(
            pieces,
            [
                65_530..65_536,
                65_536..131_072,
                131_072..196_608,
                196_608..200_000
            ]
        );
        // Cut after the second chunk: every chunk left is authentic, the end is missing.
        let header = sealed.len() - (plaintext.len() + 4 * 16);
        let cut = &sealed[..header + 2 * (CHUNK_SIZE as usize + 16)];
        let mut cut_reader = open(std::io::Cursor::new(cut), Unseal::Identities(ids)).unwrap();
        assert!(matches!(
            plaintext_len(&mut cut_reader),
            Err(CryptoError::Damaged(_))
        ));
        let mut whole = Vec::new();
        assert!(reader.read_to_end(&mut whole).is_ok());
    }

    /// For each length: a plaintext of it, sealed to `me`, and that file cut after its first
    /// chunk (for a file of more than one).
    fn sealed_files(
        me: &x25519::Identity,
        lens: &[usize],
    ) -> impl Iterator<Item = (Vec<u8>, Vec<u8>, Option<Vec<u8>>)> {
        let public = me.to_public();
        lens.iter().map(move |&len| {
            let plaintext: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let sealed = seal(&plaintext, Seal::Recipients(&[&public])).unwrap();
            let header = sealed.len() - (len + len.div_ceil(65_536) * 16);
            let cut = (len > 65_536).then(|| sealed[..header + CHUNK_SIZE as usize + 16].to_vec());
            (plaintext, sealed, cut)
        })
    }

    #[test]
    fn a_stated_length_is_checked_as_the_file_has_it() {
        let me = x25519::Identity::generate();
        let ids = std::slice::from_ref(&me);
        for (plaintext, sealed, cut) in
            sealed_files(&me, &[0, 10, 65_536, 65_537, 131_072, 200_000])
        {
            let len = plaintext.len();
            let total = sealed.len() as u64;
            for stated in [
                len as u64,
                0,
                1,
                len as u64 + 1,
                65_536,
                total,
                total + 1,
                u64::MAX,
            ] {
                let mut reader =
                    open(std::io::Cursor::new(&sealed[..]), Unseal::Identities(ids)).unwrap();
                let head = read_up_to(&mut reader, 0..100).unwrap();
                assert_eq!(&head[..], &plaintext[..len.min(100)]);
                let found = plaintext_len_stated(&mut reader, stated, total).unwrap();
                assert_eq!(found, len as u64, "{len} stated as {stated}");
                // Reads after the check see the file as it is.
                let tail = read_range(&mut reader, len.saturating_sub(70_000) as u64..found);
                assert_eq!(&tail.unwrap()[..], &plaintext[len.saturating_sub(70_000)..]);
            }
            if let Some(cut) = cut {
                // Cut after its first chunk: refused whatever the head states.
                let mut reader =
                    open(std::io::Cursor::new(&cut[..]), Unseal::Identities(ids)).unwrap();
                assert!(matches!(
                    plaintext_len_stated(&mut reader, len as u64, total),
                    Err(CryptoError::Damaged(_))
                ));
            }
        }
    }

    #[test]
    fn reading_on_keeps_the_ranges_and_finds_the_length_the_file_has() {
        let me = x25519::Identity::generate();
        let ids = std::slice::from_ref(&me);
        for (plaintext, sealed, cut) in sealed_files(&me, &[0, 10, 100, 65_536, 65_537, 131_072]) {
            let len = plaintext.len();
            let at = len.min(100);
            // Ranges across the chunk boundary, at the end, and one past it.
            let keep: Vec<Range<u64>> = [
                (at, at + 5),
                (65_530, 65_540),
                (len.saturating_sub(3), len + 2),
            ]
            .into_iter()
            .filter(|&(start, end)| start >= at && start <= end && end <= len + 2)
            .map(|(start, end)| start as u64..end as u64)
            .collect();
            for stated in [len as u64, 0, len.saturating_sub(1) as u64, len as u64 + 1] {
                let stated = stated.max(at as u64);
                let mut reader =
                    open(std::io::Cursor::new(&sealed[..]), Unseal::Identities(ids)).unwrap();
                let head = read_up_to(&mut reader, 0..at as u64).unwrap();
                assert_eq!(&head[..], &plaintext[..at]);
                let ReadOn { kept, len: found } =
                    read_on(&mut reader, at as u64, stated, &keep).unwrap();
                // The length the file has, read up to one byte past the statement.
                let expected = (len as u64)
                    .min(stated + 1)
                    .max(keep.last().map_or(0, |r| r.end.min(len as u64)));
                assert_eq!(found, expected, "{len} stated as {stated}");
                for (range, bytes) in keep.iter().zip(&kept) {
                    let end = (range.end as usize).min(len);
                    assert_eq!(&bytes[..], &plaintext[range.start as usize..end]);
                }
            }
            if let Some(cut) = cut {
                // Cut after its first chunk: refused whatever the head states.
                let mut reader =
                    open(std::io::Cursor::new(&cut[..]), Unseal::Identities(ids)).unwrap();
                read_up_to(&mut reader, 0..at as u64).unwrap();
                assert!(matches!(
                    read_on(&mut reader, at as u64, len as u64, &[]),
                    Err(CryptoError::Damaged(_))
                ));
            }
        }
        assert!(rest_is_near(100, 2 * 65_536, u64::MAX));
        assert!(!rest_is_near(100, 2 * 65_536 + 1, u64::MAX));
        assert!(!rest_is_near(100, 1000, 999), "longer than its ciphertext");
    }

    #[test]
    fn passphrase_round_trip() {
        let pass = SecretString::from("correct horse".to_owned());
        let mut sealed = Vec::new();
        let mut writer =
            sealer_with_work_factor(&mut sealed, Seal::Passphrase(&pass), Some(2)).unwrap();
        writer.write_all(b"payload").unwrap();
        writer.finish().unwrap();
        let opened = unseal(&sealed, Unseal::Passphrase(&pass)).unwrap();
        assert_eq!(&opened[..], b"payload");
        let wrong = SecretString::from("wrong".to_owned());
        assert!(matches!(
            unseal(&sealed, Unseal::Passphrase(&wrong)),
            Err(CryptoError::NoMatchingKey)
        ));
    }
}
