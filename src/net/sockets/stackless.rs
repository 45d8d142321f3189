//! The stackless forms of the `sock_*` waits (feature `nightly`): each a [`WaitOp`] whose
//! `begin` and `resume` call the attempts the stackful functions loop over (`try_recv`,
//! `send_some`, ...) and arm the same [`Wait`], which is dropped (its reader removed) when
//! the call ends however it ends, before a socket the call owns is closed.

use std::panic::Location;

use super::*;
use crate::sync::stackless::{Waiting, stackless_wait};
use crate::sync::{Step, WaitOp};
use crate::tasks::WaitKind;

/// The wait of a call that got `EAGAIN`: `co.wait`'s step, or the failure to register.
fn wait_step<T>(wait: &mut Option<Wait>, fd: RawFd, read: bool) -> Step<T> {
    match Wait::first(wait, fd, read).and_then(Wait::arm) {
        Ok(fut) => Step::Wait(fut, WaitKind::Wait),
        Err(e) => Step::Done(Err(e)),
    }
}

/// The after-wait part common to all: the slot emptied, then the wait's outcome.
fn end_wait(wait: &Option<Wait>, waited: Result<()>) -> Result<()> {
    if let Some(w) = wait {
        w.end();
    }
    waited
}

/// `sock_recv` as a [`WaitOp`].
pub(crate) struct Recv {
    n: usize,
    buf: Vec<u8>,
    wait: Option<Wait>,
}

impl Recv {
    fn attempt(&mut self, fd: RawFd) -> Step<Vec<u8>> {
        match try_recv(fd, &mut self.buf.spare_capacity_mut()[..self.n]) {
            Some(Ok(got)) => {
                // SAFETY: `recv` initialised the first `got` bytes.
                unsafe { self.buf.set_len(got) };
                Step::Done(Ok(std::mem::take(&mut self.buf)))
            }
            Some(Err(e)) => Step::Done(Err(e)),
            None => wait_step(&mut self.wait, fd, true),
        }
    }
}

impl<S: AsRawFd + ?Sized> WaitOp<&S> for Recv {
    type Output = Vec<u8>;

    fn begin(&mut self, sock: &&S) -> Step<Vec<u8>> {
        if let Err(e) = check_sock(sock.as_raw_fd()) {
            return Step::Done(Err(e));
        }
        self.buf = Vec::with_capacity(self.n);
        self.attempt(sock.as_raw_fd())
    }

    fn resume(&mut self, sock: &&S, _: Future<()>, waited: Result<()>) -> Step<Vec<u8>> {
        match end_wait(&self.wait, waited) {
            Ok(()) => self.attempt(sock.as_raw_fd()),
            Err(e) => Step::Done(Err(e)),
        }
    }
}

/// `sock_recv_into` as a [`WaitOp`].
pub(crate) struct RecvInto<'b> {
    buf: &'b mut [u8],
    wait: Option<Wait>,
}

impl RecvInto<'_> {
    fn attempt(&mut self, fd: RawFd) -> Step<usize> {
        // SAFETY: as in `sock_recv_into`.
        let uninit = unsafe { &mut *(&mut *self.buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
        match try_recv(fd, uninit) {
            Some(r) => Step::Done(r),
            None => wait_step(&mut self.wait, fd, true),
        }
    }
}

impl<S: AsRawFd + ?Sized> WaitOp<&S> for RecvInto<'_> {
    type Output = usize;

    fn begin(&mut self, sock: &&S) -> Step<usize> {
        if let Err(e) = check_sock(sock.as_raw_fd()) {
            return Step::Done(Err(e));
        }
        self.attempt(sock.as_raw_fd())
    }

    fn resume(&mut self, sock: &&S, _: Future<()>, waited: Result<()>) -> Step<usize> {
        match end_wait(&self.wait, waited) {
            Ok(()) => self.attempt(sock.as_raw_fd()),
            Err(e) => Step::Done(Err(e)),
        }
    }
}

