//! Guards on request heads, below hyper:
//! - slow clients: once the first byte of a request head arrives, the whole head (up to its blank
//!   line) must arrive within the head timeout, or the connection is closed. A client trickling
//!   header bytes (slowloris) cannot hold a connection open by sending just often enough to dodge
//!   the idle timeout. Bodies are bounded by the edge's body deadline, silent connections by the
//!   idle timeout.
//! - oversized heads: a head over [`MAX_HEAD_BYTES`] or [`MAX_HEADER_LINES`] is answered `431`
//!   with a problem document (and the security headers of every answer) and the connection closed. hyper refuses such heads itself too, but
//!   with an empty body; the guard sees the bytes first and keeps hyper's limits out of reach.
//!
//! - departures: a client that ends its stream while its request is pending (between the end of
//!   its head and the first byte of the answer) is reported to [`Departures`], which the edge
//!   reads: poem itself would let the request run to its end.
//!
//! The guard only watches bytes: a head starts with the first byte read after the previous
//! response was written (or after the connection opened), and ends at `\r\n\r\n`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use crate::api::problems::{ProblemResponse, PROBLEM_JSON};
use crate::server::departures::{Departures, Presence};
use crate::server::request_id::REQUEST_ID;
use crate::server::security_headers;

/// Below hyper's own limit (~400 KB of buffered head).
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The request line and 100 header fields: hyper's own limit is 100 fields.
pub(crate) const MAX_HEADER_LINES: usize = 101;

pub(crate) struct HeadGuard<A> {
    inner: A,
    timeout: Duration,
    departures: Departures,
}

impl<A> HeadGuard<A> {
    pub(crate) fn new(inner: A, timeout: Duration, departures: Departures) -> Self {
        Self { inner, timeout, departures }
    }
}

impl<A: Acceptor> Acceptor for HeadGuard<A> {
    type Io = Guarded<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let (io, local, remote, scheme) = self.inner.accept().await?;
        let presence = remote.0.as_socket_addr().map(|addr| self.departures.arrived(*addr));
        Ok((Guarded::new(io, self.timeout, presence), local, remote, scheme))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between requests: nothing of the next head has arrived.
    Awaiting,
    /// Inside a head; how many bytes of the closing `\r\n\r\n` were just seen.
    Reading(usize),
    /// The head is complete; body bytes may follow until the response is written.
    Received,
    /// The head was too large: the 431 answer is being written (this many bytes so far).
    Refusing(usize),
}

pub(crate) struct Guarded<Io> {
    io: Io,
    timeout: Duration,
    state: State,
    deadline: Option<Pin<Box<Sleep>>>,
    /// Bytes and lines of the head being read.
    head_bytes: usize,
    head_lines: usize,
    refusal: Vec<u8>,
    presence: Option<Presence>,
}

const END: &[u8; 4] = b"\r\n\r\n";

/// The whole HTTP answer to a head over the limits: a problem document, then the connection ends.
fn refusal() -> Vec<u8> {
    let request_id = uuid::Uuid::now_v7().to_string();
    // No request reached the edge that sets the request id: give this answer one the same way.
    let problem = REQUEST_ID.sync_scope(request_id.clone(), || {
        ProblemResponse::new(
            poem::http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            "Request header fields too large",
            format!(
                "The request head is over {} KiB or {} header fields.",
                MAX_HEAD_BYTES / 1024,
                MAX_HEADER_LINES - 1
            ),
        )
    });
    let body = problem.problem.to_bytes();
    let head = format!(
        "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: {}\r\nx-request-id: {request_id}\r\n\
         content-length: {}\r\n{}connection: close\r\n\r\n",
        PROBLEM_JSON,
        body.len(),
        security_headers::raw_lines(),
    );
    [head.into_bytes(), body].concat()
}

impl<Io> Guarded<Io> {
    fn new(io: Io, timeout: Duration, presence: Option<Presence>) -> Self {
        Self {
            io,
            timeout,
            state: State::Awaiting,
            deadline: None,
            head_bytes: 0,
            head_lines: 0,
            refusal: Vec::new(),
            presence,
        }
    }

    /// Follows the head through `bytes`; false once it is over the limits.
    fn saw(&mut self, bytes: &[u8]) -> bool {
        for &byte in bytes {
            self.state = match self.state {
                // Stray line breaks between requests are allowed by HTTP/1.1 and start nothing.
                State::Awaiting if byte == b'\r' || byte == b'\n' => State::Awaiting,
                State::Awaiting => {
                    self.deadline = Some(Box::pin(tokio::time::sleep(self.timeout)));
                    (self.head_bytes, self.head_lines) = (0, 0);
                    State::Reading(0)
                }
                State::Reading(matched) if byte == END[matched] => {
                    if matched + 1 == END.len() {
                        self.deadline = None;
                        State::Received
                    } else {
                        State::Reading(matched + 1)
                    }
                }
                State::Reading(_) => State::Reading(usize::from(byte == b'\r')),
                other => other,
            };
            if let State::Reading(_) = self.state {
                self.head_bytes += 1;
                self.head_lines += usize::from(byte == b'\n');
                if self.head_bytes > MAX_HEAD_BYTES || self.head_lines > MAX_HEADER_LINES {
                    return false;
                }
            }
        }
        true
    }
}

