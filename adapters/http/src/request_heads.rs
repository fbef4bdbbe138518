//! Slow-client protection for request heads: once the first byte of a request head arrives, the
//! whole head (up to its blank line) must arrive within the head timeout, or the connection is
//! closed. A client trickling header bytes (slowloris) cannot hold a connection open by sending
//! just often enough to dodge the idle timeout. Bodies are bounded by the request timeout, silent
//! connections by the idle timeout; hyper itself refuses heads over ~400 KB or 100 headers (431).
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

pub(crate) struct HeadDeadline<A> {
    inner: A,
    timeout: Duration,
}

impl<A> HeadDeadline<A> {
    pub(crate) fn new(inner: A, timeout: Duration) -> Self {
        Self { inner, timeout }
    }
}

impl<A: Acceptor> Acceptor for HeadDeadline<A> {
    type Io = Guarded<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let (io, local, remote, scheme) = self.inner.accept().await?;
        Ok((Guarded { io, timeout: self.timeout, state: State::Awaiting, deadline: None }, local, remote, scheme))
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
}

pub(crate) struct Guarded<Io> {
    io: Io,
    timeout: Duration,
    state: State,
    deadline: Option<Pin<Box<Sleep>>>,
}

const END: &[u8; 4] = b"\r\n\r\n";

impl<Io> Guarded<Io> {
    fn saw(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.state = match self.state {
                // Stray line breaks between requests are allowed by HTTP/1.1 and start nothing.
                State::Awaiting if byte == b'\r' || byte == b'\n' => State::Awaiting,
                State::Awaiting => {
                    self.deadline = Some(Box::pin(tokio::time::sleep(self.timeout)));
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
                State::Received => State::Received,
            };
        }
    }
}

impl<Io: AsyncRead + Unpin> AsyncRead for Guarded<Io> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if let Some(deadline) = self.deadline.as_mut() {
            if deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "request head too slow")));
            }
        }
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            self.saw(&buf.filled()[before..]);
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
            if n > 0 && self.state == State::Received {
                self.state = State::Awaiting;
            }
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
            if n > 0 && self.state == State::Received {
                self.state = State::Awaiting;
            }
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
        Guarded { io: tokio::io::empty(), timeout: Duration::from_secs(1), state: State::Awaiting, deadline: None }
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
}