/// `sock_recvfrom` as a [`WaitOp`].
pub(crate) struct Recvfrom {
    n: usize,
    buf: Vec<u8>,
    wait: Option<Wait>,
}

impl Recvfrom {
    fn attempt(&mut self, fd: RawFd) -> Step<(Vec<u8>, SocketAddr)> {
        match try_recvfrom(fd, &mut self.buf.spare_capacity_mut()[..self.n]) {
            Some(Ok((got, addr))) => {
                // SAFETY: `recvfrom` initialised the first `got` bytes.
                unsafe { self.buf.set_len(got) };
                Step::Done(Ok((std::mem::take(&mut self.buf), addr)))
            }
            Some(Err(e)) => Step::Done(Err(e)),
            None => wait_step(&mut self.wait, fd, true),
        }
    }
}

impl<S: AsRawFd + ?Sized> WaitOp<&S> for Recvfrom {
    type Output = (Vec<u8>, SocketAddr);

    fn begin(&mut self, sock: &&S) -> Step<Self::Output> {
        if let Err(e) = check_sock(sock.as_raw_fd()) {
            return Step::Done(Err(e));
        }
        self.buf = Vec::with_capacity(self.n);
        self.attempt(sock.as_raw_fd())
    }

    fn resume(&mut self, sock: &&S, _: Future<()>, waited: Result<()>) -> Step<Self::Output> {
        match end_wait(&self.wait, waited) {
            Ok(()) => self.attempt(sock.as_raw_fd()),
            Err(e) => Step::Done(Err(e)),
        }
    }
}

/// `sock_recvfrom_into` as a [`WaitOp`].
pub(crate) struct RecvfromInto<'b> {
    buf: &'b mut [u8],
    wait: Option<Wait>,
}

impl RecvfromInto<'_> {
    fn attempt(&mut self, fd: RawFd) -> Step<(usize, SocketAddr)> {
        // SAFETY: as in `sock_recvfrom_into`.
        let uninit = unsafe { &mut *(&mut *self.buf as *mut [u8] as *mut [MaybeUninit<u8>]) };
        match try_recvfrom(fd, uninit) {
            Some(r) => Step::Done(r),
            None => wait_step(&mut self.wait, fd, true),
        }
    }
}

impl<S: AsRawFd + ?Sized> WaitOp<&S> for RecvfromInto<'_> {
    type Output = (usize, SocketAddr);

    fn begin(&mut self, sock: &&S) -> Step<Self::Output> {
        if let Err(e) = check_sock(sock.as_raw_fd()) {
            return Step::Done(Err(e));
        }
        self.attempt(sock.as_raw_fd())
    }

    fn resume(&mut self, sock: &&S, _: Future<()>, waited: Result<()>) -> Step<Self::Output> {
        match end_wait(&self.wait, waited) {
            Ok(()) => self.attempt(sock.as_raw_fd()),
            Err(e) => Step::Done(Err(e)),
        }
    }
}

/// `sock_sendall` as a [`WaitOp`].
pub(crate) struct Sendall<'d> {
    data: &'d [u8],
    sent: usize,
    wait: Option<Wait>,
}

impl Sendall<'_> {
    fn attempt(&mut self, fd: RawFd) -> Step<()> {
        match send_some(fd, self.data, &mut self.sent) {
            Ok(true) => Step::Done(Ok(())),
            Ok(false) => wait_step(&mut self.wait, fd, false),
            Err(e) => Step::Done(Err(e)),
        }
    }
}

impl<S: AsRawFd + ?Sized> WaitOp<&S> for Sendall<'_> {
    type Output = ();

    fn begin(&mut self, sock: &&S) -> Step<()> {
        if let Err(e) = check_sock(sock.as_raw_fd()) {
            return Step::Done(Err(e));
        }
        self.attempt(sock.as_raw_fd())
    }

    fn resume(&mut self, sock: &&S, _: Future<()>, waited: Result<()>) -> Step<()> {
        match end_wait(&self.wait, waited) {
            Ok(()) => self.attempt(sock.as_raw_fd()),
            Err(e) => Step::Done(Err(e)),
        }
    }
}

