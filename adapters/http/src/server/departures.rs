//! Clients that go away while their request is handled.
//!
//! poem keeps driving a request to its end after its client has closed the connection (it resumes
//! the connection to shut it down gracefully, and the handler's future with it), so nothing would
//! stop a login whose client left from waiting for, and then using, a hashing thread. hyper does
//! read while a request is pending, and sees the end of the client's stream: the head guard, below
//! hyper, reports it here, by the connection's remote address, and the edge races the operations
//! that hash against it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

/// The open connections, by remote address, each with whether its client has gone. Local to the
/// process on purpose: a TCP connection lives in one process, and no rule shared by instances
/// reads this (it only lets a request whose client left stop early).
#[derive(Clone, Default)]
pub(crate) struct Departures {
    open: Arc<Mutex<HashMap<SocketAddr, watch::Receiver<bool>>>>,
}

/// One connection's entry in [`Departures`], held by the connection and removed with it.
pub(crate) struct Presence {
    addr: SocketAddr,
    gone: watch::Sender<bool>,
    departures: Departures,
}

impl Departures {
    fn open(&self) -> MutexGuard<'_, HashMap<SocketAddr, watch::Receiver<bool>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Enters a connection just accepted from `addr`.
    pub(crate) fn arrived(&self, addr: SocketAddr) -> Presence {
        let (gone, watched) = watch::channel(false);
        self.open().insert(addr, watched);
        Presence { addr, gone, departures: self.clone() }
    }

    /// Resolves once the client of the connection from `addr` has gone away; never for a
    /// connection it does not know (one that did not come through the head guard).
    pub(crate) async fn left(&self, addr: Option<SocketAddr>) {
        let watched = addr.and_then(|addr| self.open().get(&addr).cloned());
        match watched {
            // An error means the connection itself is gone: so is its client.
            Some(mut watched) => {
                let _ = watched.wait_for(|gone| *gone).await;
            }
            None => std::future::pending().await,
        }
    }
}

impl Presence {
    /// The client has closed its side, or the connection failed.
    pub(crate) fn left(&self) {
        self.gone.send_replace(true);
    }
}

impl Drop for Presence {
    fn drop(&mut self) {
        let mut open = self.departures.open();
        // Remove this connection's entry only: a later one from the same address may have taken it.
        if open.get(&self.addr).is_some_and(|watched| watched.same_channel(&self.gone.subscribe())) {
            open.remove(&self.addr);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn addr(port: u16) -> Option<SocketAddr> {
        Some(SocketAddr::from(([127, 0, 0, 1], port)))
    }

    async fn resolves(future: impl std::future::Future<Output = ()>) -> bool {
        tokio::time::timeout(Duration::from_millis(50), future).await.is_ok()
    }

    #[tokio::test]
    async fn a_departure_is_seen_for_its_own_connection_only() {
        let departures = Departures::default();
        let one = departures.arrived(addr(1).unwrap());
        let _two = departures.arrived(addr(2).unwrap());
        assert!(!resolves(departures.left(addr(1))).await, "nobody has left yet");

        one.left();

        assert!(resolves(departures.left(addr(1))).await);
        assert!(!resolves(departures.left(addr(2))).await, "the other client is still there");
        assert!(!resolves(departures.left(addr(3))).await, "an unknown connection never leaves");
        assert!(!resolves(departures.left(None)).await);
    }

    #[tokio::test]
    async fn a_closed_connection_leaves_no_entry_and_spares_its_successor() {
        let departures = Departures::default();
        let old = departures.arrived(addr(1).unwrap());
        let new = departures.arrived(addr(1).unwrap());

        drop(old);

        assert_eq!(departures.open().len(), 1, "the new connection keeps its entry");
        new.left();
        assert!(resolves(departures.left(addr(1))).await);
        drop(new);
        assert!(departures.open().is_empty());
    }
}
