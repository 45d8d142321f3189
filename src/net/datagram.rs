//! UDP (layer 8): asyncio's `loop.create_datagram_endpoint`, its datagram transport
//! (`_SelectorDatagramTransport`) and the `DatagramProtocol` it calls.
//!
//! The transport owns its socket and registers it once with the loop, edge-triggered with
//! cached readiness as a stream's transport (no `epoll_ctl` per datagram). As asyncio's, it
//! reads **one datagram per loop iteration** while the socket is readable and hands it to
//! [`DatagramProtocol::datagram_received`]; [`DatagramTransport::sendto`] sends at once and
//! buffers a datagram only when the socket's send buffer is full, sending the buffer from a
//! writer callback in order.
//!
//! # Errors, per datagram
//!
//! A failed `recvfrom` or `sendto` is not the end of a UDP socket: the error goes to
//! [`DatagramProtocol::error_received`] and the transport stays open, as in asyncio. On Linux a
//! *connected* socket (`remote_addr`) learns from an ICMP "port unreachable" that nobody
//! listens at the peer: its next `recvfrom` (or `send`) fails with `ECONNREFUSED`, which
//! arrives as `error_received(ConnectionRefusedError: [Errno 111] Connection refused)`. An
//! unconnected socket is never told.
//!
//! # Datagrams larger than the buffer
//!
//! The transport receives into a 64 KiB buffer, which holds any UDP datagram over IPv4 or
//! IPv6 (65,507 and 65,527 bytes of payload at most); asyncio's is 256 KiB. It asks the kernel
//! for the datagram's real length (`MSG_TRUNC`): a larger one (an IPv6 jumbogram) is not cut
//! silently but reported as `error_received(OSError: [Errno 90] Message too long)`.
//! [`sock_recvfrom`](crate::sock_recvfrom)`(co, &sock, n)` keeps Python's `recvfrom(n)`
//! semantics: the datagram is cut to `n` bytes and the rest is discarded by the kernel, as
//! asyncio does; ask for 65,536 bytes to never lose any.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::mem::MaybeUninit;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::rc::{Rc, Weak};

use anyhow::Result;

use crate::errors::{OsError, ValueError};
use crate::event_loop::{EventLoop, ExceptionContext, get_running_loop};
use crate::net::resolve::{SOCK_DGRAM, ensure_resolved};
use crate::net::sockets::{py_addr, would_block};
use crate::net::streams::combine;
use crate::sys;
use crate::tasks::TaskCo;

/// The receive buffer of a datagram transport: any UDP datagram over IPv4 or IPv6 fits.
const MAX_DATAGRAM: usize = 1 << 16;

/// asyncio's default high-water mark of a transport's write buffer (the low one is a quarter).
const HIGH_WATER: usize = 1 << 16;

/// asyncio's `asyncio.DatagramProtocol`: what a datagram transport calls, always from the
/// loop (a callback of its own, or inside [`DatagramTransport::sendto`] for a send error).
///
/// Every method has a default that does nothing, as asyncio's base class. They take `&self`,
/// as a Python protocol object is shared by the transport and the program: keep the state in
/// `Cell`s or `RefCell`s, and end a borrow before calling the transport (its `sendto` may call
/// `error_received` at once). An `Err` returned from a method the loop called is reported to
/// the loop's exception handler (as asyncio reports an exception escaping a callback) and the
/// transport goes on; one returned from `error_received` inside `sendto` is `sendto`'s error.
pub trait DatagramProtocol: 'static {
    /// `connection_made(transport)`: the endpoint is ready, before any datagram arrives. Keep a
    /// clone of the transport to send; the transport keeps the protocol until
    /// `connection_lost`, so the cycle ends there.
    fn connection_made(&self, transport: &DatagramTransport) -> Result<()> {
        let _ = transport;
        Ok(())
    }

    /// `datagram_received(data, addr)`: one datagram and its sender.
    fn datagram_received(&self, data: &[u8], addr: SocketAddr) -> Result<()> {
        let _ = (data, addr);
        Ok(())
    }

    /// `error_received(exc)`: a send or receive failed (an [`OsError`], e.g.
    /// `ConnectionRefusedError` after an ICMP port unreachable); the transport stays open.
    fn error_received(&self, exc: anyhow::Error) -> Result<()> {
        let _ = exc;
        Ok(())
    }

    /// `connection_lost(exc)`: the transport closed (`None` after `close()` or `abort()`).
    /// The last call; the transport drops the protocol after it.
    fn connection_lost(&self, exc: Option<anyhow::Error>) -> Result<()> {
        let _ = exc;
        Ok(())
    }

    /// `pause_writing()`: the transport's send buffer went over its high-water mark (64 KiB).
    fn pause_writing(&self) -> Result<()> {
        Ok(())
    }

    /// `resume_writing()`: the send buffer drained to its low-water mark (16 KiB).
    fn resume_writing(&self) -> Result<()> {
        Ok(())
    }
}

