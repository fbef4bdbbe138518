//! How the server treats requests and connections: limits, timeouts and draining.

use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct HttpSettings {
    /// Largest request body accepted, in bytes (API.md: 1 MiB).
    pub body_limit: usize,
    /// Requests handled at once; more are answered `503 overloaded` at once.
    pub max_in_flight: usize,
    /// Operations that hash a password (login, registration, password change) handled at once,
    /// apart from `max_in_flight`: the hasher's threads plus the hashes that may wait for them.
    /// More are answered `503 overloaded` at once.
    pub hashing_lane: usize,
    /// File uploads handled at once, apart from `max_in_flight` (an upload holds its slot while
    /// its body streams in); more are answered `503 overloaded` at once.
    pub max_uploads: usize,
    /// Longest an upload may take, its body included, before it is abandoned (nothing of it
    /// stays visible).
    pub upload_timeout: Duration,
    /// Connections kept open at once; one more is answered `503 overloaded` and closed.
    pub max_connections: usize,
    /// Longest a request may take before it is abandoned with `503 request_timeout`.
    pub request_timeout: Duration,
    /// After a shutdown is asked for: how long readiness says 503 while new requests are still
    /// served, so load balancers move away before the listener closes.
    pub drain_delay: Duration,
    /// A connection on which nothing is read or written for this long is closed (idle keep-alive
    /// connections, and clients that connect and then send nothing).
    pub idle_timeout: Duration,
    /// Longest a request head may take to arrive, from its first byte; slower clients are
    /// disconnected.
    pub head_timeout: Duration,
    /// Longest a request body may take to arrive once reading it starts; slower clients are
    /// answered `408 body_timeout` and disconnected.
    pub body_timeout: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            body_limit: 1024 * 1024,
            max_in_flight: 1024,
            hashing_lane: 33,
            max_uploads: 16,
            upload_timeout: Duration::from_secs(600),
            max_connections: 1024,
            request_timeout: Duration::from_secs(30),
            drain_delay: Duration::ZERO,
            idle_timeout: Duration::from_secs(60),
            head_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
        }
    }
}
