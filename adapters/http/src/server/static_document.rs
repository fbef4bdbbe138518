//! Documents that never change while the process runs: Swagger UI (1.8 MB of HTML, script and
//! styles) and the OpenAPI document. Each is built, compressed and tagged once, by the first request
//! that asks for it (so that a start, a Lambda cold start above all, pays nothing for documents
//! nobody reads), and then served as stored bytes: gzip when the client accepts it, else as is.
//! Every representation has a strong `ETag` made from its own bytes, so a client may keep it and
//! revalidate it (`Cache-Control: no-cache`) with `If-None-Match`, answered `304` without a body.
//!
//! gzip only: every client that sends `Accept-Encoding` takes it, and its codec is small and pure
//! Rust (brotli would save a little more for a much larger build).

use std::io::Write;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use flate2::write::GzEncoder;
use flate2::Compression;
use poem::http::header::{self, HeaderName};
use poem::http::{HeaderMap, HeaderValue, Method, StatusCode};
use poem::{Body, Endpoint, IntoResponse, Request, Response};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::api::problems::ProblemResponse;

/// How long a client or cache may keep a document: as long as it likes, asking each time whether
/// it is still current (a restart with a new version changes the tag).
const CACHE_CONTROL: &str = "no-cache";

/// One encoding of the document: its bytes and the strong tag made from them.
struct Representation {
    bytes: bytes::Bytes,
    etag: HeaderValue,
}

impl Representation {
    fn new(bytes: Vec<u8>) -> Self {
        let tag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(Sha256::digest(&bytes)));
        // Base64url inside quotes is always a valid header value.
        let etag = HeaderValue::from_str(&tag).unwrap_or(HeaderValue::from_static("\"\""));
        Self { bytes: bytes.into(), etag }
    }
}

/// A document as served: its representations and its own headers.
pub struct Document {
    content_type: &'static str,
    identity: Representation,
    /// `None` when compressing failed or did not make it smaller.
    gzip: Option<Representation>,
    /// Headers of this document's own (e.g. Swagger UI's `Content-Security-Policy`).
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Document {
    /// Compresses and tags `body`: the costly part, done once.
    pub fn new(body: impl Into<Vec<u8>>, content_type: &'static str) -> Self {
        let body = body.into();
        let gzip = gzip(&body).filter(|compressed| compressed.len() < body.len()).map(Representation::new);
        Self { content_type, identity: Representation::new(body), gzip, headers: Vec::new() }
    }

    /// Adds a header to every answer of this document; a value that is not a valid header value is
    /// a bug, logged and left out.
    pub fn with_header(mut self, name: HeaderName, value: &str) -> Self {
        match HeaderValue::from_str(value) {
            Ok(value) => self.headers.push((name, value)),
            Err(_) => tracing::error!(header = %name, "a document's header value is not valid; left out"),
        }
        self
    }

    fn answer(&self, req: &Request) -> Response {
        let (representation, gzipped) = match &self.gzip {
            Some(gzip) if accepts_gzip(req.headers()) => (gzip, true),
            _ => (&self.identity, false),
        };
        let mut response = if matches_none_of(req.headers(), &representation.etag) {
            Response::builder().status(StatusCode::NOT_MODIFIED).finish()
        } else {
            Response::builder().content_type(self.content_type).body(Body::from_bytes(representation.bytes.clone()))
        };
        let headers = response.headers_mut();
        headers.insert(header::ETAG, representation.etag.clone());
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL));
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if gzipped {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        response
    }
}

type Build = Arc<dyn Fn() -> Document + Send + Sync>;

/// The endpoint serving one [`Document`], built by the first request that asks for it.
pub struct StaticDocument {
    build: Build,
    built: OnceCell<Document>,
}

impl StaticDocument {
    pub fn new(build: impl Fn() -> Document + Send + Sync + 'static) -> Self {
        Self { build: Arc::new(build), built: OnceCell::new() }
    }

    async fn document(&self) -> poem::Result<&Document> {
        self.built
            .get_or_try_init(|| {
                // Compressing 1.8 MB takes tens of milliseconds: not on a thread that serves requests.
                let build = self.build.clone();
                tokio::task::spawn_blocking(move || build())
            })
            .await
            .map_err(|error| {
                tracing::error!(%error, "a document could not be built");
                poem::Error::from_response(ProblemResponse::internal().into_response())
            })
    }
}

impl Endpoint for StaticDocument {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            let problem = ProblemResponse::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed",
                "This path does not support this method.",
            );
            let mut response = problem.into_response();
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return Ok(response);
        }
        Ok(self.document().await?.answer(&req))
    }
}