/// Options of [`create_datagram_endpoint`]: asyncio's keywords. A host may be a name (looked
/// up in the default executor) or a numeric address (no lookup).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatagramOptions {
    /// `local_addr=(host, port)`: bind there (port 0: a free port).
    pub local_addr: Option<(String, u16)>,
    /// `remote_addr=(host, port)`: connect there; `sendto` then takes no address (or this
    /// one), only datagrams from there arrive, and ICMP errors are reported.
    pub remote_addr: Option<(String, u16)>,
    /// `reuse_port=True`: `SO_REUSEPORT`.
    pub reuse_port: bool,
    /// `allow_broadcast=True`: `SO_BROADCAST`; `remote_addr` is then not connected, only
    /// the default destination of `sendto`.
    pub allow_broadcast: bool,
}

impl DatagramOptions {
    /// Options with `local_addr=(host, port)`.
    pub fn local(host: &str, port: u16) -> Self {
        DatagramOptions {
            local_addr: Some((host.to_string(), port)),
            ..Default::default()
        }
    }

    /// Options with `remote_addr=(host, port)`.
    pub fn remote(host: &str, port: u16) -> Self {
        DatagramOptions {
            remote_addr: Some((host.to_string(), port)),
            ..Default::default()
        }
    }
}

struct Core {
    lp: EventLoop,
    fd: RawFd,
    /// The socket; `None` once closed.
    sock: RefCell<Option<OwnedFd>>,
    /// `None` after `connection_lost`.
    protocol: RefCell<Option<Rc<dyn DatagramProtocol>>>,
    /// asyncio's `_address`: the default (and only) destination, from `remote_addr`.
    address: Option<SocketAddr>,
    sockname: Option<SocketAddr>,
    /// Set when the socket is connected: sends use `send`.
    peername: Option<SocketAddr>,
    /// Datagrams waiting for the socket to be writable.
    buffer: RefCell<VecDeque<(Vec<u8>, Option<SocketAddr>)>>,
    buffer_size: Cell<usize>,
    protocol_paused: Cell<bool>,
    rbuf: RefCell<Vec<u8>>,
    registered: Cell<bool>,
    reading: Cell<bool>,
    writing: Cell<bool>,
    closing: Cell<bool>,
    conn_lost: Cell<u32>,
}

/// asyncio's datagram transport (`asyncio.DatagramTransport`): a UDP socket with its
/// [`DatagramProtocol`]. A cheap clonable handle; the loop holds the transport until it is
/// closed ([`close`](DatagramTransport::close) or [`abort`](DatagramTransport::abort), or the
/// loop's own close), so dropping the handles does not close it, as in asyncio.
#[derive(Clone)]
pub struct DatagramTransport(Rc<Core>);

impl fmt::Debug for DatagramTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.0.sock.borrow().is_none() {
            "closed".to_string()
        } else {
            format!("fd={}", self.0.fd)
        };
        write!(f, "<_SelectorDatagramTransport {state}>")
    }
}

/// What [`DatagramTransport::get_extra_info`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtraInfo {
    /// `'sockname'` / `'peername'`: an address.
    Addr(SocketAddr),
    /// `'socket'`: the socket's file descriptor (owned by the transport).
    Fd(RawFd),
}

