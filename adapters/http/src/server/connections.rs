//! The cap on open connections (`--max-connections`), below hyper: every accepted connection
//! holds a slot until it closes, so what idle, slow or hostile clients can make the instance
//! hold — sockets, buffers, a page being written to a client that reads slowly — is bounded.
//!
//! A connection past the cap is accepted and refused at once — `503 overloaded` with
//! `Retry-After` and `Connection: close` — rather than left in the kernel's backlog: there it
//! would look established to the client and to a load balancer's TCP check while nothing answers
//! it, for as long as the connections holding the slots stay open. Refused at once, the client
//! retries elsewhere or later, and a balancer marks the target busy. Answering costs a small task
//! per refused connection (at most [`ANSWERING`] at a time, each at most [`ANSWER_TIME`]); past
//! that, refused connections are closed unanswered.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::api::problems::{ProblemResponse, PROBLEM_JSON};
use crate::server::request_id::REQUEST_ID;
use crate::server::security_headers;

/// Refused connections being answered at once.
const ANSWERING: usize = 32;
/// How long a refused connection gets to take its answer.
const ANSWER_TIME: Duration = Duration::from_secs(1);

pub(crate) struct ConnectionCap<A> {
    inner: A,
    slots: Arc<Semaphore>,
    answering: Arc<Semaphore>,
}

impl<A> ConnectionCap<A> {
    pub(crate) fn new(inner: A, max_connections: usize) -> Self {
        Self {
            inner,
            slots: Arc::new(Semaphore::new(max_connections.max(1))),
            answering: Arc::new(Semaphore::new(ANSWERING)),
        }
    }
}

impl<A: Acceptor> Acceptor for ConnectionCap<A> {
    type Io = Slotted<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        loop {
            let (io, local, remote, scheme) = self.inner.accept().await?;
            if let Ok(slot) = self.slots.clone().try_acquire_owned() {
                metrics::gauge!("tessera_http_connections_open").increment(1.0);
                return Ok((Slotted { io, _slot: slot }, local, remote, scheme));
            }
            metrics::counter!("tessera_http_connections_refused_total").increment(1);
            if let Ok(answering) = self.answering.clone().try_acquire_owned() {
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(ANSWER_TIME, refuse(io)).await;
                    drop(answering);
                });
            }
        }
    }
}

/// The whole HTTP answer to a connection past the cap.
fn refusal() -> Vec<u8> {
    let request_id = uuid::Uuid::now_v7().to_string();
    // No request reached the edge that sets the request id: give this answer one the same way.
    let problem = REQUEST_ID.sync_scope(request_id.clone(), || {
        ProblemResponse::new(
            poem::http::StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "Overloaded",
            "The instance has as many connections open as it keeps; retry later.",
        )
    });
    let body = problem.problem.to_bytes();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: {PROBLEM_JSON}\r\nretry-after: 1\r\nx-request-id: \
         {request_id}\r\ncontent-length: {}\r\n{}connection: close\r\n\r\n",
        body.len(),
        security_headers::raw_lines(),
    );
    [head.into_bytes(), body].concat()
}

/// Writes the refusal, then reads what the client sends until it closes: closing a socket with
/// unread input would reset the connection, and the client could lose the answer.
async fn refuse<Io: AsyncRead + AsyncWrite + Unpin>(mut io: Io) -> io::Result<()> {
    io.write_all(&refusal()).await?;
    io.shutdown().await?;
    let mut sink = [0u8; 1024];
    while io.read(&mut sink).await? > 0 {}
    Ok(())
}

/// An accepted connection with its slot, given back when the connection closes.
pub(crate) struct Slotted<Io> {
    io: Io,
    _slot: OwnedSemaphorePermit,
}

impl<Io> Drop for Slotted<Io> {
    fn drop(&mut self) {
        metrics::gauge!("tessera_http_connections_open").decrement(1.0);
    }
}

impl<Io: AsyncRead + Unpin> AsyncRead for Slotted<Io> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Slotted<Io> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_a_complete_503_problem_that_closes_the_connection() {
        let refusal = String::from_utf8(refusal()).unwrap();
        let (head, body) = refusal.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "), "{head}");
        assert!(head.contains("\r\nretry-after: 1\r\n") && head.contains("\r\nconnection: close"), "{head}");
        assert!(head.contains(&format!("\r\ncontent-length: {}\r\n", body.len())), "{head}");
        assert!(head.contains(&security_headers::raw_lines()), "the headers every answer carries: {head}");
        assert!(body.contains(r#""code":"overloaded""#) && body.contains(r#""status":503"#), "{body}");
    }
}
