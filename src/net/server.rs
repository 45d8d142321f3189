//! asyncio's `start_server` and `Server`: listeners whose connections each run a handler task.

use std::cell::{Cell, RefCell};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;
use std::{fmt, io};

use anyhow::Result;

use super::reader::StreamReader;
use super::streams::DEFAULT_LIMIT;
use super::tls::{TlsAcceptor, server_session};
use super::transport::{StreamSocket, Transport};
use super::writer::StreamWriter;
use crate::errors::{CancelledError, ErrorExt, OsError, RuntimeError, ValueError};
use crate::event_loop::{EventLoop, ExceptionContext, get_running_loop};
use crate::futures::Future;
use crate::generator::catch_panic;
use crate::net::resolve::{AI_PASSIVE, SOCK_STREAM, ensure_resolved};
use crate::net::sockets::{py_addr, tcp_listener, would_block};
use crate::tasks::TaskCo;

/// A connection handler: `handler(co, reader, writer)`, run as a task per connection.
pub(crate) type Handler = dyn Fn(&TaskCo, StreamReader, StreamWriter) -> Result<()>;

/// Options of [`start_server_with`].
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Each connection's reader limit (asyncio: `limit=2**16`).
    pub limit: usize,
    /// The listen backlog (asyncio: `backlog=100`).
    pub backlog: u32,
    /// asyncio's `ssl=`: each connection does the TLS handshake as the server (with the
    /// acceptor's handshake timeout) before its handler runs. A connection whose handshake
    /// fails (a wrong certificate, garbage, a peer that leaves, the timeout) is closed
    /// without running the handler, and the server goes on.
    pub ssl: Option<TlsAcceptor>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            limit: DEFAULT_LIMIT,
            backlog: 100,
            ssl: None,
        }
    }
}

/// A server's listening socket, with its address: TCP or Unix (`start_unix_server`).
pub(crate) enum Listening {
    Tcp(TcpListener, SocketAddr),
    Unix(UnixListener, PathBuf),
}

impl Listening {
    fn fd(&self) -> RawFd {
        match self {
            Listening::Tcp(l, _) => l.as_raw_fd(),
            Listening::Unix(l, _) => l.as_raw_fd(),
        }
    }

    /// The address as Python prints it (a Unix socket's path as is).
    fn describe(&self) -> String {
        match self {
            Listening::Tcp(_, a) => py_addr(a),
            Listening::Unix(_, p) => p.display().to_string(),
        }
    }
}

/// A connection just accepted (still blocking).
enum Accepted {
    Tcp(TcpStream),
    Unix(UnixStream),
}

struct ServerCore {
    lp: EventLoop,
    /// Listening sockets; emptied by `close()`.
    listeners: RefCell<Vec<Listening>>,
    handler: Rc<Handler>,
    opts: ServerOptions,
    /// Connections not closed yet.
    active: Cell<usize>,
    closed: Cell<bool>,
    /// `wait_closed()` waiters; `None` once the server closed and its connections are gone.
    waiters: RefCell<Option<Vec<Future<()>>>>,
    serving_forever: RefCell<Option<Future<()>>>,
}

/// asyncio's `Server`: listening sockets that start a handler task per connection.
///
/// It serves until [`Server::close`] (dropping the handle does not stop it: the loop's
/// readers hold it, as asyncio's loop does).
#[derive(Clone)]
pub struct Server(Rc<ServerCore>);