impl Core {
    fn protocol(&self) -> Option<Rc<dyn DatagramProtocol>> {
        self.protocol.borrow().clone()
    }

    /// Calls a protocol method from one of our loop callbacks: an error is reported as an
    /// exception escaping a callback, and the loop goes on.
    fn report(&self, method: &str, r: Result<()>) {
        if let Err(e) = r {
            self.lp.call_exception_handler(
                ExceptionContext::new(format!("Exception in callback DatagramProtocol.{method}()"))
                    .with_exception(e)
                    .with_field("transport", self.handle_repr()),
            );
        }
    }

    fn handle_repr(&self) -> String {
        format!("<_SelectorDatagramTransport fd={}>", self.fd)
    }

    fn start_reading(&self) {
        if !self.closing.get() && !self.reading.replace(true) {
            self.lp.want_source(self.fd, true, true);
        }
    }

    fn stop_reading(&self) {
        if self.reading.replace(false) {
            self.lp.want_source(self.fd, true, false);
        }
    }

    fn start_writing(&self) {
        if !self.writing.replace(true) {
            self.lp.want_source(self.fd, false, true);
        }
    }

    fn stop_writing(&self) {
        if self.writing.replace(false) {
            self.lp.want_source(self.fd, false, false);
        }
    }

    /// asyncio's `_read_ready`: one datagram per call (the loop calls again next iteration
    /// while the socket stays readable).
    fn read_ready(self: &Rc<Self>) {
        if self.conn_lost.get() > 0 {
            self.stop_reading();
            return;
        }
        let r = {
            let mut buf = self.rbuf.borrow_mut();
            if buf.capacity() < MAX_DATAGRAM {
                *buf = Vec::with_capacity(MAX_DATAGRAM);
            }
            let spare: &mut [MaybeUninit<u8>] = &mut buf.spare_capacity_mut()[..MAX_DATAGRAM];
            let r = sys::recvfrom_nonblocking(self.fd, spare, true);
            if let Ok((n, _)) = r {
                // SAFETY: recvfrom initialised the first `min(n, MAX_DATAGRAM)` bytes.
                unsafe { buf.set_len(n.min(MAX_DATAGRAM)) };
            }
            r
        };
        let Some(protocol) = self.protocol() else {
            return;
        };
        match r {
            Ok((n, _)) if n > MAX_DATAGRAM => {
                let e = OsError::from_io(&std::io::Error::from_raw_os_error(libc::EMSGSIZE));
                self.report("error_received", protocol.error_received(e.into()));
            }
            Ok((_, addr)) => {
                // The buffer is lent for the call, and taken out so that the protocol may
                // re-enter the transport (a nested read never happens: reads run only here).
                let data = std::mem::take(&mut *self.rbuf.borrow_mut());
                let addr = addr
                    .or(self.peername)
                    .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
                let r = protocol.datagram_received(&data, addr);
                let mut data = data;
                data.clear();
                *self.rbuf.borrow_mut() = data;
                self.report("datagram_received", r);
            }
            Err(e) if would_block(&e) => self.lp.reset_source(self.fd, true),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                let e = OsError::from_io(&e);
                self.report("error_received", protocol.error_received(e.into()));
            }
        }
    }

    /// One send of a datagram: `send` on a connected socket, else `sendto`.
    fn send_one(&self, data: &[u8], addr: Option<SocketAddr>) -> std::io::Result<usize> {
        let to = if self.peername.is_some() {
            None
        } else {
            addr.or(self.address)
        };
        match to {
            Some(a) => sys::sendto_nonblocking(self.fd, data, Some(&a)),
            None if self.peername.is_some() => sys::sendto_nonblocking(self.fd, data, None),
            // Python's sendto(data, None) on an unconnected socket.
            None => Err(std::io::Error::from_raw_os_error(libc::EDESTADDRREQ)),
        }
    }

    /// asyncio's `_sendto_ready`: sends the buffer in order until the socket is full.
    fn write_ready(self: &Rc<Self>) {
        loop {
            let front = self.buffer.borrow_mut().pop_front();
            let Some((data, addr)) = front else { break };
            self.buffer_size.set(self.buffer_size.get() - data.len());
            match self.send_one(&data, addr) {
                Ok(_) => {}
                Err(e) if would_block(&e) || e.kind() == std::io::ErrorKind::Interrupted => {
                    self.buffer_size.set(self.buffer_size.get() + data.len());
                    self.buffer.borrow_mut().push_front((data, addr));
                    if would_block(&e) {
                        self.lp.reset_source(self.fd, false);
                    }
                    break;
                }
                Err(e) => {
                    if let Some(p) = self.protocol() {
                        let r = p.error_received(OsError::from_io(&e).into());
                        self.report("error_received", r);
                    }
                    return;
                }
            }
        }
        self.maybe_resume_protocol();
        if self.buffer.borrow().is_empty() {
            self.stop_writing();
            if self.closing.get() {
                self.connection_lost(None);
            }
        }
    }

    fn maybe_pause_protocol(&self) {
        if self.buffer_size.get() > HIGH_WATER
            && !self.protocol_paused.replace(true)
            && let Some(p) = self.protocol()
        {
            self.report("pause_writing", p.pause_writing());
        }
    }

    fn maybe_resume_protocol(&self) {
        if self.protocol_paused.get() && self.buffer_size.get() <= HIGH_WATER / 4 {
            self.protocol_paused.set(false);
            if let Some(p) = self.protocol() {
                self.report("resume_writing", p.resume_writing());
            }
        }
    }

    fn close(self: &Rc<Self>) {
        if self.closing.replace(true) {
            return;
        }
        self.stop_reading();
        if self.buffer.borrow().is_empty() {
            self.conn_lost.set(self.conn_lost.get() + 1);
            self.stop_writing();
            self.schedule_connection_lost(None);
        }
    }

    fn force_close(self: &Rc<Self>, exc: Option<anyhow::Error>) {
        if self.conn_lost.get() > 0 {
            return;
        }
        if !self.buffer.borrow().is_empty() {
            self.buffer.borrow_mut().clear();
            self.buffer_size.set(0);
            self.stop_writing();
        }
        if !self.closing.replace(true) {
            self.stop_reading();
        }
        self.conn_lost.set(self.conn_lost.get() + 1);
        self.schedule_connection_lost(exc);
    }

    fn schedule_connection_lost(self: &Rc<Self>, exc: Option<anyhow::Error>) {
        if self.lp.is_closed() {
            self.connection_lost(exc);
            return;
        }
        let me = self.clone();
        let _ = self.lp.schedule(move || me.connection_lost(exc));
    }

    /// asyncio's `_call_connection_lost`: tells the protocol, then closes the socket and lets
    /// the protocol go (which ends the cycle through a transport kept by the protocol).
    fn connection_lost(&self, exc: Option<anyhow::Error>) {
        if self.sock.borrow().is_none() {
            return;
        }
        let protocol = self.protocol();
        if let Some(p) = &protocol {
            self.report("connection_lost", p.connection_lost(exc));
        }
        self.shut();
        drop(self.protocol.borrow_mut().take());
        drop(protocol);
    }

    /// Deregisters and closes the socket.
    fn shut(&self) {
        self.stop_reading();
        self.stop_writing();
        if self.registered.replace(false) {
            self.lp.deregister_source(self.fd);
        }
        drop(self.sock.borrow_mut().take());
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        // Deregistered before the fd closes, whatever path got here.
        if self.registered.replace(false) {
            self.lp.deregister_source(self.fd);
        }
        drop(self.sock.get_mut().take());
    }
}

