//! A TCP front for the fake, so a test can make GitHub reset connections: wiremock answers HTTP
//! and cannot drop a socket. Every connection is piped to wiremock; while resets are armed, the
//! next request bytes to arrive on any connection are swallowed and the socket is closed with
//! a TCP reset (SO_LINGER 0), as a load balancer dropping a connection would.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The listening front and its reset counter.
pub(crate) struct Front {
    pub addr: SocketAddr,
    pub resets: Arc<AtomicUsize>,
}

impl Front {
    /// Starts piping `127.0.0.1:<new port>` to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Front> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let resets = Arc::new(AtomicUsize::new(0));
        let armed = Arc::clone(&resets);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(pipe(client, upstream, Arc::clone(&armed)));
            }
        });
        Ok(Front { addr, resets })
    }
}

fn take(counter: &AtomicUsize) -> bool {
    counter
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
        .is_ok()
}

async fn pipe(client: TcpStream, upstream: SocketAddr, resets: Arc<AtomicUsize>) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut from_client, mut to_client) = client.into_split();
    let (mut from_server, mut to_server) = server.into_split();
    // Answers flow back untouched.
    let back = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
        let _ = to_client.shutdown().await;
        to_client
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from_client.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if take(&resets) {
            // Swallow the request and reset the connection: with SO_LINGER 0 the close sends RST.
            let _ = from_client.as_ref().set_zero_linger();
            back.abort();
            return;
        }
        if to_server.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to_server.shutdown().await;
    let _ = back.await;
}