/// `errno`s of accept that mean "out of resources": asyncio pauses accepting for a second.
fn out_of_resources(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// asyncio's `ACCEPT_RETRY_DELAY`.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_secs(1);

impl ServerCore {
    fn start_accepting(self: &Rc<Self>, fd: RawFd) -> Result<()> {
        let core = self.clone();
        self.lp.add_reader(fd, move || core.accept_ready(fd))
    }

    /// The listener's reader: accepts up to `backlog` connections.
    fn accept_ready(self: &Rc<Self>, fd: RawFd) {
        for _ in 0..self.opts.backlog.max(1) {
            let r = {
                let listeners = self.listeners.borrow();
                match listeners.iter().find(|l| l.fd() == fd) {
                    Some(Listening::Tcp(l, _)) => l.accept().map(|(s, _)| Accepted::Tcp(s)),
                    Some(Listening::Unix(l, _)) => l.accept().map(|(s, _)| Accepted::Unix(s)),
                    None => return,
                }
            };
            match r {
                Ok(Accepted::Tcp(sock)) => {
                    if sock.set_nonblocking(true).is_ok() {
                        let _ = sock.set_nodelay(true);
                        self.new_connection(sock);
                    }
                }
                Ok(Accepted::Unix(sock)) => {
                    if sock.set_nonblocking(true).is_ok() {
                        self.new_connection(sock);
                    }
                }
                Err(e) if would_block(&e) || e.kind() == io::ErrorKind::Interrupted => return,
                Err(e) if e.raw_os_error() == Some(libc::ECONNABORTED) => return,
                Err(e) if out_of_resources(&e) => {
                    // As asyncio: report, stop accepting for a while, then try again.
                    let addr = self.addr_of(fd);
                    self.lp.call_exception_handler(
                        ExceptionContext::new("socket.accept() out of system resource")
                            .with_exception(OsError::from_io(&e).into())
                            .with_field("socket", format!("<listener {addr}>")),
                    );
                    self.lp.remove_reader(fd);
                    let core = self.clone();
                    let _ = self.lp.call_later(ACCEPT_RETRY_DELAY, move || {
                        if !core.closed.get() {
                            let _ = core.start_accepting(fd);
                        }
                    });
                    return;
                }
                Err(e) => {
                    let addr = self.addr_of(fd);
                    self.lp.call_exception_handler(
                        ExceptionContext::new("Error on accept")
                            .with_exception(OsError::from_io(&e).into())
                            .with_field("socket", format!("<listener {addr}>")),
                    );
                    return;
                }
            }
        }
    }

    fn addr_of(&self, fd: RawFd) -> String {
        self.listeners
            .borrow()
            .iter()
            .find(|l| l.fd() == fd)
            .map(Listening::describe)
            .unwrap_or_default()
    }

    /// A non-blocking accepted connection: its transport and its handler task.
    fn new_connection(self: &Rc<Self>, sock: impl StreamSocket) {
        let core = self.clone();
        let detach: Box<dyn FnOnce()> = Box::new(move || core.detach());
        self.active.set(self.active.get() + 1);
        let (reader, writer) = match Transport::open(&self.lp, sock, self.opts.limit, Some(detach))
        {
            Ok(pair) => pair,
            // The transport was dropped, which detached it.
            Err(_) => return,
        };
        // The TLS session starts now, before the loop reads the client's hello.
        let handshake = match &self.opts.ssl {
            None => None,
            Some(acceptor) => {
                let begun = server_session(acceptor).and_then(|session| {
                    writer
                        .t
                        .tls_begin(session, acceptor.handshake_timeout(), None)
                });
                match begun {
                    Ok(fut) => Some(fut),
                    Err(e) => {
                        log::debug!("SSL handshake not started: {e}");
                        return;
                    }
                }
            }
        };
        let handler = self.handler.clone();
        let lp = self.lp.clone();
        let peer = writer.peer_addr();
        let task = self.lp.create_task(move |co| {
            match catch_panic(|| {
                if let Some(h) = &handshake
                    && let Err(e) = writer.t.tls_wait(co, h)
                {
                    // As asyncio (an OSError, reported only in debug mode): the
                    // connection is closed and the server goes on.
                    if e.isinstance::<CancelledError>() {
                        return Err(e);
                    }
                    log::debug!("SSL handshake failed: {e}");
                    return Ok(());
                }
                handler(co, reader, writer)
            }) {
                Err(e) if !e.isinstance::<CancelledError>() => {
                    // asyncio 3.12: report (a panic too, as the error it becomes), naming the peer;
                    // the connection closes (its handles were dropped).
                    let peer = peer.map(|a| py_addr(&a)).unwrap_or_default();
                    lp.call_exception_handler(
                        ExceptionContext::new("Unhandled exception in client_connected_cb")
                            .with_exception(e)
                            .with_field("transport", format!("<Transport peername={peer}>")),
                    );
                    Ok(())
                }
                r => r,
            }
        });
        drop(task);
    }

    /// A connection of this server closed.
    fn detach(&self) {
        self.active.set(self.active.get().saturating_sub(1));
        if self.active.get() == 0 && self.closed.get() {
            self.wakeup();
        }
    }

    fn wakeup(&self) {
        let waiters = self.waiters.borrow_mut().take();
        for w in waiters.into_iter().flatten() {
            if !w.done() {
                let _ = w.set_result(());
            }
        }
    }
}

impl Server {
    /// `server.close()`: stops listening and closes the listening sockets. Open connections
    /// stay open (as asyncio).
    pub fn close(&self) {
        let core = &*self.0;
        if core.closed.replace(true) {
            return;
        }
        let listeners = std::mem::take(&mut *core.listeners.borrow_mut());
        for l in &listeners {
            core.lp.remove_reader(l.fd());
        }
        drop(listeners);
        let fut = core.serving_forever.borrow_mut().take();
        if let Some(f) = fut {
            f.cancel(None);
        }
        if core.active.get() == 0 {
            core.wakeup();
        }
    }

    /// `await server.wait_closed()`: until the server is closed and every connection it
    /// accepted is closed (asyncio 3.12's behaviour; 3.11 returned at once after close()).
    ///
    /// # Errors
    ///
    /// `CancelledError` when the waiting task is cancelled.
    pub fn wait_closed(&self, co: &TaskCo) -> Result<()> {
        let fut = {
            let mut waiters = self.0.waiters.borrow_mut();
            let Some(list) = waiters.as_mut() else {
                return Ok(());
            };
            let fut = self.0.lp.create_future::<()>();
            list.push(fut.clone());
            fut
        };
        co.wait(&fut)
    }

    /// `server.is_serving()`.
    pub fn is_serving(&self) -> bool {
        !self.0.closed.get()
    }

    /// The addresses of the TCP listening sockets (`[s.getsockname() for s in server.sockets]`);
    /// empty once closed.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        let listeners = self.0.listeners.borrow();
        let tcp = listeners.iter().filter_map(|l| match l {
            Listening::Tcp(_, a) => Some(*a),
            Listening::Unix(..) => None,
        });
        tcp.collect()
    }

    /// The path a [`start_unix_server`](crate::start_unix_server) server listens on; `None`
    /// for TCP, or once closed.
    pub fn unix_path(&self) -> Option<PathBuf> {
        let listeners = self.0.listeners.borrow();
        listeners.iter().find_map(|l| match l {
            Listening::Unix(_, p) => Some(p.clone()),
            Listening::Tcp(..) => None,
        })
    }

    /// The first listening address (what a test connects to after binding port 0).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addrs().first().copied()
    }

    /// How many accepted connections are still open.
    pub fn active_connections(&self) -> usize {
        self.0.active.get()
    }

    /// The loop the server runs on.
    pub fn get_loop(&self) -> &EventLoop {
        &self.0.lp
    }

    /// `await server.serve_forever()`: waits until the server is closed; cancelling it closes
    /// the server (and waits for it), then re-raises.
    ///
    /// # Errors
    ///
    /// - `CancelledError` when the waiting task is cancelled (the way to stop it).
    /// - `RuntimeError("server <...> is closed")` on a closed server.
    /// - `RuntimeError("server <...> is already being awaited on serve_forever()")`.
    pub fn serve_forever(&self, co: &TaskCo) -> Result<()> {
        if self.0.closed.get() {
            return Err(RuntimeError::new(format!("server {self:?} is closed")).into());
        }
        if self.0.serving_forever.borrow().is_some() {
            return Err(RuntimeError::new(format!(
                "server {self:?} is already being awaited on serve_forever()"
            ))
            .into());
        }
        let fut = self.0.lp.create_future::<()>();
        *self.0.serving_forever.borrow_mut() = Some(fut.clone());
        match co.wait(&fut) {
            Err(e) if e.isinstance::<CancelledError>() => {
                *self.0.serving_forever.borrow_mut() = None;
                self.close();
                self.wait_closed(co)?;
                Err(e)
            }
            r => {
                *self.0.serving_forever.borrow_mut() = None;
                r
            }
        }
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let addrs: Vec<String> = self
            .0
            .listeners
            .borrow()
            .iter()
            .map(Listening::describe)
            .collect();
        write!(f, "<Server sockets=({})>", addrs.join(", "))
    }
}