impl DatagramTransport {
    /// `transport.sendto(data, addr)`: sends one datagram to `addr` (or, with `None`, to the
    /// `remote_addr`). Sent at once when the socket can take it, else buffered and sent in
    /// order by the loop. Empty data sends nothing (asyncio 3.11). A send that fails goes to
    /// the protocol's `error_received` (the transport stays open); after `close()` has
    /// completed the data is dropped.
    ///
    /// # Errors
    ///
    /// - `ValueError("Invalid address: must be None or ('127.0.0.1', 9999)")` for another
    ///   address than a connected transport's.
    /// - What the protocol's `error_received` returns, when it is called from here.
    pub fn sendto(&self, data: &[u8], addr: Option<SocketAddr>) -> Result<()> {
        let t = &self.0;
        if data.is_empty() {
            return Ok(());
        }
        let mut addr = addr;
        if let Some(remote) = t.address {
            if addr.is_some_and(|a| a != remote) {
                return Err(ValueError::new(format!(
                    "Invalid address: must be None or {}",
                    py_addr(&remote)
                ))
                .into());
            }
            addr = Some(remote);
        }
        if t.sock.borrow().is_none() || (t.conn_lost.get() > 0 && t.address.is_some()) {
            t.conn_lost.set(t.conn_lost.get().saturating_add(1));
            return Ok(());
        }
        if t.buffer.borrow().is_empty() {
            match t.send_one(data, addr) {
                Ok(_) => return Ok(()),
                Err(e) if would_block(&e) || e.kind() == std::io::ErrorKind::Interrupted => {
                    if would_block(&e) {
                        t.lp.reset_source(t.fd, false);
                    }
                    t.start_writing();
                }
                Err(e) => {
                    return match t.protocol() {
                        Some(p) => p.error_received(OsError::from_io(&e).into()),
                        None => Ok(()),
                    };
                }
            }
        }
        t.buffer.borrow_mut().push_back((data.to_vec(), addr));
        t.buffer_size.set(t.buffer_size.get() + data.len());
        t.maybe_pause_protocol();
        Ok(())
    }

