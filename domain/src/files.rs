//! Files shared in a project (API.md, "Files"): the metadata the core reasons about. The bytes
//! are not here: they live in a blob store, under the file's id only (never under its name).

use std::fmt;

use time::OffsetDateTime;
use uuid::Uuid;

use crate::errors::FieldViolation;
use crate::pagination::{json_text_len, Continuation, JsonSize, PageBudget, PageLimit};
use crate::projects::ProjectId;
use crate::text;
use crate::users::{Profile, UserId};

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

/// A file's media type as its uploader sent it (`type/subtype`, parameters allowed): at most 255
/// visible ASCII characters or spaces, one `/` between a non-empty type and subtype, which are
/// lower-cased (media types are case-insensitive, RFC 9110 §8.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaType(String);

impl MediaType {
    /// What a file is when its uploader did not say.
    pub fn octet_stream() -> Self {
        Self("application/octet-stream".to_owned())
    }

    pub fn parse(raw: &str) -> Result<Self, FieldViolation> {
        let bad = || FieldViolation::new("content_type", "must be a media type such as `text/plain`");
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > 255 || !raw.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
            return Err(bad());
        }
        let (essence, params) = raw.split_once(';').map_or((raw, None), |(e, p)| (e, Some(p)));
        let (kind, subtype) = essence.trim().split_once('/').ok_or_else(bad)?;
        let token =
            |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b));
        if !token(kind) || !token(subtype) {
            return Err(bad());
        }
        let essence = format!("{}/{}", kind.to_ascii_lowercase(), subtype.to_ascii_lowercase());
        Ok(Self(match params {
            Some(params) => format!("{essence};{params}"),
            None => essence,
        }))
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

impl Sha256Digest {
    /// The digest from its 64 lower- or upper-case hex digits.
    pub fn from_hex(hex: &str) -> Option<Self> {
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(bytes))
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256Digest({})", self.to_hex())
    }
}

/// A file's metadata. Its bytes are in the blob store under `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub id: FileId,
    pub project_id: ProjectId,
    pub name: FileName,
    pub content_type: MediaType,
    pub size: u64,
    pub sha256: Sha256Digest,
    pub uploader_id: UserId,
    pub created_at: OffsetDateTime,
}

/// A file with its uploader's profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileView {
    pub file: File,
    pub uploader: Profile,
}

/// Its name, media type and uploader, and at most 300 bytes for ids, size, digest, time and
/// field names.
impl JsonSize for FileView {
    fn json_size(&self) -> usize {
        300 + json_text_len(self.file.name.as_str())
            + json_text_len(self.file.content_type.as_str())
            + self.uploader.json_size()
    }
}

/// One page of a project's files, newest first (creation time, then id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectFilesQuery {
    pub project: ProjectId,
    pub after: Option<Continuation>,
    pub limit: PageLimit,
    pub budget: PageBudget,
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
    fn media_types_are_checked_and_their_essence_lower_cased() {
        let parse = |raw: &str| MediaType::parse(raw).map(|m| m.as_str().to_owned());
        assert_eq!(parse("text/plain").unwrap(), "text/plain");
        assert_eq!(parse(" Image/PNG ").unwrap(), "image/png");
        assert_eq!(parse("text/plain; charset=UTF-8").unwrap(), "text/plain; charset=UTF-8");
        assert_eq!(parse("application/vnd.api+json").unwrap(), "application/vnd.api+json");
        for bad in [
            "",
            "text",
            "/plain",
            "text/",
            "te xt/plain",
            "text/plain\r\nX: y",
            "tëxt/plain",
            &format!("a/{}", "b".repeat(254)),
        ] {
            assert!(MediaType::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(MediaType::octet_stream().as_str(), "application/octet-stream");
    }

    #[test]
    fn a_digest_shows_as_lower_case_hex() {
        let mut bytes = [0u8; 32];
        bytes[0] = 0xab;
        bytes[31] = 0x01;
        let hex = Sha256Digest(bytes).to_hex();
        assert_eq!(hex.len(), 64);
        assert!(hex.starts_with("ab00") && hex.ends_with("01"));
        assert_eq!(Sha256Digest::from_hex(&hex), Some(Sha256Digest(bytes)));
        assert_eq!(Sha256Digest::from_hex(&hex.to_uppercase()), Some(Sha256Digest(bytes)));
        assert_eq!(Sha256Digest::from_hex(&hex[1..]), None);
        assert_eq!(Sha256Digest::from_hex(&format!("{}zz", &hex[2..])), None);
    }
}
