//! Copies bytes both ways between a client and its upstream, recording each chunk before it is
//! forwarded (so a response is never recorded before the request it answers) and flushing at
//! once (so streamed responses stay live).

use crate::emit::DirTap;
use std::io::ErrorKind;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Size of one read: small enough that a streamed event is forwarded as soon as it arrives.
const CHUNK: usize = 16 * 1024;

/// A read error that is just the peer going away.
fn is_close(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::UnexpectedEof
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe
    )
}

/// Copies `r` to `w` until end of stream, recording each chunk on `tap`; then shuts `w` down.
async fn pump<R, W>(mut r: R, mut w: W, tap: &mut DirTap) -> std::io::Result<()>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match r.read(&mut buf).await {
            Ok(n) => n,
            Err(e) if is_close(&e) => 0,
            Err(e) => return Err(e),
        };
        if n == 0 {
            let _ = w.shutdown().await;
            return Ok(());
        }
        tap.data(&buf[..n]);
        w.write_all(&buf[..n]).await?;
        w.flush().await?;
    }
}

/// Relays `client` ↔ `upstream` until both directions ended (or one failed), then records the
/// connection's close. Errors other than a peer going away are logged with `what`.
pub async fn relay<C, U>(
    client: C,
    upstream: U,
    mut egress: DirTap,
    mut ingress: DirTap,
    what: &str,
) where
    C: AsyncRead + AsyncWrite + Unpin,
    U: AsyncRead + AsyncWrite + Unpin,
{
    let (cr, cw) = tokio::io::split(client);
    let (ur, uw) = tokio::io::split(upstream);
    let result = {
        let up = pump(cr, uw, &mut egress);
        let down = pump(ur, cw, &mut ingress);
        tokio::pin!(up, down);
        tokio::select! {
            r = &mut up => match r { Ok(()) => down.await, e => e },
            r = &mut down => match r { Ok(()) => up.await, e => e },
        }
    };
    if let Err(e) = result {
        if !is_close(&e) {
            (egress.emitter().log)(&format!("{what}: connection ended with an error: {e}"));
        }
    }
    egress.emitter().close(egress.conn_id, egress.pid);
}
