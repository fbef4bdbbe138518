//! `Idempotency-Key` on every POST (API.md, "Idempotent retries"). This adapter owns the header,
//! the fingerprint and the answers' encoding; `application::idempotency` owns the claim and the
//! record. An operation with a key answers from its encoded answer — the first time and on every
//! replay alike — so a replay is the first answer byte for byte (its `X-Request-Id` included: it
//! names the request that made the answer, as a problem body's `request_id` does), plus
//! `Idempotency-Replayed: true`.

use std::future::Future;
use std::sync::{Arc, Mutex};

use application::idempotency::{is_stored, Claim, KeyedRequest, Lease, Recorder, Retries, Retry};
use application::AppError;
use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use domain::idempotency::{Answer, Fingerprint, Scope};
use poem::http::{HeaderName, HeaderValue, StatusCode};
use poem::{IntoResponse, Request, Response};
use poem_openapi::registry::{MetaHeader, MetaResponses, Registry};
use poem_openapi::types::Type;
use poem_openapi::ApiResponse;
use sha2::{Digest, Sha256};

use crate::api::problems::{ApiError, ErrorSet, ProblemResponse};
use crate::api::sealed_answers::Seal;
use crate::server::request_id::{current_request_id, REQUEST_ID_HEADER};

pub const KEY_HEADER: &str = "Idempotency-Key";
pub const REPLAYED_HEADER: &str = "idempotency-replayed";

/// The SHA-256 of a POST's body, taken by the edge (which holds the body's bytes) for requests
/// that carry a key; for an upload, the digest of its media type and bytes, taken as they were
/// stored.
#[derive(Debug, Clone, Copy)]
pub struct BodyDigest(pub [u8; 32]);

impl BodyDigest {
    pub fn of(body: &[u8]) -> Self {
        Self(Sha256::digest(body).into())
    }
}

/// The keyed request behind an operation's `Idempotency-Key` (validated by its declaration), or
/// `None` without one. Same operation, path, caller and body ⇒ same fingerprint.
fn keyed(key: Option<String>, req: &Request, scope: Scope, body: BodyDigest) -> Option<KeyedRequest> {
    let key = key?;
    let mut digest = Sha256::new();
    // The query only when there is one, so that the fingerprints of operations without one
    // stay what they were.
    let query = req.uri().query().map(str::as_bytes);
    for part in [Some(req.method().as_str().as_bytes()), Some(req.uri().path().as_bytes()), query].into_iter().flatten()
    {
        digest.update((part.len() as u64).to_be_bytes());
        digest.update(part);
    }
    match scope {
        Scope::Caller(user) => digest.update(user.0.as_bytes()),
        Scope::Request => digest.update([0u8; 16]),
    }
    digest.update(body.0);
    Some(KeyedRequest { key, scope, fingerprint: Fingerprint(digest.finalize().into()) })
}

/// Runs an operation under its `Idempotency-Key` (`key`, in `scope`): replays a stored answer,
/// or runs `run` with the [`Retry`] its use case records its answer through, then stores the
/// answer of an outcome without effect (or releases the key for an answer that is not stored:
/// `429`, `503`, a key in use). Without a key, it only runs `run` and renders its result.
pub async fn answer<T, R, S, F, Fut>(
    req: &Request,
    key: Option<String>,
    scope: Scope,
    render: fn(&T) -> R,
    run: F,
) -> Result<Answered<R>, ApiError<S>>
where
    T: Send + Sync + 'static,
    R: IntoResponse + 'static,
    S: ErrorSet,
    F: FnOnce(Option<Retry<T>>) -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
{
    let body = req.extensions().get::<BodyDigest>().copied().unwrap_or_else(|| BodyDigest::of(b""));
    answer_for_body(req, body, key, scope, render, run).await
}

/// [`answer`] for a request whose body the edge did not read (an upload): `body` stands for it.
pub async fn answer_for_body<T, R, S, F, Fut>(
    req: &Request,
    body: BodyDigest,
    key: Option<String>,
    scope: Scope,
    render: fn(&T) -> R,
    run: F,
) -> Result<Answered<R>, ApiError<S>>
where
    T: Send + Sync + 'static,
    R: IntoResponse + 'static,
    S: ErrorSet,
    F: FnOnce(Option<Retry<T>>) -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
{
    let Some(request) = keyed(key, req, scope, body) else {
        return run(None).await.map(|value| Answered::Now(render(&value))).map_err(ApiError::from);
    };
    let retries = req.data::<Retries>().ok_or_else(|| AppError::Internal("idempotency records not wired".into()))?;
    let seal = Arc::new(Seal::for_request(&request).ok_or_else(|| AppError::Internal("no answer seal".into()))?);
    let lease = match retries.claim(&request).await? {
        Claim::Replay(answer) => {
            let plain = seal.open(&answer).ok_or_else(|| AppError::Internal("a stored answer did not open".into()))?;
            return Ok(Answered::Stored { plain, replayed: true });
        }
        Claim::Run(lease) => lease,
    };
    let recorder = Arc::new(Rendering { render, seal: seal.clone(), recorded: Mutex::new(None) });
    let outcome = run(Some(retries.retry(&lease, recorder.clone()))).await;
    let plain = match outcome {
        Ok(value) => match recorder.take() {
            Some(recorded) => return Ok(Answered::Stored { plain: recorded, replayed: false }),
            // The use case wrote nothing (e.g. a logout of an unknown token): no effect to store with.
            None => encode(render(&value).into_response()).await,
        },
        Err(err) if !is_stored(&err) => {
            release(retries, &lease).await;
            return Err(ApiError::from(err));
        }
        Err(err) => encode(ApiError::<S>::from(err).into_response()).await,
    };
    match seal.seal(plain.clone()) {
        // The client still gets its answer if storing fails; a retry finds the claim until its
        // lease ends, then runs again — the outcome had no effect, so running it again is safe.
        Some(answer) => {
            if let Err(err) = retries.store(&lease, answer).await {
                tracing::warn!(error = %err, "the answer of a keyed request could not be stored");
            }
        }
        None => tracing::error!("the answer of a keyed request could not be sealed"),
    }
    Ok(Answered::Stored { plain, replayed: false })
}

