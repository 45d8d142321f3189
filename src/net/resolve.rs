//! Host names off the loop (layer 8): asyncio's `loop.getaddrinfo`, run in the loop's default
//! executor, and its `_ensure_resolved` shortcut for numeric addresses.
//!
//! The C library's `getaddrinfo` blocks (it may ask a DNS server), so asyncio runs it in a
//! worker thread and the loop goes on meanwhile; so does [`getaddrinfo`]. The connection
//! calls ([`open_connection`](crate::open_connection), [`start_server`](crate::start_server),
//! [`create_datagram_endpoint`](crate::create_datagram_endpoint)) resolve through
//! [`ensure_resolved`], which, as asyncio's `_ipaddr_info`, answers at once for a numeric
//! address (`127.0.0.1`, `::1`) and touches no thread: only a real host name costs a trip to
//! the executor.

use std::net::{IpAddr, SocketAddr};

use anyhow::Result;

use crate::errors::OsError;
use crate::os::executor::to_thread;
use crate::sys::{self, GaiError};
use crate::tasks::TaskCo;

/// `socket.AF_INET`.
pub const AF_INET: i32 = libc::AF_INET;
/// `socket.AF_INET6`.
pub const AF_INET6: i32 = libc::AF_INET6;
/// `socket.AF_UNSPEC` (0): any family.
pub const AF_UNSPEC: i32 = libc::AF_UNSPEC;
/// `socket.SOCK_STREAM`.
pub const SOCK_STREAM: i32 = libc::SOCK_STREAM;
/// `socket.SOCK_DGRAM`.
pub const SOCK_DGRAM: i32 = libc::SOCK_DGRAM;
/// `socket.AI_PASSIVE`: addresses to bind to (the wildcard for an empty host).
pub const AI_PASSIVE: i32 = libc::AI_PASSIVE;
/// `socket.AI_CANONNAME`: fill in the first entry's `canonname`.
pub const AI_CANONNAME: i32 = libc::AI_CANONNAME;

/// The filters of [`getaddrinfo_with`]: asyncio's `family=`, `type=`, `proto=`, `flags=`
/// keywords, 0 meaning "any" (the default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddrInfoHints {
    /// `family=`: [`AF_INET`], [`AF_INET6`] or 0.
    pub family: i32,
    /// `type=`: [`SOCK_STREAM`], [`SOCK_DGRAM`] or 0.
    pub socktype: i32,
    /// `proto=`: `IPPROTO_TCP`, `IPPROTO_UDP` or 0.
    pub proto: i32,
    /// `flags=`: [`AI_PASSIVE`], [`AI_CANONNAME`], ...
    pub flags: i32,
}

/// One entry of `getaddrinfo`'s answer: Python's `(family, type, proto, canonname, sockaddr)`
/// tuple as a struct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrInfo {
    /// [`AF_INET`] or [`AF_INET6`] (entries of other families are left out).
    pub family: i32,
    /// [`SOCK_STREAM`], [`SOCK_DGRAM`], or `SOCK_RAW`.
    pub socktype: i32,
    /// `IPPROTO_TCP` (6), `IPPROTO_UDP` (17), ...
    pub proto: i32,
    /// The canonical name (only with [`AI_CANONNAME`], on the first entry; else empty).
    pub canonname: String,
    /// The address: `('127.0.0.1', 80)` in Python.
    pub addr: SocketAddr,
}

impl AddrInfo {
    /// The tuple as Python prints it:
    /// `(<AddressFamily.AF_INET: 2>, <SocketKind.SOCK_STREAM: 1>, 6, '', ('127.0.0.1', 80))`.
    pub fn py_repr(&self) -> String {
        let family = match self.family {
            AF_INET => "<AddressFamily.AF_INET: 2>".to_string(),
            AF_INET6 => "<AddressFamily.AF_INET6: 10>".to_string(),
            f => f.to_string(),
        };
        let socktype = match self.socktype {
            SOCK_STREAM => "<SocketKind.SOCK_STREAM: 1>".to_string(),
            SOCK_DGRAM => "<SocketKind.SOCK_DGRAM: 2>".to_string(),
            libc::SOCK_RAW => "<SocketKind.SOCK_RAW: 3>".to_string(),
            t => t.to_string(),
        };
        format!(
            "({family}, {socktype}, {}, {}, {})",
            self.proto,
            crate::errors::py_str_repr(&self.canonname),
            crate::net::sockets::py_addr(&self.addr)
        )
    }
}

/// `await loop.getaddrinfo(host, port)`: the addresses `host` resolves to, in the C library's
/// order, looked up in the loop's default executor so the loop goes on meanwhile. An empty
/// `host` is Python's `None` (the loopback address, or the wildcard with [`AI_PASSIVE`]).
///
/// # Examples
///
/// ```
/// use tulip::{AddrInfoHints, SOCK_STREAM, getaddrinfo_with};
///
/// tulip::run(|co| {
///     let hints = AddrInfoHints { socktype: SOCK_STREAM, ..Default::default() };
///     let infos = getaddrinfo_with(co, "127.0.0.1", 80, hints)?;
///     assert_eq!(
///         infos[0].py_repr(),
///         "(<AddressFamily.AF_INET: 2>, <SocketKind.SOCK_STREAM: 1>, 6, '', ('127.0.0.1', 80))"
///     );
///     Ok(())
/// })?;
/// # Ok::<(), anyhow::Error>(())
/// ```
///
/// # Errors
///
/// - `gaierror: [Errno -2] Name or service not known` (an [`OsError`] named `gaierror` with
///   getaddrinfo's code as its errno) when the name does not resolve; `EAI_SYSTEM` gives the
///   errno's `OSError`.
/// - `CancelledError` when the waiting task is cancelled (the lookup runs on to its end in
///   its thread, and its answer is dropped).
/// - `RuntimeError("no running event loop")`, or the executor's errors (see
///   [`to_thread`](crate::to_thread)).
pub fn getaddrinfo(co: &TaskCo, host: &str, port: u16) -> Result<Vec<AddrInfo>> {
    getaddrinfo_with(co, host, port, AddrInfoHints::default())
}

