//! The end-to-end harness for files: uploads of raw bytes and downloads read as bytes (the JSON
//! client reads bodies as text).

use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::http::{check_problem_contract, check_security_headers, Answer, Session, TestServer};

/// A download as bytes.
#[derive(Debug)]
pub struct Downloaded {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Downloaded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// An upload's options besides its bytes.
#[derive(Debug, Default, Clone, Copy)]
pub struct UploadOptions<'a> {
    /// `application/octet-stream` when not given, unless `bare`.
    pub content_type: Option<&'a str>,
    /// Sends no `Content-Type` at all. Only with text or empty bodies: cargo-lambda's emulator
    /// (Lambda mode) answers 500 itself for a body that is not UTF-8 and says no binary type, as
    /// it cannot put it into the event it hands the function.
    pub bare: bool,
    pub key: Option<&'a str>,
    /// Sends the body in pieces with no `Content-Length` (chunked).
    pub chunked: bool,
}

impl TestServer {
    /// `POST /api/v1/projects/{project}/files?name=…` with `bytes` as the body.
    pub async fn upload(
        &self,
        who: &Session,
        project: &str,
        name: &str,
        bytes: &[u8],
        options: UploadOptions<'_>,
    ) -> Answer {
        let url = format!("{}/api/v1/projects/{project}/files", self.base);
        let mut request = self.client.post(url).query(&[("name", name)]).bearer_auth(&who.access);
        if !options.bare {
            request = request.header("content-type", options.content_type.unwrap_or("application/octet-stream"));
        }
        if let Some(key) = options.key {
            request = request.header("idempotency-key", key);
        }
        request = if options.chunked {
            let pieces: Vec<Result<Vec<u8>, std::io::Error>> = bytes.chunks(4096).map(|c| Ok(c.to_vec())).collect();
            request.body(reqwest::Body::wrap_stream(futures::stream::iter(pieces)))
        } else {
            request.body(bytes.to_vec())
        };
        self.answer(request).await
    }

    /// `GET path` with `headers`, its body read as bytes; an error answer is checked as
    /// [`TestServer::answer`] checks it.
    pub async fn download(&self, path: &str, who: &Session, headers: &[(&str, &str)]) -> Downloaded {
        let mut request = self.client.get(format!("{}{path}", self.base)).bearer_auth(&who.access);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("a readable body").to_vec();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let answer = Answer {
            status,
            headers: headers.clone(),
            body: serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
            text,
        };
        if status.is_client_error() || status.is_server_error() {
            check_problem_contract(&answer);
        }
        check_security_headers(&answer, path);
        Downloaded { status, headers, bytes }
    }
}