impl<Io> Guarded<Io> {
    /// Follows the answer: its first bytes end the request, and what arrives next is a new head —
    /// unless they are an interim answer (`100 Continue` to `Expect: 100-continue`, which curl
    /// sends with every body over 1 MiB): the body is still to come.
    fn wrote(&mut self, bytes: &[u8]) {
        let interim = bytes.len() >= 10 && bytes.starts_with(b"HTTP/1.") && bytes[9] == b'1';
        if !bytes.is_empty() && self.state == State::Received && !interim {
            self.state = State::Awaiting;
        }
    }
}

impl<Io: AsyncRead + AsyncWrite + Unpin> Guarded<Io> {
    /// Writes the 431 answer, then fails the read so that hyper drops the connection.
    fn poll_refuse(&mut self, cx: &mut Context<'_>, written: usize) -> Poll<io::Result<()>> {
        let mut written = written;
        while written < self.refusal.len() {
            match Pin::new(&mut self.io).poll_write(cx, &self.refusal[written..]) {
                Poll::Ready(Ok(0)) => break,
                Poll::Ready(Ok(n)) => written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => {
                    self.state = State::Refusing(written);
                    return Poll::Pending;
                }
            }
        }
        if Pin::new(&mut self.io).poll_flush(cx).is_pending() {
            self.state = State::Refusing(written);
            return Poll::Pending;
        }
        Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, "request head too large")))
    }
}

impl<Io: AsyncRead + AsyncWrite + Unpin> AsyncRead for Guarded<Io> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if let State::Refusing(written) = self.state {
            return self.poll_refuse(cx, written);
        }
        if let Some(deadline) = self.deadline.as_mut() {
            if deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "request head too slow")));
            }
        }
        let before = buf.filled().len();
        let room = buf.remaining() > 0;
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if self.state == State::Received {
            let ended = match &polled {
                Poll::Ready(Ok(())) => room && buf.filled().len() == before,
                Poll::Ready(Err(_)) => true,
                Poll::Pending => false,
            };
            if let (true, Some(presence)) = (ended, &self.presence) {
                presence.left();
            }
        }
        if let Poll::Ready(Ok(())) = polled {
            if !self.saw(&buf.filled()[before..]) {
                // hyper never sees the oversized head: the guard answers it.
                buf.set_filled(before);
                self.deadline = None;
                self.refusal = refusal();
                tracing::info!(target: "tessera::http", "request head over the limits refused with 431");
                return self.poll_refuse(cx, 0);
            }
            // A head just started: poll its deadline once so that its expiry wakes this task.
            if let Some(deadline) = self.deadline.as_mut() {
                let _ = deadline.as_mut().poll(cx);
            }
        }
        polled
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Guarded<Io> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = polled {
            self.wrote(&data[..n]);
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = polled {
            let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| &b[..]);
            self.wrote(&first[..n.min(first.len())]);
        }
        polled
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

    fn guarded() -> Guarded<tokio::io::Empty> {
        Guarded::new(tokio::io::empty(), Duration::from_secs(1), None)
    }

    #[tokio::test]
    async fn a_head_runs_from_its_first_byte_to_its_blank_line() {
        let mut g = guarded();
        g.saw(b"\r\n");
        assert_eq!(g.state, State::Awaiting);
        g.saw(b"GET / HTTP/1.1\r\nHost: a\r\n");
        assert!(matches!(g.state, State::Reading(_)) && g.deadline.is_some());
        g.saw(b"X: \r\r\n");
        assert!(matches!(g.state, State::Reading(_)), "a lone CR does not end the head");
        g.saw(b"\r\nbody\r\n\r\n");
        assert_eq!(g.state, State::Received);
        assert!(g.deadline.is_none());
    }

    #[tokio::test]
    async fn a_head_over_the_limits_is_refused_and_each_head_counts_afresh() {
        let mut g = guarded();
        let fields: String = (0..MAX_HEADER_LINES - 1).map(|i| format!("X-{i}: v\r\n")).collect();
        assert!(g.saw(format!("GET / HTTP/1.1\r\n{fields}\r\n").as_bytes()), "100 fields are fine");
        g.state = State::Awaiting;
        assert!(g.saw(format!("GET / HTTP/1.1\r\n{fields}").as_bytes()), "a new head counts from zero");
        assert!(!g.saw(b"X-101: v\r\n"), "the 101st field is one too many");

        let mut g = guarded();
        assert!(g.saw(b"GET / HTTP/1.1\r\nX: "));
        assert!(!g.saw(&vec![b'a'; MAX_HEAD_BYTES]), "a head over the byte limit");
        let answer = String::from_utf8(refusal()).expect("text");
        assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
        assert!(answer.contains(&security_headers::raw_lines()), "the headers of every answer: {answer}");
    }

    #[tokio::test]
    async fn a_body_after_100_continue_is_no_new_head() {
        let mut g = guarded();
        g.saw(b"POST /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 99999999\r\n\r\n");
        g.wrote(b"HTTP/1.1 100 Continue\r\n\r\n");
        assert_eq!(g.state, State::Received);
        assert!(g.saw(&vec![b'a'; 4 * MAX_HEAD_BYTES]), "body bytes are not a head");
        g.wrote(b"HTTP/1.1 201 Created\r\n");
        assert_eq!(g.state, State::Awaiting, "a final answer ends the request");
    }
}
