//! `ETag` and `If-Match` for versioned resources: the version as a strong entity tag.

use application::AppError;

pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The version `If-Match` asks for: `None` when absent, empty or `*`. (The schema's pattern has
/// already refused anything that is not one entity tag: 400.) A tag that can never match a
/// version (weak, not a number) fails the precondition, as RFC 9110 wants for strong matching.
pub fn expected_version(if_match: Option<&str>) -> Result<Option<i64>, AppError> {
    let Some(raw) = if_match.map(str::trim) else {
        return Ok(None);
    };
    if raw.is_empty() || raw == "*" {
        return Ok(None);
    }
    raw.strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|v| *v >= 1)
        .map(Some)
        .ok_or(AppError::VersionMismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strong_tags_parse_and_anything_else_cannot_match() {
        assert_eq!(expected_version(None), Ok(None));
        assert_eq!(expected_version(Some("*")), Ok(None));
        assert_eq!(expected_version(Some("")), Ok(None));
        assert_eq!(expected_version(Some("\"7\"")), Ok(Some(7)));
        assert_eq!(expected_version(Some(" \"7\" ")), Ok(Some(7)));
        for bad in ["7", "W/\"7\"", "\"x\"", "\"1\", \"2\"", "\"0\""] {
            assert_eq!(expected_version(Some(bad)), Err(AppError::VersionMismatch), "{bad:?}");
        }
        assert_eq!(etag(3), "\"3\"");
    }
}
