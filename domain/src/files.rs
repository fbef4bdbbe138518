//! Files shared in a project (API.md, "Files"): the metadata the core reasons about. The bytes
//! are not here: they live in a blob store, under the file's id only (never under its name).

use std::fmt;

use uuid::Uuid;

use crate::errors::FieldViolation;
use crate::text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub Uuid);

impl fmt::Display for FileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A file's label: 1 to 255 characters after trimming, no `/`, `\` or control characters. Only
/// ever shown (and sent back in `Content-Disposition`); bytes are stored under the file's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName(String);

impl FileName {
    pub fn parse(raw: impl text::Raw) -> Result<Self, FieldViolation> {
        let name = text::line("name", raw, 1, 255)?;
        if name.contains(['/', '\\']) {
            return Err(FieldViolation::new("name", "must not contain `/` or `\\`"));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The SHA-256 of a file's bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    /// Lower-case hex, as API.md's `sha256` and the file's `ETag` show it.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({})", self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_is_a_label_that_cannot_name_a_path() {
        assert_eq!(FileName::parse(" report 2026.pdf ").unwrap().as_str(), "report 2026.pdf");
        assert_eq!(FileName::parse("Über – ünïcode.txt").unwrap().as_str(), "Über – ünïcode.txt");
        for bad in ["", "   ", "a/b", "..\\x", "tab\there", &"n".repeat(256)] {
            assert!(FileName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(FileName::parse("n".repeat(255)).is_ok());
    }

    #[test]
    fn a_digest_shows_as_lower_case_hex() {
        let mut bytes = [0u8; 32];
        bytes[0] = 0xab;
        bytes[31] = 0x01;
        let hex = Sha256Digest(bytes).to_hex();
        assert_eq!(hex.len(), 64);
        assert!(hex.starts_with("ab00") && hex.ends_with("01"));
    }
}
