//! A file's bytes as an answer: whole (`200`), one range (`206`) or not modified (`304`), streamed
//! from the blob store, with the headers API.md lists.

use application::ports::{BlobRead, ByteRange};
use domain::files::File;
use futures::TryStreamExt;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use poem::http::{header, HeaderValue, StatusCode};
use poem::{Body, IntoResponse, Response};
use poem_openapi::registry::{
    MetaHeader, MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry,
};
use poem_openapi::ApiResponse;

use crate::api::problems::string_header;

/// RFC 8187's `attr-char`, which goes unencoded in `filename*`; every other byte is `%XX`.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

pub enum Download {
    Bytes {
        file: File,
        read: BlobRead,
        range: Option<ByteRange>,
    },
    NotModified {
        etag: String,
    },
    /// The bytes are at `location`, a presigned URL of the blob store (`--files-redirect`).
    Redirect {
        location: String,
    },
}

/// The file's `ETag`: its digest, quoted.
pub fn file_etag(file: &File) -> String {
    format!("\"{}\"", file.sha256.to_hex())
}

/// `attachment; filename*=UTF-8''…` (RFC 6266 with RFC 8187's encoding).
pub fn content_disposition(name: &str) -> String {
    format!("attachment; filename*=UTF-8''{}", utf8_percent_encode(name, ATTR_CHAR))
}

fn insert(response: &mut Response, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

impl IntoResponse for Download {
    fn into_response(self) -> Response {
        match self {
            Download::Redirect { location } => {
                let mut response = Response::builder().status(StatusCode::TEMPORARY_REDIRECT).finish();
                insert(&mut response, header::LOCATION, &location);
                // The URL lapses within minutes: nobody may keep the answer.
                insert(&mut response, header::CACHE_CONTROL, "no-store");
                response
            }
            Download::NotModified { etag } => {
                let mut response = Response::builder().status(StatusCode::NOT_MODIFIED).finish();
                insert(&mut response, header::ETAG, &etag);
                response
            }
            Download::Bytes { file, read, range } => {
                let (status, length) = match range {
                    Some(r) => (StatusCode::PARTIAL_CONTENT, r.last - r.first + 1),
                    None => (StatusCode::OK, read.size),
                };
                let bytes = read.bytes.map_err(std::io::Error::other);
                let mut response = Response::builder().status(status).body(Body::from_bytes_stream(bytes));
                insert(&mut response, header::CONTENT_TYPE, file.content_type.as_str());
                insert(&mut response, header::CONTENT_LENGTH, &length.to_string());
                insert(&mut response, header::ETAG, &file_etag(&file));
                insert(&mut response, header::CONTENT_DISPOSITION, &content_disposition(file.name.as_str()));
                insert(&mut response, header::ACCEPT_RANGES, "bytes");
                // Bytes never change under one ETag: a cache may keep them, and must ask again.
                insert(&mut response, header::CACHE_CONTROL, "private, no-cache");
                if let Some(r) = range {
                    insert(
                        &mut response,
                        header::CONTENT_RANGE,
                        &format!("bytes {}-{}/{}", r.first, r.last, read.size),
                    );
                }
                response
            }
        }
    }
}

fn binary() -> Vec<MetaMediaType> {
    let schema = MetaSchemaRef::Inline(Box::new(MetaSchema { format: Some("binary"), ..MetaSchema::new("string") }));
    vec![MetaMediaType { content_type: "application/octet-stream", schema }]
}

fn bytes_headers() -> Vec<MetaHeader> {
    vec![
        string_header("Content-Disposition", "`attachment; filename*=UTF-8''<name>` (RFC 8187)"),
        string_header("ETag", "The quoted SHA-256 of the bytes"),
        string_header("Accept-Ranges", "`bytes`"),
    ]
}

impl ApiResponse for Download {
    fn meta() -> MetaResponses {
        let mut partial = bytes_headers();
        partial.push(string_header("Content-Range", "`bytes FIRST-LAST/SIZE`"));
        MetaResponses {
            responses: vec![
                MetaResponse {
                    description: "The bytes, with the media type they were uploaded with",
                    status: Some(200),
                    status_range: None,
                    content: binary(),
                    headers: bytes_headers(),
                },
                MetaResponse {
                    description: "The bytes of the one range asked for",
                    status: Some(206),
                    status_range: None,
                    content: binary(),
                    headers: partial,
                },
                MetaResponse {
                    description: "With `--files-redirect` (S3): the bytes are at `Location`, a presigned URL valid at most 5 minutes that answers `Range` itself",
                    status: Some(307),
                    status_range: None,
                    content: Vec::new(),
                    headers: vec![string_header("Location", "The presigned URL of the bytes")],
                },
                MetaResponse {
                    description: "`If-None-Match` holds the file's ETag: the copy the client has is current",
                    status: Some(304),
                    status_range: None,
                    content: Vec::new(),
                    headers: vec![string_header("ETag", "The quoted SHA-256 of the bytes")],
                },
            ],
        }
    }

    fn register(_registry: &mut Registry) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_sent_in_rfc_8187_form() {
        assert_eq!(content_disposition("report.pdf"), "attachment; filename*=UTF-8''report.pdf");
        assert_eq!(
            content_disposition("Über uns; \"final\" 100%.txt"),
            "attachment; filename*=UTF-8''%C3%9Cber%20uns%3B%20%22final%22%20100%25.txt"
        );
    }
}
