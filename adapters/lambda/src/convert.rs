//! Lambda's HTTP request to poem's, and poem's answer back.

use lambda_http::{Body, Error, RequestExt};
use poem::http::{self, uri::Scheme};
use poem::web::{LocalAddr, RemoteAddr};

/// The request as the app would receive it from a listener. The path is the one the client
/// asked for: API Gateway's stage (`/prod`), which `lambda_http` puts in front of it, is no part
/// of the app's routes.
pub fn into_poem_request(request: lambda_http::Request) -> poem::Request {
    let (mut parts, body) = request.into_parts();
    let raw_path = parts.extensions.raw_http_path();
    if !raw_path.is_empty() {
        let path_and_query = match parts.uri.query() {
            Some(query) => format!("{raw_path}?{query}"),
            None => raw_path.to_owned(),
        };
        // A REST API hands over its path decoded: one that is no longer a valid URI (a space)
        // keeps lambda_http's encoded form.
        if let Ok(uri) = path_and_query.parse::<http::Uri>() {
            parts.uri = uri;
        }
    }
    let body = match body {
        Body::Text(text) => poem::Body::from_string(text),
        Body::Binary(bytes) => poem::Body::from_vec(bytes),
        _ => poem::Body::empty(),
    };
    // No socket: the client's address is API Gateway's business (its access logs).
    let parts = poem::RequestParts::from((parts, LocalAddr::default(), RemoteAddr::default(), Scheme::HTTPS));
    poem::Request::from_parts(parts, body)
}

/// The app's answer with its body read whole (a Lambda response is one JSON document).
/// `lambda_http` then sends it as text when its `Content-Type` is textual and it carries no
/// `Content-Encoding`, else base64-encoded (`isBase64Encoded`), as API Gateway and function URLs
/// expect binary bodies.
pub async fn into_lambda_response(response: poem::Response) -> Result<http::Response<Body>, Error> {
    let (parts, body) = response.into_parts();
    let bytes = body.into_vec().await?;
    let mut answer = http::Response::new(if bytes.is_empty() { Body::Empty } else { Body::Binary(bytes) });
    *answer.status_mut() = parts.status;
    *answer.headers_mut() = joined(parts.headers);
    Ok(answer)
}

/// The headers with each repeated one (but `Set-Cookie`) as one comma-separated value, which
/// HTTP takes as the same (RFC 9110 §5.3): a payload v2 answer has one value per header, and
/// `lambda_http` would send only the first. `Set-Cookie` cannot be joined; v2 answers carry
/// cookies apart.
fn joined(headers: http::HeaderMap) -> http::HeaderMap {
    let mut joined = http::HeaderMap::with_capacity(headers.keys_len());
    for name in headers.keys() {
        let mut values = headers.get_all(name).iter();
        let single = headers.get_all(name).iter().count() == 1;
        if single || name == http::header::SET_COOKIE {
            for value in values.by_ref() {
                joined.append(name.clone(), value.clone());
            }
            continue;
        }
        let parts: Vec<&[u8]> = values.map(http::HeaderValue::as_bytes).collect();
        if let Ok(value) = http::HeaderValue::from_bytes(&parts.join(&b", "[..])) {
            joined.insert(name.clone(), value);
        }
    }
    joined
}
