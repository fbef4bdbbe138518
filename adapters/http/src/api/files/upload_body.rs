//! An upload's body on its way to the blob store: never read whole by the edge, and given up on
//! when its bytes stop arriving.

use std::time::Duration;

use application::ports::{BlobError, ByteStream};
use futures::{StreamExt, TryStreamExt};
use poem::http::{header, Method};
use poem::{Body, Request};

/// How long an upload's body may go without a byte before it is given up on; set by the edge.
#[derive(Debug, Clone, Copy)]
pub struct BodyIdle(pub Duration);

/// Whether a request is an upload (`POST /api/v1/projects/{id}/files`): the edge streams its
/// body instead of reading it under the JSON limit.
pub fn is_upload(method: &Method, path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/v1/projects/") else {
        return false;
    };
    method == Method::POST && rest.strip_suffix("/files").is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// The body's announced `Content-Length`, when it has one.
pub fn announced_length(req: &Request) -> Option<u64> {
    req.headers().get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// The body as chunks for the blob store; one that stays silent for `idle` ends the upload.
pub fn byte_stream(body: Body, idle: Option<BodyIdle>) -> ByteStream {
    let chunks = body.into_bytes_stream().map_err(|err| BlobError::Interrupted(err.to_string()));
    let Some(BodyIdle(idle)) = idle else {
        return chunks.boxed();
    };
    futures::stream::unfold(Some(chunks.boxed()), move |chunks| async move {
        let mut chunks = chunks?;
        match tokio::time::timeout(idle, chunks.next()).await {
            Ok(Some(chunk)) => Some((chunk, Some(chunks))),
            Ok(None) => None,
            Err(_) => Some((Err(BlobError::Interrupted(format!("no byte arrived for {idle:?}"))), None)),
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_projects_file_upload_is_streamed() {
        let post = Method::POST;
        assert!(is_upload(&post, "/api/v1/projects/0190b6a2-7c4e-7000-8000-000000000000/files"));
        assert!(!is_upload(&Method::GET, "/api/v1/projects/0190b6a2-7c4e-7000-8000-000000000000/files"));
        assert!(!is_upload(&post, "/api/v1/projects/x/posts"));
        assert!(!is_upload(&post, "/api/v1/projects//files"));
        assert!(!is_upload(&post, "/api/v1/projects/a/b/files"));
        assert!(!is_upload(&post, "/api/v1/projects"));
    }

    #[tokio::test]
    async fn a_body_that_goes_silent_ends_the_upload() {
        let (mut sender, receiver) = futures::channel::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(1);
        let body = Body::from_bytes_stream(receiver);
        let mut stream = byte_stream(body, Some(BodyIdle(Duration::from_millis(50))));
        futures::SinkExt::send(&mut sender, Ok(bytes::Bytes::from_static(b"abc"))).await.unwrap();
        assert_eq!(stream.next().await.unwrap().unwrap(), "abc");
        assert!(matches!(stream.next().await, Some(Err(BlobError::Interrupted(_)))));
        assert!(stream.next().await.is_none());
        drop(sender);
    }
}
