//! The loop's socket operations (layer 8): asyncio's `loop.sock_recv`, `sock_recv_into`,
//! `sock_sendall`, `sock_connect` and `sock_accept`, as functions that take the coroutine
//! handle `co` (`sock_recv(co, &sock, 100)?` is `await loop.sock_recv(sock, 100)`). On the
//! stackless backend (feature `nightly`) each has a native form running the same code,
//! `yield_from!(stackless::sock_recv(&sock, 100))?`, which holds no stack while it waits.
//!
//! # Which sockets
//!
//! Any connected stream socket given by reference to something [`AsRawFd`]: std's
//! [`TcpStream`] and [`UnixStream`] (what tulip hands out), or a socket of another crate.
//! Reads and writes pass `MSG_DONTWAIT`, so they never block the loop even on a socket left
//! in blocking mode, and writes pass `MSG_NOSIGNAL`, so a peer that went away gives
//! `BrokenPipeError` instead of a SIGPIPE that kills the process. Listeners passed to
//! [`sock_accept`] must be non-blocking (accept has no per-call flag); accepted streams are
//! non-blocking. Rust's std has no unconnected socket, so [`sock_connect`] makes the socket
//! (non-blocking, close-on-exec) and returns it connected, where asyncio connects one the
//! caller made.
//!
//! # How a wait works
//!
//! Each operation first tries its syscall; only on `EAGAIN` does it wait: a reader (or
//! writer) callback on the fd resolves a future the task waits on, and the reader is removed
//! when the call ends, however it ends (result, error, cancellation, or the task being unwound
//! when the loop closes), so a cancelled `sock_recv` leaves nothing registered. As in asyncio,
//! a call that waits registers and deregisters the fd (`epoll_ctl` ADD and DEL, 2 syscalls);
//! the registration is kept across the waits of one call, and the fd is not re-armed after it
//! fired (the woken task tries its syscall again and waits for the next edge on `EAGAIN`). It
//! is never kept past the call: the socket is borrowed, the caller may close it right after,
//! and epoll cannot forget a closed fd that still has a duplicate open (see `Wait`). Two
//! operations waiting in the same direction on one fd replace each other's reader, as
//! `add_reader` does; the one replaced adds its reader again if it has to wait again, and does
//! not remove the other's when it ends (asyncio 3.11's `_sock_read_done`).
//!
//! # Errors
//!
//! Failures are [`OsError`]s that print as Python's: `ConnectionRefusedError: [Errno 111]
//! Connect call failed ('127.0.0.1', 8)`, `BrokenPipeError: [Errno 32] Broken pipe`. A peer
//! that closed gives `b''` from `sock_recv`, never an error or a hang.

use std::cell::RefCell;
use std::io;
use std::mem::MaybeUninit;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::{SocketAddr as UnixSocketAddr, UnixListener, UnixStream};
use std::rc::Rc;

use anyhow::Result;

use crate::errors::{OsError, ValueError};
use crate::event_loop::{EventLoop, get_running_loop, running_debug};
use crate::futures::Future;
use crate::selector::{IoCallback, io_waiter};
use crate::sys;
use crate::tasks::TaskCo;

/// Python's repr of a socket address: `('127.0.0.1', 8080)` or `('::1', 8080, 0, 0)`, as
/// asyncio prints it in "Connect call failed ...".
pub fn py_addr(addr: &SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("('{}', {})", a.ip(), a.port()),
        SocketAddr::V6(a) => format!(
            "('{}', {}, {}, {})",
            a.ip(),
            a.port(),
            a.flowinfo(),
            a.scope_id()
        ),
    }
}

pub(crate) fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

fn interrupted(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::Interrupted
}

/// The readiness wait of one `sock_*` call: a one-shot reader (or writer) on the fd, added at
/// the call's first `EAGAIN` and kept for the call's other waits (a `sock_sendall` that fills
/// the buffer many times, a spurious wake-up), then removed when the call ends, however it
/// ends (result, error, cancellation, unwinding).
///
/// It must not outlive the call: the socket is only borrowed, and the caller may close it as
/// soon as the call returns. A registration left behind could not be removed once the fd is
/// closed (epoll forgets a closed fd only when no duplicate of it is left open, and `DEL` on a
/// closed fd fails), and it would report the old file's events under a reused fd number.
struct Wait {
    lp: EventLoop,
    fd: RawFd,
    read: bool,
    /// The future the task waits on while a wait is under way; the callback resolves it.
    slot: Rc<RefCell<Option<Future<()>>>>,
    /// Our reader/writer record, to tell whether another wait replaced it.
    cb: Option<Rc<dyn IoCallback>>,
}

