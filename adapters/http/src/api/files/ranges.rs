//! The request headers of a download: `Range` (one byte range) and `If-None-Match`.

use application::files::RangeRequest;

/// The one range of `Range: bytes=…`, or `None` when the header is absent, not a byte range, or
/// asks for several ranges — RFC 9110 lets a server ignore those and send the whole file.
pub fn parse_range(header: Option<&str>) -> Option<RangeRequest> {
    let spec = header?.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let number = |text: &str| -> Option<u64> {
        let text = text.trim();
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok()).flatten()
    };
    if first.trim().is_empty() {
        return number(last).map(RangeRequest::Suffix);
    }
    let first = number(first)?;
    if last.trim().is_empty() {
        return Some(RangeRequest::From { first, last: None });
    }
    let last = number(last)?;
    (last >= first).then_some(RangeRequest::From { first, last: Some(last) })
}

/// Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks for this header), or is
/// `*`.
pub fn none_match(header: Option<&str>, etag: &str) -> bool {
    let Some(header) = header else {
        return false;
    };
    header.split(',').map(str::trim).any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_byte_range_is_understood_and_anything_else_ignored() {
        let from = |first, last| Some(RangeRequest::From { first, last });
        assert_eq!(parse_range(Some("bytes=0-99")), from(0, Some(99)));
        assert_eq!(parse_range(Some("bytes=100-")), from(100, None));
        assert_eq!(parse_range(Some("bytes=-5")), Some(RangeRequest::Suffix(5)));
        assert_eq!(parse_range(Some(" bytes= 2 - 3 ")), from(2, Some(3)));
        for ignored in [
            None,
            Some("bytes=5-2"),
            Some("bytes=0-1,4-5"),
            Some("items=0-1"),
            Some("bytes=a-b"),
            Some("bytes=-"),
            Some("bytes=+1-2"),
            Some("bytes=99999999999999999999999-"),
        ] {
            assert_eq!(parse_range(ignored), None, "{ignored:?}");
        }
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists_and_stars() {
        let etag = "\"abc\"";
        assert!(none_match(Some("\"abc\""), etag));
        assert!(none_match(Some("W/\"abc\""), etag));
        assert!(none_match(Some("\"x\", \"abc\""), etag));
        assert!(none_match(Some("*"), etag));
        assert!(!none_match(Some("\"abd\""), etag));
        assert!(!none_match(None, etag));
    }
}