    /// `transport.close()`: stops receiving, sends what is buffered, then closes the socket
    /// and calls `connection_lost(None)` (in a later iteration). Idempotent.
    pub fn close(&self) {
        self.0.close();
    }

    /// `transport.abort()`: drops what is buffered and closes at once (`connection_lost(None)`
    /// still comes in a later iteration).
    pub fn abort(&self) {
        self.0.force_close(None);
    }

    /// `transport.is_closing()`.
    pub fn is_closing(&self) -> bool {
        self.0.closing.get()
    }

    /// `transport.get_write_buffer_size()`: bytes waiting to be sent.
    pub fn get_write_buffer_size(&self) -> usize {
        self.0.buffer_size.get()
    }

    /// `transport.get_extra_info(name)`: `"sockname"`, `"peername"` (connected transports) or
    /// `"socket"` (the fd, while open); `None` for anything else.
    pub fn get_extra_info(&self, name: &str) -> Option<ExtraInfo> {
        match name {
            "sockname" => self.0.sockname.map(ExtraInfo::Addr),
            "peername" => self.0.peername.map(ExtraInfo::Addr),
            "socket" => self
                .0
                .sock
                .borrow()
                .as_ref()
                .map(|s| ExtraInfo::Fd(s.as_raw_fd())),
            _ => None,
        }
    }

    /// `get_extra_info('sockname')`, typed.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.0.sockname
    }

    /// `get_extra_info('peername')`, typed: the connected `remote_addr`.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.0.peername
    }

    /// The loop the transport runs on.
    pub fn get_loop(&self) -> &EventLoop {
        &self.0.lp
    }
}

