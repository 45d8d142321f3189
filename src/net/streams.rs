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
use std::time::Duration;

use anyhow::Result;

use super::reader::StreamReader;
use super::tls::TlsConnector;
use super::transport::Transport;
use super::writer::StreamWriter;
use crate::errors::{CancelledError, ErrorExt, OsError};
use crate::event_loop::{EventLoop, get_running_loop};
use crate::helpers::wait::{ReturnWhen, wait};
use crate::net::resolve::{SOCK_STREAM, ensure_resolved};
use crate::net::sockets::sock_connect;
use crate::net::transport::StreamSocket;
use crate::tasks::{Task, TaskCo};

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
    let opts = ConnectOptions {
        limit,
        ..ConnectOptions::default()
    };
    open_connection_opts(co, host, port, opts)
}

/// Options of [`open_connection_opts`]: asyncio's `open_connection` keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectOptions {
    /// The reader's limit (`limit=2**16`).
    pub limit: usize,
    /// `happy_eyeballs_delay=`: with `Some(d)`, the addresses are tried as RFC 8305 says
    /// (asyncio's staggered race): the next attempt starts when the latest one fails or has
    /// run for `d` without connecting, the first to connect wins and the others are
    /// cancelled. `None` (the default): one address after the other.
    pub happy_eyeballs_delay: Option<Duration>,
    /// `interleave=`: reorder the addresses by family, this many of the first family first,
    /// then alternating (asyncio's `_interleave_addrinfos`). `None`: 1 with a
    /// `happy_eyeballs_delay`, else no reordering; `Some(0)`: no reordering.
    pub interleave: Option<usize>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            limit: DEFAULT_LIMIT,
            happy_eyeballs_delay: None,
            interleave: None,
        }
    }
}

/// `open_connection(host, port, limit=, happy_eyeballs_delay=, interleave=)`.
///
/// `host` is looked up with [`getaddrinfo`](crate::getaddrinfo) in the default executor, unless
/// it is a numeric address (then no thread is involved, as asyncio's `_ipaddr_info`).
///
/// # Errors
///
/// As [`open_connection_with`]; with a `happy_eyeballs_delay`, `Multiple exceptions` lists the
/// attempts in the order they started.
pub fn open_connection_opts(
    co: &TaskCo,
    host: &str,
    port: u16,
    opts: ConnectOptions,
) -> Result<(StreamReader, StreamWriter)> {
    if opts.limit == 0 {
        return Err(crate::errors::ValueError::new("Limit cannot be <= 0").into());
    }
    let lp = get_running_loop()?;
    let mut addrs = ensure_resolved(co, host, port, SOCK_STREAM, 0)?;
    let interleave = opts
        .interleave
        .unwrap_or(usize::from(opts.happy_eyeballs_delay.is_some()));
    if interleave > 0 {
        addrs = interleave_by_family(addrs, interleave);
    }
    let sock = match opts.happy_eyeballs_delay {
        Some(delay) if addrs.len() > 1 => connect_staggered(co, &addrs, delay)?,
        _ => connect_any(co, &addrs)?,
    };
    // asyncio sets TCP_NODELAY on every TCP transport.
    let _ = sock.set_nodelay(true);
    Transport::open(&lp, sock, opts.limit, None)
}

/// asyncio's `_interleave_addrinfos`: `first` addresses of the first family, then one of each
/// family in turn, in the order the families first appear.
fn interleave_by_family(addrs: Vec<SocketAddr>, first: usize) -> Vec<SocketAddr> {
    let mut families: Vec<Vec<SocketAddr>> = Vec::new();
    for a in addrs {
        match families.iter_mut().find(|f| f[0].is_ipv6() == a.is_ipv6()) {
            Some(f) => f.push(a),
            None => families.push(vec![a]),
        }
    }
    let mut out = Vec::new();
    let mut lists: Vec<std::collections::VecDeque<SocketAddr>> =
        families.into_iter().map(Into::into).collect();
    if first > 1 && !lists.is_empty() {
        for _ in 0..first - 1 {
            match lists[0].pop_front() {
                Some(a) => out.push(a),
                None => break,
            }
        }
    }
    while lists.iter().any(|l| !l.is_empty()) {
        for l in &mut lists {
            if let Some(a) = l.pop_front() {
                out.push(a);
            }
        }
    }
    out
}

/// The attempts of a staggered race; cancelled however the race ends (a won race, an error,
/// the caller's cancellation), so that no attempt outlives it.
struct Attempts(Vec<Task<TcpStream>>);

impl Drop for Attempts {
    fn drop(&mut self) {
        for t in &self.0 {
            t.cancel(None);
        }
    }
}

