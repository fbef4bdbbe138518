//! Accepting connections and serving each one with hyper until it closes, goes idle, or the
//! instance stops — in place of `poem::Server`, which boxes every connection (`BoxIo`, behind
//! `tokio::io::split`) and so hides vectored writes from hyper: hyper then copied every response
//! body into a per-connection buffer that stayed as large as the largest answer the connection
//! had carried (bench/RESULTS.md, "Speed" 4). Here hyper gets the connection as the acceptors
//! built it, and the idle deadline is a timestamp that reads and writes move, not a timer re-armed
//! (and a task woken) on each of them.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Endpoint, Response};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long to wait before accepting again after the listener itself failed (out of file
/// descriptors, say): the failure would otherwise repeat at once, in a loop that starves every
/// connection.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

/// At most this many requests at once on one HTTP/2 connection (poem set no limit; hyper's
/// default is 200): what one client can make the instance hold is bounded per connection, as
/// on HTTP/1.1, where a connection carries one request at a time.
const HTTP2_STREAMS: u32 = 32;

/// Serves `endpoint` on the connections `acceptor` yields until `shutdown` resolves; then stops
/// accepting, lets each connection finish the request it is serving, and after `grace` drops the
/// connections still open.
pub(crate) async fn serve_connections<A, E>(
    mut acceptor: A,
    endpoint: E,
    idle_timeout: Duration,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) where
    A: Acceptor,
    A::Io: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    E: Endpoint<Output = Response> + 'static,
{
    let endpoint = Arc::new(endpoint);
    let stopping = CancellationToken::new();
    let abandoned = CancellationToken::new();
    let connections = TaskTracker::new();
    for addr in acceptor.local_addr() {
        tracing::info!(addr = %addr, "listening");
    }
    let mut shutdown = pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = acceptor.accept() => match accepted {
                Ok((io, local, remote, scheme)) => {
                    let connection = serve_connection(io, (local, remote, scheme), endpoint.clone(), idle_timeout, stopping.clone());
                    let abandoned = abandoned.clone();
                    connections.spawn(async move {
                        tokio::select! {
                            () = connection => {}
                            () = abandoned.cancelled() => {}
                        }
                    });
                }
                // One connection that failed between the kernel's accept and ours: the next is fine.
                Err(error) if is_connection_error(&error) => {}
                Err(error) => {
                    tracing::warn!(%error, "accepting connections failed");
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(ACCEPT_RETRY) => {}
                    }
                }
            }
        }
    }
    drop(acceptor);
    stopping.cancel();
    connections.close();
    if tokio::time::timeout(grace, connections.wait()).await.is_err() {
        tracing::warn!(open = connections.len(), "connections still open after the grace period are closed");
        abandoned.cancel();
        connections.wait().await;
    }
}

fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionRefused
    )
}

async fn serve_connection<Io, E>(
    io: Io,
    (local, remote, scheme): (LocalAddr, RemoteAddr, Scheme),
    endpoint: Arc<E>,
    idle_timeout: Duration,
    stopping: CancellationToken,
) where
    Io: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    E: Endpoint<Output = Response> + 'static,
{
    let activity = Arc::new(Activity::default());
    let io = Watched { io, activity: activity.clone() };
    let service = hyper::service::service_fn(move |request| {
        let endpoint = endpoint.clone();
        let request = poem::Request::from((request, local.clone(), remote.clone(), scheme.clone()));
        async move { Ok::<_, Infallible>(hyper::Response::from(endpoint.get_response(request).await)) }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // poem's limits for HTTP/2 clients, kept: at most 20 streams opened and reset before they
    // were accepted (the "rapid reset" flood), and 16 KiB of header fields per request.
    builder
        .http2()
        .max_concurrent_streams(HTTP2_STREAMS)
        .max_pending_accept_reset_streams(20)
        .max_header_list_size(16 * 1024);
    let mut connection = pin!(builder.serve_connection(TokioIo::new(io), service));
    tokio::select! {
        _ = connection.as_mut() => {}
        () = activity.idle_for(idle_timeout) => {}
        () = stopping.cancelled() => {}
    }
    // The request being served (if any) finishes; a client that then neither sends nor reads
    // for another idle period loses the connection. Polled again even when hyper ended the
    // connection itself (the client closed its side mid-request): hyper still holds that
    // request, which then runs to its end at the edge — answered 499 and counted — rather than
    // being dropped unseen (as poem::Server did too). The idle period starts afresh: a request
    // running silently past the idle timeout (an upload's, say) is not cut off by it.
    connection.as_mut().graceful_shutdown();
    activity.touch();
    tokio::select! {
        _ = connection => {}
        () = activity.idle_for(idle_timeout) => {}
    }
}

/// When bytes last moved on a connection, in milliseconds since it opened.
struct Activity {
    opened: Instant,
    last: AtomicU64,
}

impl Default for Activity {
    fn default() -> Self {
        Self { opened: Instant::now(), last: AtomicU64::new(0) }
    }
}

impl Activity {
    fn touch(&self) {
        let millis = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(millis, Ordering::Relaxed);
    }

    /// Resolves once no byte has moved for `timeout`.
    async fn idle_for(&self, timeout: Duration) {
        loop {
            let deadline = self.opened + Duration::from_millis(self.last.load(Ordering::Relaxed)) + timeout;
            if Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// A connection whose reads and writes mark it active; everything else passes through, vectored
/// writes included.
struct Watched<Io> {
    io: Io,
    activity: Arc<Activity>,
}

impl<Io: AsyncRead + Unpin> AsyncRead for Watched<Io> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if polled.is_ready() {
            self.activity.touch();
        }
        polled
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Watched<Io> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, data);
        if polled.is_ready() {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if polled.is_ready() {
            self.activity.touch();
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

    #[tokio::test(start_paused = true)]
    async fn a_connection_is_idle_only_once_nothing_moved_for_the_whole_timeout() {
        let activity = Activity::default();
        let timeout = Duration::from_secs(60);
        let watcher = activity.idle_for(timeout);
        let mut watcher = pin!(watcher);
        tokio::time::advance(Duration::from_secs(50)).await;
        assert!(futures::poll!(watcher.as_mut()).is_pending());
        activity.touch();
        tokio::time::advance(Duration::from_secs(50)).await;
        assert!(futures::poll!(watcher.as_mut()).is_pending(), "activity at 50 s moves the deadline to 110 s");
        tokio::time::advance(Duration::from_secs(11)).await;
        assert!(futures::poll!(watcher.as_mut()).is_ready());
    }
}