/// Makes the transport of a bound (and maybe connected) non-blocking socket, and schedules
/// what asyncio's `_SelectorDatagramTransport.__init__` does: `connection_made`, then the start
/// of reading, then `waiter`, each with `call_soon`.
fn make_transport(
    lp: &EventLoop,
    sock: OwnedFd,
    protocol: Rc<dyn DatagramProtocol>,
    address: Option<SocketAddr>,
) -> Result<(DatagramTransport, crate::futures::Future<()>)> {
    let fd = sock.as_raw_fd();
    let sockname = sys::local_addr(fd).ok().flatten();
    let peername = sys::peer_addr(fd).ok().flatten();
    let core = Rc::new(Core {
        lp: lp.clone(),
        fd,
        sock: RefCell::new(Some(sock)),
        protocol: RefCell::new(Some(protocol)),
        address,
        sockname,
        peername,
        buffer: RefCell::default(),
        buffer_size: Cell::new(0),
        protocol_paused: Cell::new(false),
        rbuf: RefCell::default(),
        registered: Cell::new(false),
        reading: Cell::new(false),
        writing: Cell::new(false),
        closing: Cell::new(false),
        conn_lost: Cell::new(0),
    });
    // The callbacks hold the transport until it deregisters.
    let (r, w) = (core.clone(), core.clone());
    lp.register_source(fd, move || r.read_ready(), move || w.write_ready())?;
    core.registered.set(true);
    // If the loop closes with the transport open, its protocol (which may hold the transport)
    // is let go, so the two do not keep each other alive.
    let weak: Weak<Core> = Rc::downgrade(&core);
    lp.add_close_hook(move |_| {
        if let Some(core) = weak.upgrade() {
            core.shut();
            drop(core.protocol.borrow_mut().take());
        }
    });
    let transport = DatagramTransport(core.clone());
    let made = core.clone();
    let t2 = transport.clone();
    lp.schedule(move || {
        if let Some(p) = made.protocol() {
            made.report("connection_made", p.connection_made(&t2));
        }
    })?;
    let reading = core.clone();
    lp.schedule(move || reading.start_reading())?;
    let waiter = lp.create_future::<()>();
    let w = waiter.clone();
    lp.schedule(move || {
        if !w.done() {
            let _ = w.set_result(());
        }
    })?;
    Ok((transport, waiter))
}

/// `await loop.create_datagram_endpoint(protocol_factory, local_addr=..., remote_addr=...)`:
/// a UDP socket bound to `local_addr` and/or connected to `remote_addr`, with the protocol
/// `factory()` makes. Returns once `connection_made` has run, as asyncio.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use std::net::SocketAddr;
///
/// use tulip::{
///     DatagramOptions, DatagramProtocol, DatagramTransport, Future, create_datagram_endpoint,
///     get_running_loop,
/// };
///
/// /// Echoes every datagram back to its sender.
/// struct Echo(RefCell<Option<DatagramTransport>>);
///
/// impl DatagramProtocol for Echo {
///     fn connection_made(&self, t: &DatagramTransport) -> anyhow::Result<()> {
///         *self.0.borrow_mut() = Some(t.clone());
///         Ok(())
///     }
///     fn datagram_received(&self, data: &[u8], addr: SocketAddr) -> anyhow::Result<()> {
///         let t = self.0.borrow().clone().expect("connected");
///         t.sendto(data, Some(addr))
///     }
/// }
///
/// /// Resolves a future with the first datagram.
/// struct Client(Future<Vec<u8>>);
///
/// impl DatagramProtocol for Client {
///     fn datagram_received(&self, data: &[u8], _: SocketAddr) -> anyhow::Result<()> {
///         self.0.set_result(data.to_vec())
///     }
/// }
///
/// tulip::run(|co| {
///     let opts = DatagramOptions::local("127.0.0.1", 0);
///     let (server, _) = create_datagram_endpoint(co, || Echo(RefCell::new(None)), opts)?;
///     let port = server.local_addr().expect("bound").port();
///
///     let reply = get_running_loop()?.create_future();
///     let opts = DatagramOptions::remote("127.0.0.1", port);
///     let (client, _) = create_datagram_endpoint(co, || Client(reply.clone()), opts)?;
///     client.sendto(b"ping", None)?;
///     assert_eq!(co.wait(&reply)?, b"ping");
///     client.close();
///     server.close();
///     Ok(())
/// })?;
/// # Ok::<(), anyhow::Error>(())
/// ```
///
/// # Errors
///
/// - `ValueError("unexpected address family")` with neither address.
/// - `ValueError("can not get address information")` when the two addresses share no family.
/// - The socket's `OsError`: a bind failure is `[Errno 98] Address already in use`.
/// - `gaierror` when a host does not resolve.
/// - `CancelledError` when the task is cancelled meanwhile (the transport is closed).
pub fn create_datagram_endpoint<P: DatagramProtocol>(
    co: &TaskCo,
    factory: impl FnOnce() -> P,
    opts: DatagramOptions,
) -> Result<(DatagramTransport, Rc<P>)> {
    let lp = get_running_loop()?;
    if opts.local_addr.is_none() && opts.remote_addr.is_none() {
        return Err(ValueError::new("unexpected address family").into());
    }
    let mut local = Vec::new();
    if let Some((host, port)) = &opts.local_addr {
        local = ensure_resolved(co, host, *port, SOCK_DGRAM, 0)?;
    }
    let mut remote = Vec::new();
    if let Some((host, port)) = &opts.remote_addr {
        remote = ensure_resolved(co, host, *port, SOCK_DGRAM, 0)?;
    }
    // asyncio pairs the two by family, in the order the families first appear.
    let mut families: Vec<bool> = Vec::new(); // is_ipv6
    for a in local.iter().chain(&remote) {
        if !families.contains(&a.is_ipv6()) {
            families.push(a.is_ipv6());
        }
    }
    let pairs: Vec<(Option<SocketAddr>, Option<SocketAddr>)> = families
        .into_iter()
        .map(|v6| {
            let l = local.iter().find(|a| a.is_ipv6() == v6).copied();
            let r = remote.iter().find(|a| a.is_ipv6() == v6).copied();
            (l, r)
        })
        .filter(|(l, r)| {
            !(opts.local_addr.is_some() && l.is_none() || opts.remote_addr.is_some() && r.is_none())
        })
        .collect();
    if pairs.is_empty() {
        return Err(ValueError::new("can not get address information").into());
    }
    let mut errors = Vec::new();
    let mut made = None;
    for (l, r) in pairs {
        match open_socket(l, r, &opts) {
            Ok(sock) => {
                made = Some((sock, r));
                break;
            }
            Err(e) => errors.push(e),
        }
    }
    let Some((sock, r_addr)) = made else {
        // asyncio raises the first error.
        errors.truncate(1);
        return Err(combine(errors));
    };
    let protocol = Rc::new(factory());
    let (transport, waiter) = make_transport(&lp, sock, protocol.clone(), r_addr)?;
    if let Err(e) = co.wait(&waiter) {
        transport.close();
        return Err(e);
    }
    Ok((transport, protocol))
}

