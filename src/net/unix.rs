//! asyncio's `open_unix_connection` and `start_unix_server` (3.11 semantics): streams over
//! Unix stream sockets, on the same transport and server machinery as TCP.
//!
//! As asyncio 3.11, `start_unix_server` removes a socket file left at its path (a stale one,
//! or one still in use: it is replaced either way) and nothing else, and closing the server
//! leaves the socket file in place. Abstract-namespace addresses are not supported.

use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use anyhow::Result;

use super::reader::StreamReader;
use super::server::{Listening, Server, ServerOptions, serve};
use super::streams::DEFAULT_LIMIT;
use super::transport::Transport;
use super::writer::StreamWriter;
use crate::errors::{OsError, ValueError, py_str_repr};
use crate::event_loop::get_running_loop;
use crate::helpers::sleep::sleep;
use crate::net::sockets::would_block;
use crate::tasks::TaskCo;

/// The longest pause between two connection attempts while the listener's backlog is full.
const MAX_RETRY_DELAY: Duration = Duration::from_millis(100);

/// Connects a new non-blocking, close-on-exec Unix stream socket to `path`.
///
/// Linux connects a Unix socket at once or refuses it: a full listen backlog is `EAGAIN`,
/// and then the socket is not connecting. asyncio waits for writability there, which an
/// unconnected Unix socket always has (so it takes it for connected); this tries again after
/// a pause instead, 1 ms doubling up to 100 ms, until the listener accepts or refuses.
fn unix_connect(co: &TaskCo, path: &Path) -> Result<UnixStream> {
    let mut delay = Duration::from_millis(1);
    loop {
        match mio::net::UnixStream::connect(path) {
            Ok(sock) => return Ok(UnixStream::from(sock)),
            Err(e) if would_block(&e) => {
                sleep(co, delay)?;
                delay = (delay * 2).min(MAX_RETRY_DELAY);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(OsError::from_io(&e).into()),
        }
    }
}

/// `await asyncio.open_unix_connection(path)`: connects to the Unix socket at `path` and
/// returns the reader and writer, with the default limit. No file there is
/// `FileNotFoundError: [Errno 2] No such file or directory`; a socket file nobody listens on
/// is `ConnectionRefusedError: [Errno 111] Connection refused`, as in asyncio.
pub fn open_unix_connection(
    co: &TaskCo,
    path: impl AsRef<Path>,
) -> Result<(StreamReader, StreamWriter)> {
    open_unix_connection_with(co, path, DEFAULT_LIMIT)
}

/// `open_unix_connection(path, limit=limit)`.
pub fn open_unix_connection_with(
    co: &TaskCo,
    path: impl AsRef<Path>,
    limit: usize,
) -> Result<(StreamReader, StreamWriter)> {
    if limit == 0 {
        return Err(ValueError::new("Limit cannot be <= 0").into());
    }
    let lp = get_running_loop()?;
    let sock = unix_connect(co, path.as_ref())?;
    Transport::open(&lp, sock, limit, None)
}

/// `await asyncio.start_unix_server(handler, path)`: listens on a Unix socket at `path` and
/// runs `handler(co, reader, writer)` as a new task for each connection, as
/// [`start_server`](crate::start_server) does. A socket file already at `path` is removed
/// first (asyncio 3.11); closing the server leaves the file (asyncio 3.11 too).
pub fn start_unix_server(
    co: &TaskCo,
    handler: impl Fn(&TaskCo, StreamReader, StreamWriter) -> Result<()> + 'static,
    path: impl AsRef<Path>,
) -> Result<Server> {
    start_unix_server_with(co, handler, path, ServerOptions::default())
}

/// [`start_unix_server`] with a reader limit and a listen backlog. Another kind of file at
/// `path` is `OSError: [Errno 98] Address '<path>' is already in use`.
pub fn start_unix_server_with(
    co: &TaskCo,
    handler: impl Fn(&TaskCo, StreamReader, StreamWriter) -> Result<()> + 'static,
    path: impl AsRef<Path>,
    opts: ServerOptions,
) -> Result<Server> {
    if opts.limit == 0 {
        return Err(ValueError::new("Limit cannot be <= 0").into());
    }
    let lp = get_running_loop()?;
    let path = path.as_ref();
    remove_stale_socket(path);
    let listener = UnixListener::bind(path).map_err(|e| match e.raw_os_error() {
        Some(libc::EADDRINUSE) => OsError::with_errno(
            libc::EADDRINUSE,
            format!(
                "Address {} is already in use",
                py_str_repr(&path.to_string_lossy())
            ),
        ),
        _ => OsError::from_io(&e),
    })?;
    // std listens with its own backlog: listening again sets asyncio's.
    crate::sys::listen(listener.as_raw_fd(), opts.backlog).map_err(|e| OsError::from_io(&e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| OsError::from_io(&e))?;
    let listening = vec![Listening::Unix(listener, path.to_path_buf())];
    serve(co, lp, listening, Rc::new(handler), opts)
}

/// asyncio 3.11: a socket file at `path` is removed (whether stale or in use); failing to
/// check or remove it is logged, and binding then reports what is wrong.
fn remove_stale_socket(path: &Path) {
    match std::fs::metadata(path) {
        Ok(m) if m.file_type().is_socket() => {
            if let Err(e) = std::fs::remove_file(path) {
                log::error!("Unable to check or remove stale UNIX socket {path:?}: {e}");
            }
        }
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => log::error!("Unable to check or remove stale UNIX socket {path:?}: {e}"),
    }
}
