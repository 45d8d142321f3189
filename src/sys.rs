//! The system calls (layer 0): one place for the libc FFI of the loop's sockets, pipes,
//! subprocesses and signals, as thin safe wrappers.
//!
//! Why a module: the crate's `unsafe` FFI lives in three places only, each owning its own
//! part. The selector owns the fds the loop polls (through mio), the generator owns its
//! stacks (mmap, guard pages, the overflow handler); everything else that talks to the
//! kernel is here, so that each `unsafe` block and its `// SAFETY:` argument sits next to the
//! call it is about, the failure convention is written once ([`cvt`]: a negative return is
//! `io::Error::last_os_error()`), and the callers (`net/`, `os/`) are safe code that decides
//! what an errno means (`EAGAIN` waits, `EINTR` retries, `EPIPE` is `BrokenPipeError`).
//!
//! The wrappers are thin: one syscall each (two for the `fcntl` read-modify-write), no
//! retry on `EINTR` unless every caller would retry (none does here: the callers differ in
//! what an interrupted call means), no allocation. The `recv` and `send` of the transport
//! and of the `sock_*` calls are `#[inline]`, so the hot paths cost what the bare syscall
//! does.
//!
//! File descriptors are passed as [`RawFd`], as the rest of the crate keeps them: the
//! wrappers are memory-safe for any fd number, and using an fd the caller does not own is the
//! caller's mistake (I/O safety), as it was before. An fd this module makes is returned as an
//! [`OwnedFd`], so it is closed on drop and never leaks.

use std::io;
use std::mem::{self, MaybeUninit};
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use libc::c_int;

/// A syscall's return type, whose negative values mean failure (with the reason in `errno`).
trait SysRet: Copy {
    fn failed(self) -> bool;
}

macro_rules! sys_ret {
    ($($t:ty),*) => {
        $(impl SysRet for $t {
            #[inline]
            fn failed(self) -> bool {
                self < 0
            }
        })*
    };
}

sys_ret!(i32, i64, isize);