/// `await asyncio.start_server(handler, host, port)`: listens on every address `host`
/// resolves to (port 0: a free port, see [`Server::local_addr`]) and runs
/// `handler(co, reader, writer)` as a new task for each connection. Like asyncio it yields
/// one iteration so that the listeners are in place. A handler's error is reported to the
/// exception handler ("Unhandled exception in client_connected_cb").
///
/// # Examples
///
/// An echo server on a free port, one client, then both closed:
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use tulip::{StreamReader, StreamWriter, TaskCo, open_connection, start_server};
///
/// // async def handle_echo(reader, writer):
/// fn handle_echo(co: &TaskCo, reader: StreamReader, writer: StreamWriter) -> anyhow::Result<()> {
///     let line = reader.readline(co)?; // line = await reader.readline()
///     writer.write(&line)?;
///     writer.drain(co)?;
///     writer.close();
///     Ok(())
/// }
///
/// tulip::run(|co| {
///     // asyncio: server = await asyncio.start_server(handle_echo, "127.0.0.1", 0)
///     let server = start_server(co, handle_echo, "127.0.0.1", 0)?;
///     let port = server.local_addr().expect("listening").port();
///
///     let (reader, writer) = open_connection(co, "127.0.0.1", port)?;
///     writer.write(b"hello\n")?;
///     writer.drain(co)?;
///     assert_eq!(reader.readline(co)?, b"hello\n");
///     writer.close();
///     writer.wait_closed(co)?;
///
///     server.close(); // server.close(); await server.wait_closed()
///     server.wait_closed(co)?;
///     Ok(())
/// })?;
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// - `OsError` when binding fails, e.g. `OSError: [Errno 98] error while attempting to bind
///   on address ('127.0.0.1', 8080): address already in use`.
/// - `gaierror` when `host` does not resolve.
/// - `RuntimeError("no running event loop")`; `CancelledError` if the task is cancelled
///   while the listeners start.
pub fn start_server(
    co: &TaskCo,
    handler: impl Fn(&TaskCo, StreamReader, StreamWriter) -> Result<()> + 'static,
    host: &str,
    port: u16,
) -> Result<Server> {
    start_server_with(co, handler, host, port, ServerOptions::default())
}