impl Wait {
    fn new(lp: EventLoop, fd: RawFd, read: bool) -> Self {
        Wait {
            lp,
            fd,
            read,
            slot: Rc::default(),
            cb: None,
        }
    }

    /// The call's wait, made at its first `EAGAIN` (the running loop is looked up only then).
    fn first(wait: &mut Option<Wait>, fd: RawFd, read: bool) -> Result<&mut Wait> {
        if wait.is_none() {
            *wait = Some(Wait::new(get_running_loop()?, fd, read));
        }
        Ok(wait.as_mut().expect("set above"))
    }

    /// Suspends the task until the fd reports the next edge in our direction (or at once if
    /// it is ready when first registered).
    fn wait(&mut self, co: &TaskCo) -> Result<()> {
        let fut = self.arm()?;
        let r = co.wait(&fut);
        self.end();
        r
    }

    /// The before-wait part of [`Wait::wait`]: our reader (or writer) registered, and the
    /// future its callback resolves.
    #[inline]
    fn arm(&mut self) -> Result<Future<()>> {
        // Another operation in the same direction on this fd replaced our record (as
        // add_reader does): add ours again, as the next wait in asyncio would.
        if self.cb.as_ref().is_none_or(|cb| cb.cancelled()) {
            let slot = self.slot.clone();
            let cb = io_waiter(move || {
                let fut = slot.borrow_mut().take();
                if let Some(f) = fut
                    && !f.done()
                {
                    let _ = f.set_result(());
                }
            });
            self.lp.add_io_callback(self.fd, self.read, cb.clone())?;
            self.cb = Some(cb);
        }
        let fut = self.lp.create_future::<()>();
        *self.slot.borrow_mut() = Some(fut.clone());
        Ok(fut)
    }

    /// The after-wait part of [`Wait::wait`]: the callback resolves no stale future.
    #[inline]
    fn end(&self) {
        self.slot.borrow_mut().take();
    }
}

impl Drop for Wait {
    fn drop(&mut self) {
        // As asyncio 3.11's `_sock_read_done`: leave a record that replaced ours alone.
        if self.cb.as_ref().is_some_and(|cb| !cb.cancelled()) {
            if self.read {
                self.lp.remove_reader(self.fd);
            } else {
                self.lp.remove_writer(self.fd);
            }
        }
    }
}

/// asyncio's debug-mode check (`if self._debug and sock.gettimeout() != 0`): in debug mode every `sock_*` call
/// refuses a blocking socket. Outside it only `sock_accept` checks (it has no per-call
/// non-blocking flag); reads and writes pass `MSG_DONTWAIT` and cannot stall the loop.
fn check_sock(fd: RawFd) -> Result<()> {
    if running_debug() {
        require_nonblocking(fd)?;
    }
    Ok(())
}

/// `ValueError("the socket must be non-blocking")` for a socket in blocking mode.
fn require_nonblocking(fd: RawFd) -> Result<()> {
    if !sys::is_nonblocking(fd).map_err(|e| OsError::from_io(&e))? {
        return Err(ValueError::new("the socket must be non-blocking").into());
    }
    Ok(())
}

/// `await loop.sock_recv(sock, n)`: up to `n` bytes; empty at EOF (the peer closed). Returns
/// at once when data is already there; waits for readability otherwise.
pub fn sock_recv<S: AsRawFd + ?Sized>(co: &TaskCo, sock: &S, n: usize) -> Result<Vec<u8>> {
    check_sock(sock.as_raw_fd())?;
    let mut buf: Vec<u8> = Vec::with_capacity(n);
    let got = recv_uninit(co, sock.as_raw_fd(), &mut buf.spare_capacity_mut()[..n])?;
    // SAFETY: `recv` initialised the first `got` bytes.
    unsafe { buf.set_len(got) };
    Ok(buf)
}

/// `await loop.sock_recv_into(sock, buf)`: reads into `buf`, returns how many bytes (0 at
/// EOF).
pub fn sock_recv_into<S: AsRawFd + ?Sized>(co: &TaskCo, sock: &S, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: `&mut [u8]` and `&mut [MaybeUninit<u8>]` have the same layout, and recv only
    // writes initialised bytes into it.
    let uninit = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
    check_sock(sock.as_raw_fd())?;
    recv_uninit(co, sock.as_raw_fd(), uninit)
}

fn recv_uninit(co: &TaskCo, fd: RawFd, buf: &mut [MaybeUninit<u8>]) -> Result<usize> {
    let mut wait = None;
    loop {
        if let Some(r) = try_recv(fd, buf) {
            return r;
        }
        Wait::first(&mut wait, fd, true)?.wait(co)?;
    }
}