/// A syscall's result: `Err(last_os_error())` when it returned a negative value (std's
/// internal `cvt`). Must be called right after the syscall, before anything else can
/// overwrite `errno`.
#[inline]
fn cvt<T: SysRet>(r: T) -> io::Result<T> {
    if r.failed() {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

// ---------------------------------------------------------------------------------------
// File descriptors and pipes
// ---------------------------------------------------------------------------------------

/// `CLOCK_MONOTONIC` in seconds: Python's `time.monotonic()`.
pub(crate) fn monotonic_secs() -> f64 {
    let mut ts = MaybeUninit::<libc::timespec>::uninit();
    // SAFETY: `ts` is valid for a write of a timespec; CLOCK_MONOTONIC always exists.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, ts.as_mut_ptr()) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_MONOTONIC)");
    // SAFETY: initialised by the successful call.
    let ts = unsafe { ts.assume_init() };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// Whether `fd` is in non-blocking mode (`O_NONBLOCK` in its file status flags).
pub(crate) fn is_nonblocking(fd: RawFd) -> io::Result<bool> {
    // SAFETY: fcntl(F_GETFL) takes no pointer; a bad fd is an error (EBADF), not UB.
    let flags = cvt(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    Ok(flags & libc::O_NONBLOCK != 0)
}

/// Puts `fd` in non-blocking mode, keeping its other file status flags.
pub(crate) fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl with integer arguments only.
    let flags = cvt(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    // SAFETY: as above.
    cvt(unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
    Ok(())
}

/// One `read(2)` into `buf`: how many bytes, 0 at end of file. `EINTR` and `EAGAIN` are
/// returned as errors, for the caller to decide.
#[inline]
pub(crate) fn read(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes; the kernel writes at most that.
    let n = cvt(unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) })?;
    Ok(n as usize)
}

/// One `write(2)` from `buf`: how many bytes were written. `EINTR` and `EAGAIN` are returned
/// as errors, for the caller to decide.
#[inline]
pub(crate) fn write(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes.
    let n = cvt(unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) })?;
    Ok(n as usize)
}

/// A new pipe, both ends non-blocking and close-on-exec: `(read end, write end)`.
pub(crate) fn pipe_cloexec_nonblocking() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds: [c_int; 2] = [-1; 2];
    // SAFETY: pipe2 writes two fds into the array, which has room for two.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) })?;
    // SAFETY: on success both are fresh fds that nobody else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

// ---------------------------------------------------------------------------------------
// Sockets
// ---------------------------------------------------------------------------------------

/// One `recv` that never blocks (`MSG_DONTWAIT`, whatever the socket's mode): how many bytes
/// were written to the front of `buf` (initialised from then on), 0 when the peer closed.
#[inline]
pub(crate) fn recv_nonblocking(fd: RawFd, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`; uninitialised memory is
    // fine to write into, and the caller only reads the `n` bytes reported written.
    let n = cvt(unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) })?;
    Ok(n as usize)
}

/// One `send` that never blocks (`MSG_DONTWAIT`) and never raises `SIGPIPE`
/// (`MSG_NOSIGNAL`: a peer that went away is `EPIPE`): how many bytes were sent.
#[inline]
pub(crate) fn send_nonblocking(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes.
    let n = cvt(unsafe {
        libc::send(
            fd,
            buf.as_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        )
    })?;
    Ok(n as usize)
}

/// A new non-blocking, close-on-exec TCP socket of `addr`'s family (IPv4 or IPv6).
pub(crate) fn tcp_socket(addr: &SocketAddr) -> io::Result<OwnedFd> {
    inet_socket(addr, libc::SOCK_STREAM)
}

/// A new non-blocking, close-on-exec socket of type `ty` and of `addr`'s family.
fn inet_socket(addr: &SocketAddr, ty: libc::c_int) -> io::Result<OwnedFd> {
    let family = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: socket takes no pointer.
    let fd =
        cvt(unsafe { libc::socket(family, ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: on success `fd` is a fresh socket nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `setsockopt(fd, level, name, &value, sizeof(int))`, for the options whose value is an
/// `int` (`SO_REUSEADDR`, `IPV6_V6ONLY`, ...).
pub(crate) fn set_int_option(fd: RawFd, level: c_int, name: c_int, value: c_int) -> io::Result<()> {
    // SAFETY: `value` is a valid c_int for the call's duration, and the length given is its
    // size.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const c_int).cast(),
            mem::size_of::<c_int>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// Binds `fd` to `addr`.
pub(crate) fn bind(fd: RawFd, addr: &SocketAddr) -> io::Result<()> {
    let (storage, len) = c_addr(addr);
    // SAFETY: `storage` holds a valid address of `len` bytes.
    cvt(unsafe { libc::bind(fd, (&storage as *const libc::sockaddr_storage).cast(), len) })?;
    Ok(())
}

/// Makes `fd` a listening socket. `listen(2)` takes an `int`: a larger `backlog` is
/// `INT_MAX` (the kernel caps it at `somaxconn` anyway).
pub(crate) fn listen(fd: RawFd, backlog: u32) -> io::Result<()> {
    let backlog = backlog.min(i32::MAX as u32) as c_int;
    // SAFETY: listen takes no pointer.
    cvt(unsafe { libc::listen(fd, backlog) })?;
    Ok(())
}

/// One `connect(2)` of `fd` to `addr`. On a non-blocking socket `EINPROGRESS` means the
/// connection goes on in the background; like `EINTR`, it is returned as an error, for the
/// caller to decide.
pub(crate) fn connect(fd: RawFd, addr: &SocketAddr) -> io::Result<()> {
    let (storage, len) = c_addr(addr);
    // SAFETY: `storage` holds a valid address of `len` bytes.
    cvt(unsafe { libc::connect(fd, (&storage as *const libc::sockaddr_storage).cast(), len) })?;
    Ok(())
}

/// A new non-blocking, close-on-exec UDP socket of `addr`'s family (IPv4 or IPv6).
pub(crate) fn udp_socket(addr: &SocketAddr) -> io::Result<OwnedFd> {
    inet_socket(addr, libc::SOCK_DGRAM)
}

/// One `sendto` that never blocks (`MSG_DONTWAIT`, `MSG_NOSIGNAL`): a datagram to `addr`,
/// or to the connected peer with `None` (`send`). How many bytes were sent.
#[inline]
pub(crate) fn sendto_nonblocking(
    fd: RawFd,
    buf: &[u8],
    addr: Option<&SocketAddr>,
) -> io::Result<usize> {
    let flags = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
    let n = match addr {
        None => {
            // SAFETY: `buf` is valid for reads of `buf.len()` bytes.
            cvt(unsafe { libc::send(fd, buf.as_ptr().cast(), buf.len(), flags) })?
        }
        Some(addr) => {
            let (storage, len) = c_addr(addr);
            // SAFETY: `buf` is valid for reads of `buf.len()` bytes, `storage` holds a valid
            // address of `len` bytes.
            cvt(unsafe {
                libc::sendto(
                    fd,
                    buf.as_ptr().cast(),
                    buf.len(),
                    flags,
                    (&storage as *const libc::sockaddr_storage).cast(),
                    len,
                )
            })?
        }
    };
    Ok(n as usize)
}

/// One `recvfrom` that never blocks (`MSG_DONTWAIT`): the datagram's first bytes go to the
/// front of `buf` (initialised from then on) and the sender's address comes back (`None` for
/// a family other than IPv4/IPv6). With `trunc` (`MSG_TRUNC`) the length returned is the
/// datagram's whole length, which may exceed `buf.len()`; without, it is what was written.
#[inline]
pub(crate) fn recvfrom_nonblocking(
    fd: RawFd,
    buf: &mut [MaybeUninit<u8>],
    trunc: bool,
) -> io::Result<(usize, Option<SocketAddr>)> {
    // SAFETY: all-zero is a valid `sockaddr_storage`.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let mut len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let flags = libc::MSG_DONTWAIT | if trunc { libc::MSG_TRUNC } else { 0 };
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf` and at most `len` bytes
    // into `storage`, whose size `len` is.
    let n = cvt(unsafe {
        libc::recvfrom(
            fd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            flags,
            (&mut storage as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    })?;
    Ok((n as usize, std_addr(&storage, len)))
}

/// The IP address in a C socket address (`None` for another family).
pub(crate) fn std_addr(
    storage: &libc::sockaddr_storage,
    len: libc::socklen_t,
) -> Option<SocketAddr> {
    let len = len as usize;
    match storage.ss_family as c_int {
        libc::AF_INET if len >= mem::size_of::<libc::sockaddr_in>() => {
            // SAFETY: the family says it is a `sockaddr_in`, and `sockaddr_storage` is large
            // enough and aligned for one.
            let sin: &libc::sockaddr_in =
                unsafe { &*(storage as *const libc::sockaddr_storage).cast() };
            let ip = std::net::Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes());
            Some(SocketAddr::from((ip, u16::from_be(sin.sin_port))))
        }
        libc::AF_INET6 if len >= mem::size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for a `sockaddr_in6`.
            let sin6: &libc::sockaddr_in6 =
                unsafe { &*(storage as *const libc::sockaddr_storage).cast() };
            let ip = std::net::Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            Some(SocketAddr::V6(std::net::SocketAddrV6::new(
                ip,
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// The local address `fd` is bound to (`getsockname`).
pub(crate) fn local_addr(fd: RawFd) -> io::Result<Option<SocketAddr>> {
    // SAFETY: all-zero is a valid `sockaddr_storage`.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let mut len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `storage`.
    cvt(unsafe {
        libc::getsockname(
            fd,
            (&mut storage as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    })?;
    Ok(std_addr(&storage, len))
}

/// The peer `fd` is connected to (`getpeername`); `ENOTCONN` when it is not connected.
pub(crate) fn peer_addr(fd: RawFd) -> io::Result<Option<SocketAddr>> {
    // SAFETY: all-zero is a valid `sockaddr_storage`.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let mut len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `storage`.
    cvt(unsafe {
        libc::getpeername(
            fd,
            (&mut storage as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    })?;
    Ok(std_addr(&storage, len))
}

/// One entry of `getaddrinfo`'s answer: `(family, type, proto, canonname, address)`.
pub(crate) struct RawAddrInfo {
    pub family: c_int,
    pub socktype: c_int,
    pub protocol: c_int,
    pub canonname: String,
    pub addr: SocketAddr,
}

/// The C library's `getaddrinfo` (blocking: it may ask DNS). `host`/`port` `None` are C's
/// null. An error is the `EAI_*` code (negative on glibc) and `gai_strerror`'s text; for
/// `EAI_SYSTEM`, the errno's `io::Error` instead.
pub(crate) fn getaddrinfo(
    host: Option<&str>,
    port: Option<&str>,
    family: c_int,
    socktype: c_int,
    protocol: c_int,
    flags: c_int,
) -> Result<Vec<RawAddrInfo>, GaiError> {
    use std::ffi::{CStr, CString};
    let host = host
        .map(CString::new)
        .transpose()
        .map_err(|_| GaiError::Code(libc::EAI_NONAME, "embedded null byte".into()))?;
    let port = port
        .map(CString::new)
        .transpose()
        .map_err(|_| GaiError::Code(libc::EAI_NONAME, "embedded null byte".into()))?;
    // SAFETY: all-zero is a valid `addrinfo` hints value (null pointers, zero fields).
    let mut hints: libc::addrinfo = unsafe { mem::zeroed() };
    hints.ai_family = family;
    hints.ai_socktype = socktype;
    hints.ai_protocol = protocol;
    hints.ai_flags = flags;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: the strings are NUL-terminated and live across the call, `hints` is valid,
    // and `res` receives a list we free below.
    let rc = unsafe {
        libc::getaddrinfo(
            host.as_ref().map_or(std::ptr::null(), |h| h.as_ptr()),
            port.as_ref().map_or(std::ptr::null(), |p| p.as_ptr()),
            &hints,
            &mut res,
        )
    };
    if rc != 0 {
        if rc == libc::EAI_SYSTEM {
            return Err(GaiError::System(io::Error::last_os_error()));
        }
        // SAFETY: gai_strerror returns a static NUL-terminated string for any code.
        let text = unsafe { CStr::from_ptr(libc::gai_strerror(rc)) };
        return Err(GaiError::Code(rc, text.to_string_lossy().into_owned()));
    }
    let mut out = Vec::new();
    let mut p = res;
    while !p.is_null() {
        // SAFETY: `p` is a node of the list getaddrinfo returned, not freed yet.
        let ai = unsafe { &*p };
        let addr = if ai.ai_addr.is_null() {
            None
        } else {
            // SAFETY: all-zero is a valid `sockaddr_storage`; `ai_addr` points to
            // `ai_addrlen` valid bytes, at most the size of `sockaddr_storage` for the
            // families kept.
            let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
            let len = (ai.ai_addrlen as usize).min(mem::size_of::<libc::sockaddr_storage>());
            // SAFETY: see above; the regions do not overlap.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    ai.ai_addr.cast::<u8>(),
                    (&mut storage as *mut libc::sockaddr_storage).cast::<u8>(),
                    len,
                )
            };
            std_addr(&storage, len as libc::socklen_t)
        };
        if let Some(addr) = addr {
            let canonname = if ai.ai_canonname.is_null() {
                String::new()
            } else {
                // SAFETY: a non-null canonname is a NUL-terminated string of the list.
                unsafe { CStr::from_ptr(ai.ai_canonname) }
                    .to_string_lossy()
                    .into_owned()
            };
            out.push(RawAddrInfo {
                family: ai.ai_family,
                socktype: ai.ai_socktype,
                protocol: ai.ai_protocol,
                canonname,
                addr,
            });
        }
        p = ai.ai_next;
    }
    // SAFETY: `res` is the list getaddrinfo returned, freed once, after the last use.
    unsafe { libc::freeaddrinfo(res) };
    Ok(out)
}

/// Why `getaddrinfo` failed.
#[derive(Debug)]
pub(crate) enum GaiError {
    /// An `EAI_*` code and its text.
    Code(c_int, String),
    /// `EAI_SYSTEM`: the errno.
    System(io::Error),
}

/// Shuts down the sending side of `fd` (`SHUT_WR`): the peer reads EOF.
pub(crate) fn shutdown_write(fd: RawFd) -> io::Result<()> {
    // SAFETY: shutdown takes no pointer.
    cvt(unsafe { libc::shutdown(fd, libc::SHUT_WR) })?;
    Ok(())
}

/// A C socket address for `addr`, and its length.
fn c_addr(addr: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero is a valid `sockaddr_storage`, and it is large enough and aligned
    // for both `sockaddr_in` and `sockaddr_in6`.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from_ne_bytes(a.ip().octets()),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: see above.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin) };
            mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: a.scope_id(),
            };
            // SAFETY: see above.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin6) };
            mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

// ---------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------

/// A pidfd for the process `pid` (Linux 5.3+): readable once the process exits, and a
/// handle to signal it that never hits a recycled pid. Close-on-exec.
pub(crate) fn pidfd_open(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: a plain syscall with integer arguments.
    let fd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) })?;
    // SAFETY: on success the fd was just returned to us and nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Sends `sig` to the process of `pidfd`. `ESRCH` once it has exited, `EINVAL` for an
/// invalid signal number.
pub(crate) fn pidfd_send_signal(pidfd: RawFd, sig: c_int) -> io::Result<()> {
    // SAFETY: a plain syscall; the info pointer may be null (then it is as kill(2) sends).
    cvt(unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd,
            sig,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    })?;
    Ok(())
}

/// Reaps the child `pid`: its returncode as Python's (the exit status, or `-signal` if a
/// signal killed it). With `nohang` (`WNOHANG`), `None` if it is still running; without, it
/// blocks until the child exits. `EINTR` is returned as an error.
pub(crate) fn waitpid(pid: u32, nohang: bool) -> io::Result<Option<i32>> {
    let mut status: c_int = 0;
    let options = if nohang { libc::WNOHANG } else { 0 };
    // SAFETY: waitpid writes the status to a local.
    let r = cvt(unsafe { libc::waitpid(pid as libc::pid_t, &mut status, options) })?;
    if r == 0 {
        return Ok(None);
    }
    Ok(Some(if libc::WIFSIGNALED(status) {
        -libc::WTERMSIG(status)
    } else {
        libc::WEXITSTATUS(status)
    }))
}

/// Blocks until the child `pid` has exited, without reaping it (`waitid` with `WNOWAIT`): the
/// pid stays the child's, so a signal sent before the reap cannot hit a recycled pid. `EINTR`
/// is returned as an error.
pub(crate) fn wait_exited_nowait(pid: u32) -> io::Result<()> {
    // SAFETY: all-zero is a valid `siginfo_t`, which waitid fills in.
    let mut info: libc::siginfo_t = unsafe { mem::zeroed() };
    // SAFETY: waitid writes to the local `info`.
    cvt(unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOWAIT,
        )
    })?;
    Ok(())
}

/// `kill(pid, sig)`. The caller makes sure `pid` is still its unreaped child.
pub(crate) fn kill(pid: u32, sig: c_int) -> io::Result<()> {
    // SAFETY: kill takes no pointer.
    cvt(unsafe { libc::kill(pid as libc::pid_t, sig) })?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Signals
// ---------------------------------------------------------------------------------------

/// The real-time signals this C library leaves to programs (`SIGRTMIN..=SIGRTMAX`; glibc
/// keeps the first two for itself).
pub(crate) fn realtime_signals() -> RangeInclusive<c_int> {
    libc::SIGRTMIN()..=libc::SIGRTMAX()
}

/// Sets the process-wide disposition of `sig`: `handler` (`None`: `SIG_DFL`, the default),
/// with an empty mask and `SA_RESTART` (Python's `siginterrupt(sig, False)`: interrupted
/// syscalls are restarted). `EINVAL` for a signal that cannot be caught (`SIGKILL`,
/// `SIGSTOP`) or an invalid number.
///
/// The handler runs on whichever thread the signal interrupts, at any point: it may only
/// make async-signal-safe calls (see [`write_byte_in_signal_handler`]).
pub(crate) fn set_disposition(sig: c_int, handler: Option<extern "C" fn(c_int)>) -> io::Result<()> {
    let handler = match handler {
        Some(f) => f as libc::sighandler_t,
        None => libc::SIG_DFL,
    };
    // SAFETY: a zeroed sigaction is valid; we set the handler (SIG_DFL or an `extern "C"`
    // function of the one-argument signature, as SA_SIGINFO is not set), the flags and an
    // empty mask, and pass no pointer for the old action.
    unsafe {
        let mut sa: libc::sigaction = mem::zeroed();
        sa.sa_sigaction = handler;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        cvt(libc::sigaction(sig, &sa, std::ptr::null_mut()))?;
    }
    Ok(())
}

/// Whether `sig`'s disposition is the default (`SIG_DFL`): nobody else handles it.
pub(crate) fn has_default_disposition(sig: c_int) -> io::Result<bool> {
    // SAFETY: a zeroed sigaction is a valid out-parameter; no new action is set.
    unsafe {
        let mut old: libc::sigaction = mem::zeroed();
        cvt(libc::sigaction(sig, std::ptr::null(), &mut old))?;
        Ok(old.sa_sigaction == libc::SIG_DFL)
    }
}

/// Whether this is the process's main thread (its thread id is the process id).
pub(crate) fn is_main_thread() -> bool {
    // SAFETY: both calls take no argument and cannot fail.
    unsafe { libc::gettid() == libc::getpid() }
}

/// Writes `byte` to `fd`, for a signal handler: async-signal-safe (one `write(2)`, no
/// allocation, no lock), and `errno` is saved and restored, since the interrupted code may
/// be about to read it. The result is ignored: a full non-blocking pipe drops the byte
/// (`EAGAIN`), which is what a self-pipe wants (the reader is awake anyway).
#[inline]
pub(crate) fn write_byte_in_signal_handler(fd: RawFd, byte: u8) {
    // SAFETY: __errno_location returns this thread's errno slot, valid for the thread's life;
    // write is async-signal-safe and gets a pointer to a local byte and the length 1.
    unsafe {
        let errno = libc::__errno_location();
        let saved = *errno;
        libc::write(fd, (&byte as *const u8).cast(), 1);
        *errno = saved;
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;

    use super::*;

    #[test]
    fn failures_are_the_last_os_error() {
        assert_eq!(cvt(0i32).unwrap(), 0);
        assert_eq!(cvt(5isize).unwrap(), 5);
        let e = read(-1, &mut [0; 1]).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EBADF));
        assert_eq!(
            is_nonblocking(-1).unwrap_err().raw_os_error(),
            Some(libc::EBADF)
        );
    }

    #[test]
    fn pipe_round_trip() {
        let (r, w) = pipe_cloexec_nonblocking().unwrap();
        assert!(is_nonblocking(r.as_raw_fd()).unwrap());
        assert_eq!(write(w.as_raw_fd(), b"ab").unwrap(), 2);
        write_byte_in_signal_handler(w.as_raw_fd(), b'c');
        let mut buf = [0; 8];
        assert_eq!(read(r.as_raw_fd(), &mut buf).unwrap(), 3);
        assert_eq!(&buf[..3], b"abc");
        let e = read(r.as_raw_fd(), &mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        drop(w);
        assert_eq!(read(r.as_raw_fd(), &mut buf).unwrap(), 0);
    }

    #[test]
    fn set_nonblocking_keeps_the_mode() {
        let (r, w) = std::io::pipe().unwrap();
        assert!(!is_nonblocking(r.as_raw_fd()).unwrap());
        set_nonblocking(r.as_raw_fd()).unwrap();
        assert!(is_nonblocking(r.as_raw_fd()).unwrap());
        assert!(!is_nonblocking(w.as_raw_fd()).unwrap());
    }

    #[test]
    fn signal_handler_write_keeps_errno() {
        let (r, w) = pipe_cloexec_nonblocking().unwrap();
        // SAFETY: this thread's errno slot.
        unsafe { *libc::__errno_location() = libc::ENOENT };
        write_byte_in_signal_handler(w.as_raw_fd(), 1);
        write_byte_in_signal_handler(-1, 1); // fails with EBADF, which is not kept
        // SAFETY: as above.
        assert_eq!(unsafe { *libc::__errno_location() }, libc::ENOENT);
        drop(r);
    }
}