/// `sock_sendto` as a [`WaitOp`].
pub(crate) struct Sendto<'d> {
    data: &'d [u8],
    addr: SocketAddr,
    wait: Option<Wait>,
}

impl Sendto<'_> {
    fn attempt(&mut self, fd: RawFd) -> Step<usize> {
        match try_sendto(fd, self.data, &self.addr) {
            Some(r) => Step::Done(r),
            None => wait_step(&mut self.wait, fd, false),
        }
    }
}

impl<S: AsRawFd + ?Sized> WaitOp<&S> for Sendto<'_> {
    type Output = usize;

    fn begin(&mut self, sock: &&S) -> Step<usize> {
        if let Err(e) = check_sock(sock.as_raw_fd()) {
            return Step::Done(Err(e));
        }
        self.attempt(sock.as_raw_fd())
    }

    fn resume(&mut self, sock: &&S, _: Future<()>, waited: Result<()>) -> Step<usize> {
        match end_wait(&self.wait, waited) {
            Ok(()) => self.attempt(sock.as_raw_fd()),
            Err(e) => Step::Done(Err(e)),
        }
    }
}

/// `sock_connect` as a [`WaitOp`]; it owns the socket it makes.
pub(crate) struct Connect {
    addr: SocketAddr,
    // Before `sock`: the writer is removed while the fd is still open.
    wait: Option<Wait>,
    sock: Option<TcpStream>,
}

impl Connect {
    fn wait_step(&mut self) -> Step<TcpStream> {
        match self.wait.as_mut().expect("made in begin").arm() {
            Ok(fut) => Step::Wait(fut, WaitKind::Wait),
            Err(e) => Step::Done(Err(e)),
        }
    }
}

impl WaitOp<()> for Connect {
    type Output = TcpStream;

    fn begin(&mut self, _: &()) -> Step<TcpStream> {
        let sock = match connect_start(&self.addr) {
            Ok(Ok(sock)) => return Step::Done(Ok(sock)),
            Ok(Err(sock)) => sock,
            Err(e) => return Step::Done(Err(e)),
        };
        match get_running_loop() {
            Ok(lp) => self.wait = Some(Wait::new(lp, sock.as_raw_fd(), false)),
            Err(e) => return Step::Done(Err(e)),
        }
        self.sock = Some(sock);
        self.wait_step()
    }

    fn resume(&mut self, _: &(), _: Future<()>, waited: Result<()>) -> Step<TcpStream> {
        if let Err(e) = end_wait(&self.wait, waited) {
            return Step::Done(Err(e));
        }
        match connect_done(self.sock.as_ref().expect("made in begin"), &self.addr) {
            Ok(true) => Step::Done(Ok(self.sock.take().expect("made in begin"))),
            Ok(false) => self.wait_step(),
            Err(e) => Step::Done(Err(e)),
        }
    }
}

/// `sock_accept` as a [`WaitOp`].
#[derive(Default)]
pub(crate) struct Accept {
    wait: Option<Wait>,
}

impl Accept {
    fn attempt<L: Listener + ?Sized>(&mut self, listener: &L) -> Step<(L::Stream, L::Addr)> {
        match try_accept(listener) {
            Some(r) => Step::Done(r),
            None => wait_step(&mut self.wait, listener.as_raw_fd(), true),
        }
    }
}

impl<L: Listener + ?Sized> WaitOp<&L> for Accept {
    type Output = (L::Stream, L::Addr);

    fn begin(&mut self, listener: &&L) -> Step<Self::Output> {
        // Always, not only in debug mode: a blocking accept would stall the loop.
        if let Err(e) = require_nonblocking(listener.as_raw_fd()) {
            return Step::Done(Err(e));
        }
        self.attempt(*listener)
    }

