//! The accept loop and what each client connection asks for: `CONNECT` (intercepted or
//! tunnelled, see [`mitm`](crate::mitm)) or a plain `http://` request ([`plain`](crate::plain)).

use crate::ca::CertAuthority;
use crate::emit::Emitter;
use crate::head::{read_head, split_absolute, split_authority, HeadError};
use crate::owner;
use crate::policy::Policy;
use crate::tls::UpstreamTrust;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How long a client may take to send its request head (and, after CONNECT, its ClientHello).
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting to an upstream may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// What every connection task shares.
pub struct Shared {
    pub ca: Arc<CertAuthority>,
    pub trust: UpstreamTrust,
    pub policy: Policy,
    pub emitter: Arc<Emitter>,
    /// The proxy's listening address (the remote end of a client's socket).
    pub listen: SocketAddr,
}

impl Shared {
    pub fn log(&self, msg: &str) {
        (self.emitter.log)(msg)
    }
}

/// A client connection with its request head read: the stream (bytes after the head still
/// buffered in it), the peer, and the pid owning the client's socket (being looked up).
pub struct Client {
    pub stream: BufReader<TcpStream>,
    pub peer: SocketAddr,
    pub(crate) owner: Option<JoinHandle<Option<u32>>>,
}

impl Client {
    /// The pid owning the client's socket (0 when unknown), waited for once.
    pub async fn pid(&mut self) -> u32 {
        match self.owner.take() {
            Some(h) => h.await.ok().flatten().unwrap_or(0),
            None => 0,
        }
    }

    /// A short description for log lines: `127.0.0.1:5555 (pid 42 curl)`.
    pub fn describe(&self, pid: u32) -> String {
        describe(self.peer, pid)
    }

    /// The client's pid, its description and a TCP connection to `host:port`; when the upstream
    /// cannot be reached, logs why, answers the client 502 and gives `None`.
    pub async fn reach(
        &mut self,
        host: &str,
        port: u16,
        shared: &Shared,
    ) -> Option<(u32, String, TcpStream)> {
        let pid = self.pid().await;
        let who = self.describe(pid);
        match connect_upstream(host, port).await {
            Ok(s) => Some((pid, who, s)),
            Err(e) => {
                let why = format!("cannot connect to {host}:{port}: {e}");
                shared.log(&format!("client {who}: {why}"));
                self.refuse("502 Bad Gateway", &why).await;
                None
            }
        }
    }

    /// Answers with a short HTTP/1.1 error and closes.
    pub async fn refuse(&mut self, status: &str, why: &str) {
        let body = format!("oisp-sensor proxy: {why}\n");
        let resp = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = self.stream.get_mut().write_all(resp.as_bytes()).await;
        let _ = self.stream.get_mut().shutdown().await;
    }
}

/// A client for log lines: `127.0.0.1:5555 (pid 42 curl)`, or the address alone.
pub fn describe(peer: SocketAddr, pid: u32) -> String {
    if pid == 0 {
        return peer.to_string();
    }
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    format!("{peer} (pid {pid} {})", comm.trim())
}

/// Accepts clients until the runtime shuts down.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((sock, peer)) => {
                let _ = sock.set_nodelay(true);
                tokio::spawn(handle(sock, peer, Arc::clone(&shared)));
            }
            Err(e) => {
                shared.log(&format!("accept failed: {e}"));
                // Out of descriptors and the like: give the system a moment.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn handle(sock: TcpStream, peer: SocketAddr, shared: Arc<Shared>) {
    let listen = shared.listen;
    let owner = tokio::task::spawn_blocking(move || owner::socket_owner(peer, listen));
    let mut client = Client {
        stream: BufReader::new(sock),
        peer,
        owner: Some(owner),
    };
    let head = match tokio::time::timeout(CLIENT_TIMEOUT, read_head(&mut client.stream)).await {
        Ok(Ok(h)) => h,
        Ok(Err(HeadError::Closed)) => return,
        Ok(Err(e)) => {
            shared.log(&format!("client {peer}: {e}"));
            client.refuse("400 Bad Request", &e.to_string()).await;
            return;
        }
        Err(_) => {
            shared.log(&format!(
                "client {peer}: no request within {CLIENT_TIMEOUT:?}"
            ));
            return;
        }
    };
    if head.method.eq_ignore_ascii_case("CONNECT") {
        match split_authority(&head.target, 443) {
            Some((host, port)) => crate::mitm::connect(client, host, port, &shared).await,
            None => {
                let why = format!("bad CONNECT target `{}`", head.target);
                shared.log(&format!("client {peer}: {why}"));
                client.refuse("400 Bad Request", &why).await;
            }
        }
    } else if let Some((host, port, path)) = split_absolute(&head.target) {
        crate::plain::forward(client, &head, host, port, path, &shared).await;
    } else {
        let why = format!(
            "`{} {}` is not a proxy request (absolute http:// URL or CONNECT expected)",
            head.method, head.target
        );
        shared.log(&format!("client {peer}: {why}"));
        client.refuse("400 Bad Request", &why).await;
    }
}

/// Connects to `host:port` within [`CONNECT_TIMEOUT`].
pub async fn connect_upstream(host: &str, port: u16) -> std::io::Result<TcpStream> {
    let s = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((host, port)))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??;
    let _ = s.set_nodelay(true);
    Ok(s)
}