async fn release(retries: &Retries, lease: &Lease) {
    if let Err(err) = retries.release(lease).await {
        tracing::warn!(error = %err, "a keyed request's claim could not be released; it lapses with its lease");
    }
}

/// Renders a use case's result as the operation answers it, and keeps what it rendered: the
/// operation sends exactly the bytes its unit of work stored.
struct Rendering<T, R> {
    render: fn(&T) -> R,
    seal: Arc<Seal>,
    recorded: Mutex<Option<Vec<u8>>>,
}

impl<T, R> Rendering<T, R> {
    fn take(&self) -> Option<Vec<u8>> {
        self.recorded.lock().ok().and_then(|mut recorded| recorded.take())
    }
}

#[async_trait]
impl<T: Send + Sync + 'static, R: IntoResponse + 'static> Recorder<T> for Rendering<T, R> {
    async fn answer(&self, value: &T) -> Answer {
        let plain = encode((self.render)(value).into_response()).await;
        let sealed = self.seal.seal(plain.clone()).unwrap_or_else(|| {
            // Only a failing random source gets here; the replay of this answer will be a 500.
            tracing::error!("the answer of a keyed request could not be sealed");
            Answer(Vec::new())
        });
        if let Ok(mut recorded) = self.recorded.lock() {
            *recorded = Some(plain);
        }
        sealed
    }
}

/// An answer as stored: status, the operation's own headers, body.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

async fn encode(response: Response) -> Vec<u8> {
    let status = response.status().as_u16();
    let mut headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
        .collect();
    // A replay is the first answer: it names the request that made it (as a problem body does).
    headers.push((REQUEST_ID_HEADER.to_owned(), current_request_id()));
    let body = match response.into_body().into_bytes().await {
        Ok(bytes) => BASE64.encode(bytes),
        Err(err) => {
            tracing::error!(error = %err, "an answer's body could not be read to be stored");
            String::new()
        }
    };
    serde_json::to_vec(&Stored { status, headers, body }).unwrap_or_default()
}

fn decode(plain: &[u8]) -> Option<Response> {
    let stored: Stored = serde_json::from_slice(plain).ok()?;
    let mut response = Response::builder().status(StatusCode::from_u16(stored.status).ok()?);
    for (name, value) in &stored.headers {
        response = response.header(HeaderName::from_bytes(name.as_bytes()).ok()?, HeaderValue::from_str(value).ok()?);
    }
    Some(response.body(BASE64.decode(stored.body).ok()?))
}

/// An operation's success type, answered now or from its stored answer (opened).
pub enum Answered<R> {
    Now(R),
    Stored { plain: Vec<u8>, replayed: bool },
}

impl<R: IntoResponse> IntoResponse for Answered<R> {
    fn into_response(self) -> Response {
        match self {
            Answered::Now(response) => response.into_response(),
            Answered::Stored { plain, replayed } => {
                let Some(mut response) = decode(&plain) else {
                    tracing::error!("a stored answer could not be decoded");
                    return ProblemResponse::internal().into_response();
                };
                if replayed {
                    response.headers_mut().insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
                }
                response
            }
        }
    }
}

impl<R: ApiResponse> ApiResponse for Answered<R> {
    const BAD_REQUEST_HANDLER: bool = R::BAD_REQUEST_HANDLER;

    fn meta() -> MetaResponses {
        let mut meta = R::meta();
        for response in &mut meta.responses {
            response.headers.push(MetaHeader {
                name: "Idempotency-Replayed".to_owned(),
                description: Some(
                    "`true` when this is the stored answer of an earlier request with the same `Idempotency-Key`."
                        .to_owned(),
                ),
                required: false,
                deprecated: false,
                schema: String::schema_ref(),
            });
        }
        meta
    }

    fn register(registry: &mut Registry) {
        R::register(registry);
    }

    fn from_parse_request_error(err: poem::Error) -> Self {
        Answered::Now(R::from_parse_request_error(err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_answer_survives_its_encoding_byte_for_byte() {
        let response = Response::builder()
            .status(StatusCode::CREATED)
            .header("location", "/api/v1/projects/1")
            .header("etag", "\"1\"")
            .header("content-type", "application/json")
            .body(vec![0u8, 159, 146, 150, b'{']);

        let decoded = decode(&encode(response).await).unwrap();

        assert_eq!(decoded.status(), StatusCode::CREATED);
        assert_eq!(decoded.headers()["location"], "/api/v1/projects/1");
        assert_eq!(decoded.headers()["etag"], "\"1\"");
        assert_eq!(decoded.into_body().into_vec().await.unwrap(), vec![0u8, 159, 146, 150, b'{']);
    }
}
