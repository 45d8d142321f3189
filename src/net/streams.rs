//! Streams (layer 8): asyncio's `open_connection`, `start_server`, `StreamReader`,
//! `StreamWriter` and `Server`, on the loop's readers and writers.
//!
//! The machinery is asyncio's own, in one file: a connection is a *transport* (asyncio's
//! `_SelectorSocketTransport`) that reads its socket when it is readable and feeds what it
//! receives to a [`StreamReader`] (pausing when more than twice the limit is buffered), and
//! that sends what a [`StreamWriter`] writes at once when it can, buffering the rest until the
//! socket is writable.
//!
//! The transport owns its socket, so unlike asyncio's `add_reader` it registers the socket
//! once, for both directions, edge-triggered with cached readiness (the selector's "owned
//! sources"): pausing, resuming, starting and stopping to write are flag changes, and no
//! `epoll_ctl` is made per read or write. The readiness is cleared when `recv`/`send` says
//! `EAGAIN`, or when a read or write is short (the kernel buffer was drained or filled, as
//! tokio does); the socket is deregistered before it closes. `drain()` waits while the write buffer is above the high-water mark, and
//! the connection closes through `connection_lost`, scheduled with `call_soon`, as in asyncio.
//!
//! Ownership is Rust's: a [`StreamReader`] and [`StreamWriter`] pair (and their clones) own the
//! connection; when the last of them is dropped the connection is closed as by
//! `writer.close()` (buffered data is still sent first). A server's handler receives the pair
//! by value, so a handler that returns closes its connection.

use std::net::{SocketAddr, TcpStream};

use anyhow::Result;

use super::reader::StreamReader;
use super::transport::Transport;
use super::writer::StreamWriter;
use crate::errors::{CancelledError, ErrorExt, OsError};
use crate::event_loop::{EventLoop, get_running_loop};
use crate::net::resolve::{SOCK_STREAM, ensure_resolved};
use crate::net::sockets::sock_connect;
use crate::net::transport::StreamSocket;
use crate::tasks::TaskCo;

/// asyncio's default `limit` of a `StreamReader`: 2**16 bytes.
pub const DEFAULT_LIMIT: usize = 1 << 16;

/// The most a transport reads in one `recv`.
pub(crate) const MAX_READ: usize = 1 << 16;

/// asyncio's default high-water mark of a transport's write buffer (the low one is a quarter).
pub(crate) const DEFAULT_HIGH_WATER: usize = 1 << 16;

/// `await asyncio.open_connection(host, port)`: connects (each resolved address in turn, as
/// asyncio) and returns the reader and writer, with the default limit.
///
/// # Examples
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use tulip::{open_connection, start_server};
///
/// tulip::run(|co| {
///     let greeter = |co: &tulip::TaskCo, _reader, writer: tulip::StreamWriter| {
///         writer.write(b"welcome\n")?;
///         writer.drain(co)?;
///         writer.close();
///         Ok(())
///     };
///     let server = start_server(co, greeter, "127.0.0.1", 0)?;
///     let port = server.local_addr().expect("listening").port();
///
///     // asyncio: reader, writer = await asyncio.open_connection("127.0.0.1", port)
///     let (reader, writer) = open_connection(co, "127.0.0.1", port)?;
///     assert_eq!(reader.read_all(co)?, b"welcome\n"); // await reader.read(): up to EOF
///     writer.close();
///     writer.wait_closed(co)?;
///     server.close();
///     server.wait_closed(co)?;
///     Ok(())
/// })?;
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// As [`open_connection_with`].
pub fn open_connection(co: &TaskCo, host: &str, port: u16) -> Result<(StreamReader, StreamWriter)> {
    open_connection_with(co, host, port, DEFAULT_LIMIT)
}

/// `open_connection(host, port, limit=limit)`.
///
/// # Errors
///
/// If every address fails: the one error, or `OSError('Multiple exceptions: ...')` when they
/// differ. The errors are:
/// - `OsError` of the connect, e.g. `ConnectionRefusedError: [Errno 111] Connect call failed
///   ('127.0.0.1', 8)`; `EMFILE` arrives as `OSError: [Errno 24] Too many open files`.
/// - `gaierror` when `host` does not resolve.
/// - `CancelledError` when the task is cancelled while connecting.
/// - `RuntimeError("no running event loop")` outside a running loop.
pub fn open_connection_with(
    co: &TaskCo,
    host: &str,
    port: u16,
    limit: usize,
) -> Result<(StreamReader, StreamWriter)> {
    let lp = get_running_loop()?;
    let addrs = ensure_resolved(co, host, port, SOCK_STREAM, 0)?;
    let sock = connect_any(co, &addrs)?;
    // asyncio sets TCP_NODELAY on every TCP transport.
    let _ = sock.set_nodelay(true);
    Transport::open(&lp, sock, limit, None)
}

/// asyncio's `create_connection` loop over the resolved addresses: each in turn until one
/// connects. If all fail: the one error, the first when they all read the same, else
/// `OSError('Multiple exceptions: ...')` naming each; none at all is
/// `OSError('getaddrinfo() returned empty list')`. Cancellation stops at once.
pub(crate) fn connect_any(co: &TaskCo, addrs: &[SocketAddr]) -> Result<TcpStream> {
    let mut errors: Vec<anyhow::Error> = Vec::new();
    for &addr in addrs {
        match sock_connect(co, addr) {
            Ok(sock) => return Ok(sock),
            Err(e) if e.isinstance::<CancelledError>() => return Err(e),
            Err(e) => errors.push(e),
        }
    }
    Err(combine(errors))
}

/// asyncio's way of raising the errors of every attempt as one.
pub(crate) fn combine(mut errors: Vec<anyhow::Error>) -> anyhow::Error {
    match errors.len() {
        0 => OsError::named("OSError", "getaddrinfo() returned empty list").into(),
        1 => errors.pop().expect("one error"),
        _ => {
            let texts: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            if texts.iter().all(|t| *t == texts[0]) {
                errors.swap_remove(0)
            } else {
                OsError::named(
                    "OSError",
                    format!("Multiple exceptions: {}", texts.join(", ")),
                )
                .into()
            }
        }
    }
}

/// `asyncio.open_connection(sock=sock)`: streams on a connected TCP or Unix socket (e.g. one
/// end of `UnixStream::pair()`), with the given limit.
pub fn wrap_stream(
    lp: &EventLoop,
    sock: impl StreamSocket,
    limit: usize,
) -> Result<(StreamReader, StreamWriter)> {
    Transport::open(lp, sock, limit, None)
}
