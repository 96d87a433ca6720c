//! `exec --mask`: a filter over the child's output that replaces every secret value with
//! `***`, even when the child writes a value in pieces.
//!
//! Output passes through as soon as it is read, except a tail that could be the start of a
//! value (at most the longest value's length less one byte), which is held until more output
//! shows whether it is one, or the stream ends. So nothing waits for a line end or a timer,
//! and a value split across writes is still caught.

use std::io::{self, Read, Write};
use zeroize::Zeroizing;

/// Values shorter than this are not masked: masking `1` or `on` would garble all output.
pub const MIN_MASKED_LEN: usize = 4;

/// What replaces a value.
pub const MASK: &[u8] = b"***";

/// The values to mask: each secret given to the child, and each line of a multi-line one
/// (a program may print one line of a PEM key), longest first.
pub struct Masker {
    values: Vec<Zeroizing<Vec<u8>>>,
    /// Whether a byte starts some value: most bytes do not, and skip the comparisons.
    starts: [bool; 256],
}

impl Masker {
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Masker {
        let mut values: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        for secret in secrets {
            let lines = secret.lines().map(|l| l.trim_end_matches('\r'));
            for candidate in std::iter::once(secret).chain(lines) {
                let bytes = candidate.as_bytes();
                if candidate.chars().count() >= MIN_MASKED_LEN
                    && !values.iter().any(|v| v.as_slice() == bytes)
                {
                    values.push(Zeroizing::new(bytes.to_vec()));
                }
            }
        }
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        let mut starts = [false; 256];
        for value in &values {
            starts[usize::from(value[0])] = true;
        }
        Masker { values, starts }
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The longest value at `at`, if one starts there.
    fn value_at(&self, text: &[u8], at: usize) -> Option<usize> {
        if !self.starts[usize::from(text[at])] {
            return None;
        }
        self.values
            .iter()
            .find(|v| text[at..].starts_with(v))
            .map(|v| v.len())
    }

    /// Whether `tail` is a proper start of some value.
    fn could_start_value(&self, tail: &[u8]) -> bool {
        self.starts[usize::from(tail[0])]
            && self
                .values
                .iter()
                .any(|v| v.len() > tail.len() && v.starts_with(tail))
    }

    /// Copies `input` to `output`, masked, writing (and flushing) each piece as it is read.
    pub fn copy(&self, mut input: impl Read, mut output: impl Write) -> io::Result<()> {
        let mut chunk = Zeroizing::new(vec![0u8; 8192]);
        let longest = self.values.first().map_or(0, |v| v.len());
        // Reserved up front so it never reallocates: no stray copies of held bytes.
        let mut pending: Zeroizing<Vec<u8>> =
            Zeroizing::new(Vec::with_capacity(chunk.len() + longest));
        let mut masked = Zeroizing::new(Vec::with_capacity(chunk.len() + longest));
        loop {
            let read = match input.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A pty's reader gets EIO once the child side is closed: that is the end.
                Err(e) if e.raw_os_error() == Some(libc::EIO) => break,
                Err(e) => return Err(e),
            };
            pending.extend_from_slice(&chunk[..read]);
            masked.clear();
            let held = self.mask_into(&pending, &mut masked, false);
            output.write_all(&masked)?;
            output.flush()?;
            let consumed = pending.len() - held;
            pending.copy_within(consumed.., 0);
            pending.truncate(held);
        }
        masked.clear();
        self.mask_into(&pending, &mut masked, true);
        output.write_all(&masked)?;
        output.flush()
    }

    /// Appends `text`, masked, to `out`, except (unless `at_end`) a tail that could start a
    /// value; returns that tail's length.
    fn mask_into(&self, text: &[u8], out: &mut Vec<u8>, at_end: bool) -> usize {
        let mut at = 0;
        while at < text.len() {
            // Held first: "abcd" may be the start of a longer value "abcdef".
            if !at_end && self.could_start_value(&text[at..]) {
                return text.len() - at;
            } else if let Some(len) = self.value_at(text, at) {
                out.extend_from_slice(MASK);
                at += len;
            } else {
                out.push(text[at]);
                at += 1;
            }
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `pieces` as separate reads.
    struct Pieces<'a>(std::collections::VecDeque<&'a [u8]>);

    impl Read for Pieces<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let Some(piece) = self.0.pop_front() else {
                return Ok(0);
            };
            buf[..piece.len()].copy_from_slice(piece);
            Ok(piece.len())
        }
    }

    fn masked(secrets: &[&str], pieces: &[&str]) -> String {
        let masker = Masker::new(secrets.iter().copied());
        let mut out = Vec::new();
        let input = Pieces(pieces.iter().map(|p| p.as_bytes()).collect());
        masker.copy(input, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values_are_masked_even_in_pieces() {
        assert_eq!(masked(&["hunter22"], &["pw=hunter22\n"]), "pw=***\n");
        assert_eq!(masked(&["hunter22"], &["pw=hun", "ter22!"]), "pw=***!");
        assert_eq!(
            masked(&["hunter22"], &["h", "u", "n", "t", "e", "r", "2", "2"]),
            "***"
        );
        assert_eq!(masked(&["hunter22"], &["hunt", "hunter22"]), "hunt***");
        assert_eq!(masked(&["abcd", "abcdef"], &["abcdefabcd"]), "******");
        assert_eq!(masked(&["abcd", "abcdef"], &["abcd", "ef"]), "***");
        assert_eq!(
            masked(&["abc"], &["abc"]),
            "abc",
            "short values are not masked"
        );
        assert_eq!(
            masked(&["hunter22"], &["hunter2"]),
            "hunter2",
            "a start alone"
        );
        assert_eq!(
            masked(
                &["-----BEGIN-----\nsecretline\n-----END-----"],
                &["x secretline y"]
            ),
            "x *** y",
            "each line of a multi-line value"
        );
    }

    /// What cannot start a value is written at once, not held for a line end.
    #[test]
    fn output_is_not_held_longer_than_needed() {
        let masker = Masker::new(["hunter22"]);
        let mut out = Vec::new();
        let held = masker.mask_into(b"prompt> hun", &mut out, false);
        assert_eq!((out.as_slice(), held), (&b"prompt> "[..], 3));
    }
}