    fn resume(&mut self, listener: &&L, _: Future<()>, waited: Result<()>) -> Step<Self::Output> {
        match end_wait(&self.wait, waited) {
            Ok(()) => self.attempt(*listener),
            Err(e) => Step::Done(Err(e)),
        }
    }
}

stackless_wait!(
    /// What [`stackless::sock_recv`](crate::stackless::sock_recv) returns: `await loop.sock_recv(sock, n)` for
    /// [`yield_from!`](crate::yield_from).
    SockRecv ['a, S: AsRawFd + ?Sized] ['a, S] (&'a S, Recv) -> Vec<u8>
);

stackless_wait!(
    /// What [`stackless::sock_recv_into`](crate::stackless::sock_recv_into) returns: `await loop.sock_recv_into(sock, buf)`.
    SockRecvInto ['a, 'b, S: AsRawFd + ?Sized] ['a, 'b, S] (&'a S, RecvInto<'b>) -> usize
);

stackless_wait!(
    /// What [`stackless::sock_recvfrom`](crate::stackless::sock_recvfrom) returns: `await loop.sock_recvfrom(sock, n)`.
    SockRecvfrom ['a, S: AsRawFd + ?Sized] ['a, S] (&'a S, Recvfrom) -> (Vec<u8>, SocketAddr)
);

stackless_wait!(
    /// What [`stackless::sock_recvfrom_into`](crate::stackless::sock_recvfrom_into)
    /// returns: `await loop.sock_recvfrom_into(sock, buf)`.
    SockRecvfromInto ['a, 'b, S: AsRawFd + ?Sized] ['a, 'b, S] (&'a S, RecvfromInto<'b>) -> (usize, SocketAddr)
);

stackless_wait!(
    /// What [`stackless::sock_sendall`](crate::stackless::sock_sendall) returns: `await loop.sock_sendall(sock, data)`.
    SockSendall ['a, 'd, S: AsRawFd + ?Sized] ['a, 'd, S] (&'a S, Sendall<'d>) -> ()
);

stackless_wait!(
    /// What [`stackless::sock_sendto`](crate::stackless::sock_sendto) returns: `await loop.sock_sendto(sock, data, addr)`.
    SockSendto ['a, 'd, S: AsRawFd + ?Sized] ['a, 'd, S] (&'a S, Sendto<'d>) -> usize
);

stackless_wait!(
    /// What [`stackless::sock_connect`](crate::stackless::sock_connect) returns: `await loop.sock_connect(sock, addr)`,
    /// evaluating to the connected socket.
    SockConnect [] [] ((), Connect) -> TcpStream
);

stackless_wait!(
    /// What [`stackless::sock_accept`](crate::stackless::sock_accept) returns: `await loop.sock_accept(listener)`.
    SockAccept ['a, L: Listener + ?Sized] ['a, L] (&'a L, Accept) -> (L::Stream, L::Addr)
);

/// [`sock_recv`](crate::sock_recv) for a stackless body:
/// `yield_from!(stackless::sock_recv(&sock, n))?`.
/// The same code, errors and fd handling (a cancelled call removes its reader), holding
/// no stack while it waits. It borrows `sock` until it ends: hold the socket in a
/// `static` coroutine (or a variable outliving it) across the wait.
///
/// ```
/// #![feature(coroutines)]
/// # fn main() -> anyhow::Result<()> {
/// use std::io::Write;
/// use std::os::unix::net::UnixStream;
/// use tulip::{get_running_loop, stackless, yield_from};
///
/// let got = stackless::run(
///     #[coroutine]
///     static |_| {
///         let (a, b) = UnixStream::pair()?;
///         get_running_loop()?.call_soon(move || {
///             let _ = (&b).write_all(b"hello");
///         })?;
///         yield_from!(stackless::sock_recv(&a, 100)) // waits for the data
///     },
/// )?;
/// assert_eq!(got, b"hello");
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// As [`sock_recv`](crate::sock_recv).
#[track_caller]
pub fn sock_recv<S: AsRawFd + ?Sized>(sock: &S, n: usize) -> SockRecv<'_, S> {
    let op = Recv {
        n,
        buf: Vec::new(),
        wait: None,
    };
    SockRecv(Waiting::new(sock, op, Location::caller()))
}

/// [`sock_recv_into`](crate::sock_recv_into) for a stackless body; borrows `sock` and `buf` until it ends.
///
/// # Errors
///
/// As [`sock_recv_into`](crate::sock_recv_into).
#[track_caller]
pub fn sock_recv_into<'a, 'b, S: AsRawFd + ?Sized>(
    sock: &'a S,
    buf: &'b mut [u8],
) -> SockRecvInto<'a, 'b, S> {
    let op = RecvInto { buf, wait: None };
    SockRecvInto(Waiting::new(sock, op, Location::caller()))
}

/// [`sock_recvfrom`](crate::sock_recvfrom) for a stackless body; borrows `sock` until it ends.
///
/// # Errors
///
/// As [`sock_recvfrom`](crate::sock_recvfrom).
#[track_caller]
pub fn sock_recvfrom<S: AsRawFd + ?Sized>(sock: &S, n: usize) -> SockRecvfrom<'_, S> {
    let op = Recvfrom {
        n,
        buf: Vec::new(),
        wait: None,
    };
    SockRecvfrom(Waiting::new(sock, op, Location::caller()))
}

/// [`sock_recvfrom_into`](crate::sock_recvfrom_into) for a stackless body; borrows
/// `sock` and `buf` until it ends.
///
/// # Errors
///
/// As [`sock_recvfrom`](crate::sock_recvfrom).
#[track_caller]
pub fn sock_recvfrom_into<'a, 'b, S: AsRawFd + ?Sized>(
    sock: &'a S,
    buf: &'b mut [u8],
) -> SockRecvfromInto<'a, 'b, S> {
    let op = RecvfromInto { buf, wait: None };
    SockRecvfromInto(Waiting::new(sock, op, Location::caller()))
}

/// [`sock_sendall`](crate::sock_sendall) for a stackless body; borrows `sock` and `data` until it ends. If
/// cancelled, some of `data` may have been sent.
///
/// # Errors
///
/// As [`sock_sendall`](crate::sock_sendall).
#[track_caller]
pub fn sock_sendall<'a, 'd, S: AsRawFd + ?Sized>(
    sock: &'a S,
    data: &'d [u8],
) -> SockSendall<'a, 'd, S> {
    let op = Sendall {
        data,
        sent: 0,
        wait: None,
    };
    SockSendall(Waiting::new(sock, op, Location::caller()))
}

/// [`sock_sendto`](crate::sock_sendto) for a stackless body; borrows `sock` and `data` until it ends.
///
/// # Errors
///
/// As [`sock_sendto`](crate::sock_sendto).
#[track_caller]
pub fn sock_sendto<'a, 'd, S: AsRawFd + ?Sized>(
    sock: &'a S,
    data: &'d [u8],
    addr: SocketAddr,
) -> SockSendto<'a, 'd, S> {
    let op = Sendto {
        data,
        addr,
        wait: None,
    };
    SockSendto(Waiting::new(sock, op, Location::caller()))
}

/// [`sock_connect`](crate::sock_connect) for a stackless body. It owns the socket it makes until it returns
/// it connected; cancelled, it closes it.
///
/// # Errors
///
/// As [`sock_connect`](crate::sock_connect).
#[track_caller]
pub fn sock_connect(addr: SocketAddr) -> SockConnect {
    let op = Connect {
        addr,
        wait: None,
        sock: None,
    };
    SockConnect(Waiting::new((), op, Location::caller()))
}

/// [`sock_accept`](crate::sock_accept) for a stackless body; borrows `listener` until it ends.
///
/// # Errors
///
/// As [`sock_accept`](crate::sock_accept).
#[track_caller]
pub fn sock_accept<L: Listener + ?Sized>(listener: &L) -> SockAccept<'_, L> {
    SockAccept(Waiting::new(
        listener,
        Accept::default(),
        Location::caller(),
    ))
}
