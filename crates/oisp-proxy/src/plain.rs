//! Plain `http://` requests through the proxy: forwarded in origin form with
//! `Connection: close`, both directions recorded as a plaintext stream.

use crate::emit::ConnFacts;
use crate::head::{origin_form, Head};
use crate::relay::relay;
use crate::server::{Client, Shared};
use tokio::io::AsyncWriteExt;

/// Forwards one request (and its body, and whatever follows on the connection) to
/// `host:port`. Every plain HTTP connection is recorded whatever `--intercept` says: nothing
/// needs decrypting, and the decoder drops connections without AI traffic.
pub async fn forward(
    mut client: Client,
    head: &Head,
    host: String,
    port: u16,
    path: String,
    shared: &Shared,
) {
    let Some((pid, who, mut upstream)) = client.reach(&host, port, shared).await else {
        return;
    };
    let (mut egress, ingress) = shared.emitter.open(ConnFacts {
        pid,
        client: client.peer,
        remote: upstream.peer_addr().ok(),
        sni: None,
        alpn: None,
    });
    let first = origin_form(head, &path);
    egress.data(&first);
    if let Err(e) = upstream.write_all(&first).await {
        shared.log(&format!("client {who}: writing to {host}:{port}: {e}"));
        shared.emitter.close(egress.conn_id, pid);
        client.refuse("502 Bad Gateway", &e.to_string()).await;
        return;
    }
    let what = format!("http://{host}:{port} for {who}");
    relay(client.stream, upstream, egress, ingress, &what).await;
}