/// asyncio's `staggered.staggered_race` over `sock_connect`: the next attempt starts when the
/// latest fails or has run for `delay`; the first connection wins.
pub(crate) fn connect_staggered(
    co: &TaskCo,
    addrs: &[SocketAddr],
    delay: Duration,
) -> Result<TcpStream> {
    let lp = get_running_loop()?;
    let mut attempts = Attempts(Vec::new());
    let mut errors: Vec<Option<anyhow::Error>> = Vec::new();
    let mut next = 0;
    // When the latest attempt started, and whether it has failed yet.
    let mut latest_started = lp.time();
    let mut start_next = true;
    loop {
        if start_next && next < addrs.len() {
            let addr = addrs[next];
            attempts
                .0
                .push(lp.create_task(move |co| sock_connect(co, addr))?);
            errors.push(None);
            latest_started = lp.time();
            next += 1;
        }
        start_next = false;
        let running: Vec<Task<TcpStream>> =
            attempts.0.iter().filter(|t| !t.done()).cloned().collect();
        if running.is_empty() && next >= addrs.len() {
            break;
        }
        let timeout = (next < addrs.len())
            .then(|| delay.saturating_sub(lp.time().saturating_duration_since(latest_started)));
        if !running.is_empty() {
            wait(co, &running, timeout, ReturnWhen::FirstCompleted)?;
        }
        for (i, t) in attempts.0.iter().enumerate() {
            if !t.done() || errors[i].is_some() || t.cancelled() {
                continue;
            }
            match t.exception().ok().flatten() {
                Some(e) => {
                    errors[i] = Some(e);
                    if i + 1 == attempts.0.len() {
                        start_next = true; // the latest failed: kick the next one now
                    }
                }
                None => {
                    let sock = co.join(t.clone())?;
                    return Ok(sock);
                }
            }
        }
        if next < addrs.len() && lp.time().saturating_duration_since(latest_started) >= delay {
            start_next = true;
        }
    }
    Err(combine(errors.into_iter().flatten().collect()))
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

/// `await asyncio.open_connection(host, port, ssl=ctx)`: connects, then does the TLS
/// handshake as the client, with `host` as `server_hostname`; returns once the handshake is
/// done.
///
/// # Errors
///
/// As [`open_connection_with`] for the connect, then as
/// [`StreamWriter::start_tls`] for the handshake (e.g. `SSLCertVerificationError`).
pub fn open_connection_tls(
    co: &TaskCo,
    host: &str,
    port: u16,
    ssl: &TlsConnector,
) -> Result<(StreamReader, StreamWriter)> {
    open_connection_tls_with(co, host, port, ssl, host, DEFAULT_LIMIT)
}

/// `open_connection(host, port, ssl=ctx, server_hostname=name, limit=limit)`: the
/// certificate must be valid for `server_hostname` rather than `host`.
///
/// # Errors
///
/// As [`open_connection_tls`].
pub fn open_connection_tls_with(
    co: &TaskCo,
    host: &str,
    port: u16,
    ssl: &TlsConnector,
    server_hostname: &str,
    limit: usize,
) -> Result<(StreamReader, StreamWriter)> {
    // A bad name fails before connecting.
    let session = super::tls::client_session(ssl, server_hostname)?;
    let (reader, writer) = open_connection_with(co, host, port, limit)?;
    let handshake = writer
        .t
        .tls_begin(session, ssl.handshake_timeout(), Some(server_hostname))?;
    writer.t.tls_wait(co, &handshake)?;
    Ok((reader, writer))
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;
    use crate::helpers::runners::run;
    use crate::net::sockets::tcp_listener;

    fn local(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// A port on 127.0.0.1 where a connect is refused.
    fn refused_port() -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }

    #[test]
    fn every_address_failing_is_one_combined_error() {
        let (p1, p2) = (refused_port(), refused_port());
        let e = run(move |co| connect_any(co, &[local(p1), local(p2)]).map(|_| ())).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "Multiple exceptions: [Errno 111] Connect call failed ('127.0.0.1', {p1}), \
                 [Errno 111] Connect call failed ('127.0.0.1', {p2})"
            )
        );
        let e = run(move |co| connect_any(co, &[local(p1), local(p1)]).map(|_| ())).unwrap_err();
        assert_eq!(
            e.downcast_ref::<OsError>().unwrap().py_name(),
            "ConnectionRefusedError",
            "the same error twice is raised as it is"
        );
        let e = run(|co| connect_any(co, &[]).map(|_| ())).unwrap_err();
        assert_eq!(e.to_string(), "getaddrinfo() returned empty list");
    }

    #[test]
    fn the_next_address_is_tried_after_a_failure() {
        let good = TcpListener::bind("127.0.0.1:0").unwrap();
        let to = good.local_addr().unwrap();
        let bad = local(refused_port());
        let peer = run(move |co| Ok(connect_any(co, &[bad, to])?.peer_addr()?)).unwrap();
        assert_eq!(peer, to);
        // Staggered: a failure starts the next attempt at once, whatever the delay.
        let peer = run(move |co| {
            Ok(connect_staggered(co, &[bad, to], Duration::from_secs(3600))?.peer_addr()?)
        })
        .unwrap();
        assert_eq!(peer, to);
    }

    #[test]
    fn happy_eyeballs_starts_the_next_attempt_when_the_first_hangs() {
        // A listener whose backlog is full: a connect to it neither succeeds nor fails.
        let hang = tcp_listener(&local(0), 0).unwrap();
        let hang_addr = hang.local_addr().unwrap();
        let _filler = std::net::TcpStream::connect(hang_addr).unwrap();
        let good = TcpListener::bind("127.0.0.1:0").unwrap();
        let to = good.local_addr().unwrap();
        let peer = run(move |co| {
            Ok(connect_staggered(co, &[hang_addr, to], Duration::from_millis(10))?.peer_addr()?)
        })
        .unwrap();
        assert_eq!(peer, to);
    }

    #[test]
    fn addresses_interleave_by_family() {
        let a: Vec<SocketAddr> = ["1.0.0.1:1", "1.0.0.2:1", "[::1]:1", "[::2]:1", "1.0.0.3:1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let names =
            |v: Vec<SocketAddr>| -> Vec<String> { v.iter().map(|a| a.ip().to_string()).collect() };
        assert_eq!(
            names(interleave_by_family(a.clone(), 1)),
            ["1.0.0.1", "::1", "1.0.0.2", "::2", "1.0.0.3"]
        );
        assert_eq!(
            names(interleave_by_family(a, 2)),
            ["1.0.0.1", "1.0.0.2", "::1", "1.0.0.3", "::2"]
        );
    }
}