/// One `recv` of `sock_recv` (retried on `EINTR`): `None` when it must wait for readability.
#[inline]
fn try_recv(fd: RawFd, buf: &mut [MaybeUninit<u8>]) -> Option<Result<usize>> {
    loop {
        match sys::recv_nonblocking(fd, buf) {
            Ok(n) => return Some(Ok(n)),
            Err(e) if would_block(&e) => return None,
            Err(e) if interrupted(&e) => {}
            Err(e) => return Some(Err(OsError::from_io(&e).into())),
        }
    }
}

/// `await loop.sock_sendall(sock, data)`: sends all of `data`, waiting for writability
/// whenever the socket buffer is full. A peer that went away gives `BrokenPipeError` or
/// `ConnectionResetError` (never SIGPIPE). If cancelled, some of `data` may have been sent.
pub fn sock_sendall<S: AsRawFd + ?Sized>(co: &TaskCo, sock: &S, data: &[u8]) -> Result<()> {
    let fd = sock.as_raw_fd();
    check_sock(fd)?;
    let mut wait = None;
    let mut sent = 0;
    while !send_some(fd, data, &mut sent)? {
        Wait::first(&mut wait, fd, false)?.wait(co)?;
    }
    Ok(())
}

/// `sock_sendall`'s sends from `*sent` on: `true` once all of `data` is sent, `false` when
/// it must wait for writability.
#[inline]
fn send_some(fd: RawFd, data: &[u8], sent: &mut usize) -> Result<bool> {
    while *sent < data.len() {
        match sys::send_nonblocking(fd, &data[*sent..]) {
            Ok(n) => *sent += n,
            Err(e) if would_block(&e) => return Ok(false),
            Err(e) if interrupted(&e) => {}
            Err(e) => return Err(OsError::from_io(&e).into()),
        }
    }
    Ok(true)
}

/// `await loop.sock_recvfrom(sock, n)`: one datagram, cut to `n` bytes as Python's
/// `recvfrom(n)` (the kernel discards the rest: ask for 65,536 to lose nothing over UDP), and
/// its sender. Waits for readability when none is queued. On a connected UDP socket a
/// pending ICMP error comes back here, e.g. `ConnectionRefusedError: [Errno 111] Connection
/// refused`.
///
/// # Errors
///
/// The socket's `OsError`; `OSError: [Errno 97] Address family not supported by protocol`
/// for a sender that is not an IP address (a Unix datagram socket); `CancelledError`.
pub fn sock_recvfrom<S: AsRawFd + ?Sized>(
    co: &TaskCo,
    sock: &S,
    n: usize,
) -> Result<(Vec<u8>, SocketAddr)> {
    check_sock(sock.as_raw_fd())?;
    let mut buf: Vec<u8> = Vec::with_capacity(n);
    let (got, addr) = recvfrom_uninit(co, sock.as_raw_fd(), &mut buf.spare_capacity_mut()[..n])?;
    // SAFETY: `recvfrom` initialised the first `got` bytes.
    unsafe { buf.set_len(got) };
    Ok((buf, addr))
}