/// [`start_server`] with a reader limit and a listen backlog. A bind failure is
/// `OSError(errno, "error while attempting to bind on address ('h', p): strerror")`.
///
/// # Errors
///
/// As [`start_server`]; also `ValueError("Limit cannot be <= 0")` for a zero limit.
pub fn start_server_with(
    co: &TaskCo,
    handler: impl Fn(&TaskCo, StreamReader, StreamWriter) -> Result<()> + 'static,
    host: &str,
    port: u16,
    opts: ServerOptions,
) -> Result<Server> {
    if opts.limit == 0 {
        return Err(ValueError::new("Limit cannot be <= 0").into());
    }
    let lp = get_running_loop()?;
    let mut listeners = Vec::new();
    // An empty host listens on every IPv4 interface (asyncio's None listens on IPv6 too).
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    for addr in ensure_resolved(co, host, port, SOCK_STREAM, AI_PASSIVE)? {
        let l = tcp_listener(&addr, opts.backlog).map_err(|e| match e.raw_os_error() {
            Some(errno) => OsError::with_errno(
                errno,
                format!(
                    "error while attempting to bind on address {}: {}",
                    py_addr(&addr),
                    OsError::from_io(&e).message().to_lowercase()
                ),
            ),
            None => OsError::from_io(&e),
        })?;
        let local = l.local_addr().map_err(|e| OsError::from_io(&e))?;
        listeners.push(Listening::Tcp(l, local));
    }
    serve(co, lp, listeners, Rc::new(handler), opts)
}

/// Starts serving on bound, listening, non-blocking sockets (TCP or Unix), then yields one
/// iteration, as asyncio's `start_server` does.
pub(crate) fn serve(
    co: &TaskCo,
    lp: EventLoop,
    listeners: Vec<Listening>,
    handler: Rc<Handler>,
    opts: ServerOptions,
) -> Result<Server> {
    let fds: Vec<RawFd> = listeners.iter().map(Listening::fd).collect();
    let core = Rc::new(ServerCore {
        lp: lp.clone(),
        listeners: RefCell::new(listeners),
        handler,
        opts,
        active: Cell::new(0),
        closed: Cell::new(false),
        waiters: RefCell::new(Some(Vec::new())),
        serving_forever: RefCell::new(None),
    });
    let server = Server(core.clone());
    for fd in fds {
        if let Err(e) = core.start_accepting(fd) {
            server.close();
            return Err(e);
        }
    }
    co.yield_now()?;
    Ok(server)
}

/// `await asyncio.start_server(handler, host, port, ssl=ctx)`: [`start_server`] whose
/// connections are TLS (see [`ServerOptions::ssl`]).
///
/// # Errors
///
/// As [`start_server`].
pub fn start_server_tls(
    co: &TaskCo,
    handler: impl Fn(&TaskCo, StreamReader, StreamWriter) -> Result<()> + 'static,
    host: &str,
    port: u16,
    ssl: &TlsAcceptor,
) -> Result<Server> {
    let opts = ServerOptions {
        ssl: Some(ssl.clone()),
        ..ServerOptions::default()
    };
    start_server_with(co, handler, host, port, opts)
}