/// `await loop.getaddrinfo(host, port, family=, type=, proto=, flags=)`: as [`getaddrinfo`],
/// filtered by `hints`.
///
/// # Errors
///
/// As [`getaddrinfo`].
pub fn getaddrinfo_with(
    co: &TaskCo,
    host: &str,
    port: u16,
    hints: AddrInfoHints,
) -> Result<Vec<AddrInfo>> {
    let host = (!host.is_empty()).then(|| host.to_string());
    let r = to_thread(co, move || lookup(host.as_deref(), port, hints))?;
    r.map_err(Into::into)
}

/// The blocking lookup, on whatever thread calls it.
fn lookup(host: Option<&str>, port: u16, hints: AddrInfoHints) -> Result<Vec<AddrInfo>, OsError> {
    let port = port.to_string();
    let raw = sys::getaddrinfo(
        host,
        Some(&port),
        hints.family,
        hints.socktype,
        hints.proto,
        hints.flags,
    )
    .map_err(|e| match e {
        GaiError::Code(code, text) => OsError::gaierror(code, text),
        GaiError::System(e) => OsError::from_io(&e),
    })?;
    Ok(raw
        .into_iter()
        .map(|r| AddrInfo {
            family: r.family,
            socktype: r.socktype,
            proto: r.protocol,
            canonname: r.canonname,
            addr: r.addr,
        })
        .collect())
}

/// asyncio's `_ipaddr_info`: the one answer for a numeric `host` (IPv4 or IPv6, of the
/// wanted family), with no lookup at all; `None` for a host name (or an empty host).
pub(crate) fn ipaddr_info(host: &str, port: u16, family: i32, socktype: i32) -> Option<AddrInfo> {
    if host.is_empty() || (socktype != SOCK_STREAM && socktype != SOCK_DGRAM) {
        return None;
    }
    let ip: IpAddr = host.parse().ok()?;
    let af = if ip.is_ipv4() { AF_INET } else { AF_INET6 };
    if family != AF_UNSPEC && family != af {
        return None;
    }
    let proto = if socktype == SOCK_STREAM {
        libc::IPPROTO_TCP
    } else {
        libc::IPPROTO_UDP
    };
    Some(AddrInfo {
        family: af,
        socktype,
        proto,
        canonname: String::new(),
        addr: SocketAddr::new(ip, port),
    })
}

/// asyncio's `_ensure_resolved((host, port), type=...)`: a numeric address at once, a host
/// name through [`getaddrinfo_with`] in the executor. The addresses come in the lookup's
/// order, each once.
pub(crate) fn ensure_resolved(
    co: &TaskCo,
    host: &str,
    port: u16,
    socktype: i32,
    flags: i32,
) -> Result<Vec<SocketAddr>> {
    if let Some(info) = ipaddr_info(host, port, AF_UNSPEC, socktype) {
        return Ok(vec![info.addr]);
    }
    let hints = AddrInfoHints {
        socktype,
        flags,
        ..Default::default()
    };
    let mut addrs: Vec<SocketAddr> = getaddrinfo_with(co, host, port, hints)?
        .into_iter()
        .map(|i| i.addr)
        .collect();
    let mut seen = Vec::with_capacity(addrs.len());
    addrs.retain(|a| {
        let new = !seen.contains(a);
        seen.push(*a);
        new
    });
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_addresses_need_no_lookup() {
        let i = ipaddr_info("127.0.0.1", 80, 0, SOCK_STREAM).unwrap();
        assert_eq!(
            i.py_repr(),
            "(<AddressFamily.AF_INET: 2>, <SocketKind.SOCK_STREAM: 1>, 6, '', ('127.0.0.1', 80))"
        );
        let i = ipaddr_info("::1", 5, 0, SOCK_DGRAM).unwrap();
        assert_eq!(
            i.py_repr(),
            "(<AddressFamily.AF_INET6: 10>, <SocketKind.SOCK_DGRAM: 2>, 17, '', ('::1', 5, 0, 0))"
        );
        assert!(ipaddr_info("localhost", 80, 0, SOCK_STREAM).is_none());
        assert!(ipaddr_info("127.0.0.1", 80, AF_INET6, SOCK_STREAM).is_none());
        assert!(ipaddr_info("127.0.0.1", 80, 0, 0).is_none());
        assert!(ipaddr_info("", 80, 0, SOCK_STREAM).is_none());
    }

    #[test]
    fn a_failed_lookup_is_a_gaierror() {
        let e = lookup(Some("no-such-host.invalid"), 80, AddrInfoHints::default()).unwrap_err();
        assert_eq!(e.py_name(), "gaierror");
        assert!(e.errno().is_some_and(|c| c < 0));
    }
}
