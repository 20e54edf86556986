//! `CONNECT host:port`: intercepted (TLS terminated with a leaf of our CA, content recorded) or
//! tunnelled blind, as the [`Policy`](crate::Policy) says.
//!
//! Interception order: read the client's ClientHello (SNI, ALPN offer) → connect upstream over
//! TLS offering the same ALPN list, verifying its certificate → finish the client's handshake
//! with a leaf for the SNI (or the CONNECT host) and the one ALPN the upstream chose → relay
//! bytes. HTTP/1.1, HTTP/2, SSE, chunked bodies and WebSocket upgrades pass as bytes: the
//! decoder reassembles them from the recorded streams.

use crate::emit::ConnFacts;
use crate::relay::relay;
use crate::server::{connect_upstream, describe, Client, Shared, CLIENT_TIMEOUT};
use crate::tls::server_config;
use rustls::pki_types::ServerName;
use rustls::server::Acceptor;
use tokio::io::AsyncWriteExt;
use tokio_rustls::{LazyConfigAcceptor, TlsConnector};

const ESTABLISHED: &[u8] = b"HTTP/1.1 200 Connection established\r\n\r\n";

pub async fn connect(mut client: Client, host: String, port: u16, shared: &Shared) {
    if !shared.policy.intercepts(&host) {
        return tunnel(client, host, port, shared).await;
    }
    if !established(&mut client).await {
        return;
    }
    let peer = client.peer;
    let owner = client.owner.take();
    let acceptor = LazyConfigAcceptor::new(Acceptor::default(), client.stream);
    let start = match tokio::time::timeout(CLIENT_TIMEOUT, acceptor).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            shared.log(&format!(
                "client {peer}: CONNECT {host}:{port} not followed by a TLS ClientHello: {e}"
            ));
            return;
        }
        Err(_) => {
            shared.log(&format!(
                "client {peer}: no TLS ClientHello for {host}:{port}"
            ));
            return;
        }
    };
    let hello = start.client_hello();
    let sni = hello.server_name().map(str::to_string);
    let offered: Vec<Vec<u8>> = hello
        .alpn()
        .map(|it| it.map(<[u8]>::to_vec).collect())
        .unwrap_or_default();
    let name = sni.clone().unwrap_or_else(|| host.clone());
    let pid = match owner {
        Some(h) => h.await.ok().flatten().unwrap_or(0),
        None => 0,
    };
    let who = describe(peer, pid);

    // Upstream first: its certificate is verified and its ALPN choice decides ours.
    let upstream = match upstream_tls(&host, port, &name, offered.clone(), shared).await {
        Ok(u) => u,
        Err(why) => {
            shared.log(&format!(
                "client {who}: upstream {host}:{port} refused: {why}"
            ));
            refuse_in_tls(start, &name, &offered, &why, shared).await;
            return;
        }
    };
    let chosen = upstream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
    let remote = upstream.get_ref().0.peer_addr().ok();
    let cfg = match shared
        .ca
        .leaf(&name)
        .map_err(|e| e.to_string())
        .and_then(|leaf| server_config(leaf, chosen.clone()).map_err(|e| e.to_string()))
    {
        Ok(c) => c,
        Err(e) => {
            shared.log(&format!("client {who}: no certificate for {name}: {e}"));
            return;
        }
    };
    let client_tls = match tokio::time::timeout(CLIENT_TIMEOUT, start.into_stream(cfg)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            shared.log(&format!(
                "client {who} refused the proxy's certificate for {name} ({e}): it does not trust the oisp-sensor CA; trust {} (see `oisp-sensor proxy --print-env`) or run it with `oisp-sensor run -- …`",
                crate::ca::ca_cert_path(shared.ca.dir()).display()
            ));
            return;
        }
        Err(_) => {
            shared.log(&format!("client {who}: TLS handshake for {name} timed out"));
            return;
        }
    };
    let (egress, ingress) = shared.emitter.open(ConnFacts {
        pid,
        client: peer,
        remote,
        sni: Some(name.clone()),
        alpn: chosen.map(|a| String::from_utf8_lossy(&a).into_owned()),
    });
    relay(
        client_tls,
        upstream,
        egress,
        ingress,
        &format!("{name}:{port} for {who}"),
    )
    .await;
}

async fn upstream_tls(
    host: &str,
    port: u16,
    name: &str,
    alpn: Vec<Vec<u8>>,
    shared: &Shared,
) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, String> {
    let tcp = connect_upstream(host, port)
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let server_name =
        ServerName::try_from(name.to_string()).map_err(|e| format!("server name {name}: {e}"))?;
    let cfg = shared
        .trust
        .client_config(alpn)
        .map_err(|e| e.to_string())?;
    tokio::time::timeout(
        crate::server::CONNECT_TIMEOUT,
        TlsConnector::from(cfg).connect(server_name, tcp),
    )
    .await
    .map_err(|_| "TLS handshake timed out".to_string())?
    .map_err(|e| format!("TLS: {e}"))
}

/// The upstream failed: if the client can speak HTTP/1.1 over TLS, finish its handshake and
/// answer 502 with the reason; otherwise just close.
async fn refuse_in_tls(
    start: tokio_rustls::StartHandshake<tokio::io::BufReader<tokio::net::TcpStream>>,
    name: &str,
    offered: &[Vec<u8>],
    why: &str,
    shared: &Shared,
) {
    let h1 = b"http/1.1".to_vec();
    let alpn = if offered.is_empty() {
        None
    } else if offered.contains(&h1) {
        Some(h1)
    } else {
        return;
    };
    let Ok(cfg) = shared
        .ca
        .leaf(name)
        .map_err(|e| e.to_string())
        .and_then(|leaf| server_config(leaf, alpn).map_err(|e| e.to_string()))
    else {
        return;
    };
    let Ok(Ok(mut tls)) = tokio::time::timeout(CLIENT_TIMEOUT, start.into_stream(cfg)).await else {
        return;
    };
    let body = format!("oisp-sensor proxy: upstream {name} refused: {why}\n");
    let resp = format!(
        "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tls.write_all(resp.as_bytes()).await;
    let _ = tls.shutdown().await;
}

/// Not intercepted: a blind TCP tunnel, recorded as a connect only.
async fn tunnel(mut client: Client, host: String, port: u16, shared: &Shared) {
    let Some((pid, _, mut upstream)) = client.reach(&host, port, shared).await else {
        return;
    };
    if let Ok(remote) = upstream.peer_addr() {
        shared.emitter.tunnelled(pid, client.peer, remote);
    }
    if !established(&mut client).await {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client.stream, &mut upstream).await;
}

/// Answers the client's CONNECT with `200 Connection established`; false when it is gone.
async fn established(client: &mut Client) -> bool {
    client.stream.get_mut().write_all(ESTABLISHED).await.is_ok()
}