fn gzip(body: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::best());
    match encoder.write_all(body).and_then(|()| encoder.finish()) {
        Ok(compressed) => Some(compressed),
        Err(error) => {
            tracing::error!(%error, "a document could not be compressed; it is served as is");
            None
        }
    }
}

/// Whether `Accept-Encoding` accepts gzip (RFC 9110 §12.5.3): named, or through `*`, with a
/// weight above zero. No header at all means the client asked for nothing: it gets the bytes as is.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let (mut gzip, mut any) = (None, None);
    let items = headers.get_all(header::ACCEPT_ENCODING).into_iter().filter_map(|v| v.to_str().ok());
    for item in items.flat_map(|v| v.split(',')) {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or_default().trim();
        let weight = parts
            .filter_map(|p| p.trim().split_once('='))
            .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
            .map_or(1.0, |(_, q)| q.trim().parse::<f32>().unwrap_or(0.0));
        if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            gzip = Some(weight);
        } else if coding == "*" {
            any = Some(weight);
        }
    }
    gzip.or(any).is_some_and(|weight| weight > 0.0)
}

/// Whether `If-None-Match` names `etag` (or is `*`): the client's copy is current. The comparison
/// is weak, as RFC 9110 §13.1.2 wants for this header.
fn matches_none_of(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Ok(etag) = etag.to_str() else { return false };
    headers
        .get_all(header::IF_NONE_MATCH)
        .into_iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn request(headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder().uri_str("/docs");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.finish()
    }

    fn accepts(value: &str) -> bool {
        accepts_gzip(request(&[("accept-encoding", value)]).headers())
    }

    #[test]
    fn gzip_is_accepted_by_name_or_by_star_unless_its_weight_is_zero() {
        assert!(accepts("gzip"));
        assert!(accepts("br, gzip;q=0.5, deflate"));
        assert!(accepts("GZIP"));
        assert!(accepts("*"));
        assert!(accepts("identity, *;q=0.1"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("gzip; q=0.000, *"), "named gzip wins over *");
        assert!(!accepts("br, deflate"));
        assert!(!accepts("identity"));
        assert!(!accepts_gzip(request(&[]).headers()), "no header: as is");
    }

    #[tokio::test]
    async fn the_document_is_served_gzipped_or_as_is_and_revalidated_by_its_tag() {
        let html = "<html>".to_owned() + &"Swagger UI ".repeat(1000) + "</html>";
        let served = html.clone();
        let document = StaticDocument::new(move || {
            Document::new(served.clone(), "text/html; charset=utf-8")
                .with_header(header::CONTENT_SECURITY_POLICY, "default-src 'none'")
        });

        let plain = document.call(request(&[])).await.expect("an answer");
        let plain_tag = plain.header(header::ETAG).expect("a tag").to_owned();
        assert_eq!(plain.header(header::CONTENT_ENCODING), None);
        assert_eq!(plain.header(header::VARY), Some("accept-encoding"));
        assert_eq!(plain.header(header::CACHE_CONTROL), Some("no-cache"));
        assert_eq!(plain.header(header::CONTENT_SECURITY_POLICY), Some("default-src 'none'"));
        assert_eq!(plain.into_body().into_string().await.expect("a body"), html);

        let zipped = document.call(request(&[("accept-encoding", "gzip, br")])).await.expect("an answer");
        let zipped_tag = zipped.header(header::ETAG).expect("a tag").to_owned();
        assert_eq!(zipped.header(header::CONTENT_ENCODING), Some("gzip"));
        assert_ne!(zipped_tag, plain_tag, "each representation has its own strong tag");
        let bytes = zipped.into_body().into_vec().await.expect("a body");
        assert!(bytes.len() < html.len() / 10, "{} bytes", bytes.len());
        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(bytes.as_slice()).read_to_string(&mut unzipped).expect("gzip");
        assert_eq!(unzipped, html);

        let current = document.call(request(&[("if-none-match", &format!("\"x\", W/{plain_tag}"))])).await;
        let current = current.expect("an answer");
        assert_eq!(current.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(current.header(header::ETAG), Some(plain_tag.as_str()));
        assert!(current.into_body().into_vec().await.expect("a body").is_empty());
        let other_encoding = document.call(request(&[("if-none-match", &plain_tag), ("accept-encoding", "gzip")]));
        assert_eq!(other_encoding.await.expect("an answer").status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn methods_other_than_get_and_head_are_405() {
        let document = StaticDocument::new(|| Document::new("{}", "application/json"));
        let post = Request::builder().method(Method::POST).uri_str("/openapi.json").finish();

        let answer = document.call(post).await.expect("an answer");

        assert_eq!(answer.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(answer.header(header::ALLOW), Some("GET, HEAD"));
    }
}