/// One attempt of `create_datagram_endpoint`: the socket of one family, with its options,
/// bound and connected as asked.
fn open_socket(
    local: Option<SocketAddr>,
    remote: Option<SocketAddr>,
    opts: &DatagramOptions,
) -> Result<OwnedFd> {
    let family_of = local.or(remote).expect("one address at least");
    let os = |e: std::io::Error| OsError::from_io(&e);
    let sock = sys::udp_socket(&family_of).map_err(os)?;
    let fd = sock.as_raw_fd();
    if opts.reuse_port {
        sys::set_int_option(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1).map_err(os)?;
    }
    if opts.allow_broadcast {
        sys::set_int_option(fd, libc::SOL_SOCKET, libc::SO_BROADCAST, 1).map_err(os)?;
    }
    if let Some(l) = local {
        sys::bind(fd, &l).map_err(os)?;
    }
    if let Some(r) = remote
        && !opts.allow_broadcast
    {
        loop {
            match sys::connect(fd, &r) {
                Ok(()) => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(os(e).into()),
            }
        }
    }
    Ok(sock)
}

/// A datagram endpoint on a UDP socket the caller made: asyncio's
/// `create_datagram_endpoint(factory, sock=sock)`. The socket is made non-blocking; a
/// connected socket's peer is the transport's `remote_addr`.
///
/// # Errors
///
/// As [`create_datagram_endpoint`].
pub fn wrap_datagram<P: DatagramProtocol>(
    co: &TaskCo,
    sock: UdpSocket,
    factory: impl FnOnce() -> P,
) -> Result<(DatagramTransport, Rc<P>)> {
    let lp = get_running_loop()?;
    sock.set_nonblocking(true)
        .map_err(|e| OsError::from_io(&e))?;
    let remote = sock.peer_addr().ok();
    let protocol = Rc::new(factory());
    let (transport, waiter) = make_transport(&lp, sock.into(), protocol.clone(), remote)?;
    if let Err(e) = co.wait(&waiter) {
        transport.close();
        return Err(e);
    }
    Ok((transport, protocol))
}