/// `await loop.sock_recvfrom_into(sock, buf)`: one datagram into `buf` (cut to its length),
/// how many bytes were written, and the sender.
///
/// # Errors
///
/// As [`sock_recvfrom`].
pub fn sock_recvfrom_into<S: AsRawFd + ?Sized>(
    co: &TaskCo,
    sock: &S,
    buf: &mut [u8],
) -> Result<(usize, SocketAddr)> {
    // SAFETY: `&mut [u8]` and `&mut [MaybeUninit<u8>]` have the same layout, and recvfrom
    // only writes initialised bytes into it.
    let uninit = unsafe { &mut *(buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
    check_sock(sock.as_raw_fd())?;
    recvfrom_uninit(co, sock.as_raw_fd(), uninit)
}

fn recvfrom_uninit(
    co: &TaskCo,
    fd: RawFd,
    buf: &mut [MaybeUninit<u8>],
) -> Result<(usize, SocketAddr)> {
    let mut wait = None;
    loop {
        if let Some(r) = try_recvfrom(fd, buf) {
            return r;
        }
        Wait::first(&mut wait, fd, true)?.wait(co)?;
    }
}

/// One `recvfrom` of `sock_recvfrom` (retried on `EINTR`): `None` when it must wait for
/// readability.
#[inline]
fn try_recvfrom(fd: RawFd, buf: &mut [MaybeUninit<u8>]) -> Option<Result<(usize, SocketAddr)>> {
    loop {
        match sys::recvfrom_nonblocking(fd, buf, false) {
            Ok((n, Some(addr))) => return Some(Ok((n, addr))),
            Ok((_, None)) => {
                return Some(Err(OsError::from_io(&io::Error::from_raw_os_error(
                    libc::EAFNOSUPPORT,
                ))
                .into()));
            }
            Err(e) if would_block(&e) => return None,
            Err(e) if interrupted(&e) => {}
            Err(e) => return Some(Err(OsError::from_io(&e).into())),
        }
    }
}

/// `await loop.sock_sendto(sock, data, addr)`: sends one datagram to `addr`, waiting for
/// writability if the send buffer is full; how many bytes were sent (all of them, for UDP).
///
/// # Errors
///
/// The socket's `OsError` (e.g. `[Errno 90] Message too long` for a datagram over 65,507
/// bytes); `CancelledError`.
pub fn sock_sendto<S: AsRawFd + ?Sized>(
    co: &TaskCo,
    sock: &S,
    data: &[u8],
    addr: SocketAddr,
) -> Result<usize> {
    let fd = sock.as_raw_fd();
    check_sock(fd)?;
    let mut wait = None;
    loop {
        if let Some(r) = try_sendto(fd, data, &addr) {
            return r;
        }
        Wait::first(&mut wait, fd, false)?.wait(co)?;
    }
}

/// One `sendto` of `sock_sendto` (retried on `EINTR`): `None` when it must wait for
/// writability.
#[inline]
fn try_sendto(fd: RawFd, data: &[u8], addr: &SocketAddr) -> Option<Result<usize>> {
    loop {
        match sys::sendto_nonblocking(fd, data, Some(addr)) {
            Ok(n) => return Some(Ok(n)),
            Err(e) if would_block(&e) => return None,
            Err(e) if interrupted(&e) => {}
            Err(e) => return Some(Err(OsError::from_io(&e).into())),
        }
    }
}

/// A new non-blocking, close-on-exec TCP socket of `addr`'s family, owned by a `TcpStream`
/// (closed on drop even if it never connects).
pub(crate) fn tcp_socket(addr: &SocketAddr) -> io::Result<TcpStream> {
    sys::tcp_socket(addr).map(TcpStream::from)
}

/// A non-blocking TCP listener bound to `addr` with asyncio's options (`SO_REUSEADDR`;
/// `IPV6_V6ONLY` for IPv6) and the given `backlog`.
pub(crate) fn tcp_listener(addr: &SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    let sock = tcp_socket(addr)?;
    let fd = sock.as_raw_fd();
    sys::set_int_option(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
    if addr.is_ipv6() {
        sys::set_int_option(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 1)?;
    }
    sys::bind(fd, addr)?;
    sys::listen(fd, backlog)?;
    Ok(TcpListener::from(OwnedFd::from(sock)))
}

/// `await loop.sock_connect(sock, addr)` for TCP: makes a non-blocking socket, connects it to
/// `addr` and returns it. On `EINPROGRESS` it waits for writability, then reads `SO_ERROR`: a
/// failure is `OSError(err, "Connect call failed ('127.0.0.1', 8)")` with the errno's class
/// (`ConnectionRefusedError` for a closed port). A failure reported by `connect` itself is
/// `[Errno N] strerror`, as in asyncio. Cancellation closes the half-made socket.
pub fn sock_connect(co: &TaskCo, addr: SocketAddr) -> Result<TcpStream> {
    let sock = match connect_start(&addr)? {
        Ok(sock) => return Ok(sock),
        Err(sock) => sock,
    };
    let mut wait = Wait::new(get_running_loop()?, sock.as_raw_fd(), false);
    loop {
        wait.wait(co)?;
        if connect_done(&sock, &addr)? {
            return Ok(sock);
        }
    }
}

/// `sock_connect` up to its wait: `Ok(sock)` connected at once, `Err(sock)` in progress.
fn connect_start(addr: &SocketAddr) -> Result<Result<TcpStream, TcpStream>> {
    let sock = tcp_socket(addr).map_err(|e| OsError::from_io(&e))?;
    loop {
        match sys::connect(sock.as_raw_fd(), addr) {
            Ok(()) => return Ok(Ok(sock)),
            Err(e) => match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EINPROGRESS) => return Ok(Err(sock)),
                _ => return Err(OsError::from_io(&e).into()),
            },
        }
    }
}

/// `sock_connect` after a wait for writability: `true` connected, `false` still in
/// progress (a spurious wake-up), or the connect error.
fn connect_done(sock: &TcpStream, addr: &SocketAddr) -> Result<bool> {
    match sock.take_error() {
        Ok(None) => {}
        Ok(Some(e)) => {
            let errno = e.raw_os_error().unwrap_or(libc::EIO);
            return Err(OsError::with_errno(
                errno,
                format!("Connect call failed {}", py_addr(addr)),
            )
            .into());
        }
        Err(e) => return Err(OsError::from_io(&e).into()),
    }
    // Writable without an error: connected, unless the wake-up was spurious.
    match sock.peer_addr() {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => Ok(false),
        Err(e) => Err(OsError::from_io(&e).into()),
    }
}

/// A listening socket [`sock_accept`] can take connections from.
pub trait Listener: AsRawFd {
    /// The connected socket type.
    type Stream;
    /// The peer's address type.
    type Addr;
    /// One non-blocking `accept`; the stream it returns is non-blocking.
    fn accept_nonblocking(&self) -> io::Result<(Self::Stream, Self::Addr)>;
}

impl Listener for TcpListener {
    type Stream = TcpStream;
    type Addr = SocketAddr;
    fn accept_nonblocking(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (s, a) = self.accept()?;
        s.set_nonblocking(true)?;
        Ok((s, a))
    }
}

impl Listener for UnixListener {
    type Stream = UnixStream;
    type Addr = UnixSocketAddr;
    fn accept_nonblocking(&self) -> io::Result<(UnixStream, UnixSocketAddr)> {
        let (s, a) = self.accept()?;
        s.set_nonblocking(true)?;
        Ok((s, a))
    }
}

/// `await loop.sock_accept(listener)`: the next connection and its peer address; the
/// connection is non-blocking. The listener must be non-blocking (else
/// `ValueError('the socket must be non-blocking')`, asyncio's debug-mode check: a blocking
/// accept would stall the loop). Errors such as `EMFILE` (too many open files) come back as
/// `OsError`, and the listener stays usable.
pub fn sock_accept<L: Listener + ?Sized>(
    co: &TaskCo,
    listener: &L,
) -> Result<(L::Stream, L::Addr)> {
    let fd = listener.as_raw_fd();
    // Always, not only in debug mode: a blocking accept would stall the loop.
    require_nonblocking(fd)?;
    let mut wait = None;
    loop {
        if let Some(r) = try_accept(listener) {
            return r;
        }
        Wait::first(&mut wait, fd, true)?.wait(co)?;
    }
}

/// One `accept` of `sock_accept` (retried on `EINTR` and `ECONNABORTED`): `None` when it
/// must wait for readability.
#[inline]
fn try_accept<L: Listener + ?Sized>(listener: &L) -> Option<Result<(L::Stream, L::Addr)>> {
    loop {
        match listener.accept_nonblocking() {
            Ok(pair) => return Some(Ok(pair)),
            Err(e) if would_block(&e) => return None,
            Err(e) if interrupted(&e) || e.raw_os_error() == Some(libc::ECONNABORTED) => {}
            Err(e) => return Some(Err(OsError::from_io(&e).into())),
        }
    }
}

#[cfg(feature = "nightly")]
pub(crate) mod stackless;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_print_like_python() {
        let e = OsError::with_errno(libc::ECONNREFUSED, "Connect call failed ('127.0.0.1', 1)");
        assert_eq!(e.py_name(), "ConnectionRefusedError");
        assert_eq!(
            e.to_string(),
            "[Errno 111] Connect call failed ('127.0.0.1', 1)"
        );
        let e = OsError::from_io(&io::Error::from_raw_os_error(libc::EPIPE));
        assert_eq!(e.py_name(), "BrokenPipeError");
        assert_eq!(e.to_string(), "[Errno 32] Broken pipe");
        assert!(e.is_connection_error());
        let e = OsError::named("ConnectionResetError", "Connection lost");
        assert_eq!(e.to_string(), "Connection lost");
        assert_eq!(e.kind(), io::ErrorKind::ConnectionReset);
        let e = OsError::from_io(&io::Error::from_raw_os_error(libc::EMFILE));
        assert_eq!(
            (e.py_name(), e.message()),
            ("OSError", "Too many open files")
        );
    }

    #[test]
    fn addresses_print_like_python() {
        assert_eq!(
            py_addr(&"127.0.0.1:80".parse().unwrap()),
            "('127.0.0.1', 80)"
        );
        assert_eq!(py_addr(&"[::1]:80".parse().unwrap()), "('::1', 80, 0, 0)");
    }
}
