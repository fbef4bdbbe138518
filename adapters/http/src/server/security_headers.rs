//! The headers every answer carries, as the OWASP REST Security Cheat Sheet asks of an API: nothing
//! is cached unless the resource says otherwise (tokens above all: RFC 6749 §5.1), nothing is
//! sniffed into another media type, and nothing is framed. One policy for every answer — the
//! operations', the problems the edge answers itself (413, 503, 404, 405), the 431 the head guard
//! writes, the 503 of a connection past the cap, and the service endpoints — so that no path can
//! forget it.
//!
//! `Strict-Transport-Security` is not here: Tessera speaks plain HTTP behind whatever terminates
//! TLS, which is where that header belongs.

use poem::http::header::HeaderName;
use poem::http::{HeaderMap, HeaderValue};

/// Each header with its value, set on an answer that has not set that header itself: a resource
/// that may be cached (the OpenAPI document, Swagger UI) says so with its own `Cache-Control`, and
/// Swagger UI brings a fuller `Content-Security-Policy`.
pub const DEFAULTS: [(&str, &str); 4] = [
    ("cache-control", "no-store"),
    ("x-content-type-options", "nosniff"),
    ("content-security-policy", "frame-ancestors 'none'"),
    ("x-frame-options", "DENY"),
];

/// Completes `headers` with every [`DEFAULTS`] header the answer has not set.
pub fn apply(headers: &mut HeaderMap) {
    for (name, value) in DEFAULTS {
        if !headers.contains_key(name) {
            headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
        }
    }
}

/// The same headers as raw HTTP/1.1 header lines, for answers written below hyper.
pub fn raw_lines() -> String {
    DEFAULTS.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect()
}

#[cfg(test)]
mod tests {
    use poem::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};

    use super::*;

    #[test]
    fn every_header_is_added_unless_the_answer_set_its_own() {
        let mut headers = HeaderMap::new();
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));

        apply(&mut headers);

        assert_eq!(headers[CACHE_CONTROL], "no-cache", "the resource's own caching stands");
        assert_eq!(headers[X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[CONTENT_SECURITY_POLICY], "frame-ancestors 'none'");
        assert_eq!(headers[X_FRAME_OPTIONS], "DENY");
        assert_eq!(headers.len(), DEFAULTS.len(), "one value each");

        let mut empty = HeaderMap::new();
        apply(&mut empty);
        assert_eq!(empty[CACHE_CONTROL], "no-store");
    }

    #[test]
    fn the_raw_lines_say_the_same() {
        let lines = raw_lines();
        assert!(lines.contains("cache-control: no-store\r\n"), "{lines}");
        assert!(lines.contains("content-security-policy: frame-ancestors 'none'\r\n"), "{lines}");
        assert_eq!(lines.matches("\r\n").count(), DEFAULTS.len());
    }
}
