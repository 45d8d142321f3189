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
// File descriptors
// ---------------------------------------------------------------------------------------

/// Whether `fd` is in non-blocking mode (`O_NONBLOCK` in its file status flags).
pub(crate) fn is_nonblocking(fd: RawFd) -> io::Result<bool> {
    // SAFETY: fcntl(F_GETFL) takes no pointer; a bad fd is an error (EBADF), not UB.
    let flags = cvt(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    Ok(flags & libc::O_NONBLOCK != 0)
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
    let family = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: socket takes no pointer.
    let fd = cvt(unsafe {
        libc::socket(
            family,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    })?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_the_last_os_error() {
        assert_eq!(cvt(0i32).unwrap(), 0);
        assert_eq!(cvt(5isize).unwrap(), 5);
        assert_eq!(
            is_nonblocking(-1).unwrap_err().raw_os_error(),
            Some(libc::EBADF)
        );
    }
}
