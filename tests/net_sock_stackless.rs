//! The native stackless forms of the loop's socket waits (feature `nightly`):
//! `stackless::sock_recv(&sock, n)`, `sock_sendall`, `sock_connect`, `sock_accept`, ...
//! delegated to with `yield_from!`. The recorded cases net/sock_recv, net/sock_eof,
//! net/sock_recv_cancel, net/sock_sendall_large, net/sock_connect_refused, net/sock_accept
//! (net_cases.rs) and net/udp_sock (net_udp.rs) run on them against the same recordings;
//! then what a trace does not show: stackless tasks waiting in sock_recv on idle sockets
//! hold no stack, and a cancelled sock_sendall takes its writer out.
#![feature(coroutines)]
mod common;
use common::{ms, py_bool};

use std::cell::RefCell;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::Duration;

use anyhow::Result;
use tulip::errors::{py_name, py_str};
use tulip::generator::stack_pool_stats;
use tulip::stackless::{self, sleep, stackful};
use tulip::{
    CancelledError, ErrorExt, EventLoop, OsError, await_, get_running_loop, open_connection,
    py_bytes_repr, yield_from,
};

fn pb(b: &[u8]) -> String {
    py_bytes_repr(b)
}

/// Python's `type(e).__name__`.
fn ename(e: &anyhow::Error) -> String {
    match e.exc::<OsError>() {
        Some(x) => x.py_name().to_string(),
        None => py_name(e),
    }
}

fn pair() -> Result<(UnixStream, UnixStream)> {
    let (a, b) = UnixStream::pair()?;
    a.set_nonblocking(true)?;
    b.set_nonblocking(true)?;
    Ok((a, b))
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn is_blocking(fd: &impl AsRawFd) -> bool {
    // SAFETY: plain fcntl on an open fd.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    flags & libc::O_NONBLOCK == 0
}

#[test]
fn sock_recv_before_and_after_data() {
    common::check_case("net/sock_recv", || {
        stackless::run(
            #[coroutine]
            static |_| {
                let lp = get_running_loop()?;
                let (a, b) = pair()?;
                let b = Rc::new(b);
                (&*b).write_all(b"early")?;
                let got = yield_from!(stackless::sock_recv(&a, 100))?;
                tprint!("data already there: {}", pb(&got));
                let b2 = b.clone();
                lp.call_later(ms(10), move || {
                    let _ = (&*b2).write_all(b"late");
                })?;
                let got = yield_from!(stackless::sock_recv(&a, 100))?;
                tprint!("data arrives later: {}", pb(&got));
                (&*b).write_all(b"xyz123")?;
                let mut buf = [0u8; 3];
                let n = yield_from!(stackless::sock_recv_into(&a, &mut buf))?;
                tprint!("recv_into: {} {}", n, pb(&buf));
                let got = yield_from!(stackless::sock_recv(&a, 100))?;
                tprint!("the rest: {}", pb(&got));
                tprint!("reader left behind: {}", py_bool(lp.remove_reader(&a)));
                Ok(())
            },
        )
        .unwrap();
    });
}

#[test]
fn sock_recv_at_eof_and_sendall_to_closed_peer() {
    common::check_case("net/sock_eof", || {
        stackless::run(
            #[coroutine]
            static |_| {
                let lp = get_running_loop()?;
                let (a, b) = UnixStream::pair()?;
                a.set_nonblocking(true)?;
                let b = RefCell::new(Some(b));
                lp.call_later(ms(10), move || drop(b.borrow_mut().take()))?;
                let got = yield_from!(stackless::sock_recv(&a, 100))?;
                tprint!("waiting recv at EOF: {}", pb(&got));
                let got = yield_from!(stackless::sock_recv(&a, 100))?;
                tprint!("recv after EOF: {}", pb(&got));
                match yield_from!(stackless::sock_sendall(&a, &[b'x'; 10])) {
                    Err(e) => tprint!("sendall to a closed peer: {} {}", ename(&e), py_str(&e)),
                    Ok(()) => tprint!("sendall succeeded"),
                }
                Ok(())
            },
        )
        .unwrap();
    });
}

#[test]
fn cancelled_sock_recv_removes_its_reader() {
    common::check_case("net/sock_recv_cancel", || {
        stackless::run(
            #[coroutine]
            static |_| {
                let lp = get_running_loop()?;
                let (a, b) = UnixStream::pair()?;
                a.set_nonblocking(true)?;
                let a = Rc::new(a);
                let a2 = a.clone();
                let t = lp.create_task_stackless(
                    #[coroutine]
                    static move |_| yield_from!(stackless::sock_recv(&*a2, 100)),
                )?;
                yield_from!(sleep(ms(10)))?;
                tprint!("waiting: {}", py_bool(!t.done()));
                t.cancel(None);
                match await_!(t.clone()) {
                    Err(e) if e.isinstance::<CancelledError>() => {
                        tprint!("recv cancelled: {}", py_bool(t.cancelled()))
                    }
                    other => tprint!("unexpected: {:?}", other.map(|v| pb(&v))),
                }
                tprint!("reader left behind: {}", py_bool(lp.remove_reader(&*a)));
                (&b).write_all(b"after")?;
                let got = yield_from!(stackless::sock_recv(&*a, 100))?;
                tprint!("next recv: {}", pb(&got));
                Ok(())
            },
        )
        .unwrap();
    });
}

#[test]
fn sock_sendall_large_buffer_to_slow_reader() {
    const SIZE: usize = 4 * 1024 * 1024;
    common::check_case("net/sock_sendall_large", || {
        stackless::run(
            #[coroutine]
            static |_| {
                let lp = get_running_loop()?;
                let (a, b) = pair()?;
                let data: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
                let reader = lp.create_task_stackless(
                    #[coroutine]
                    static move |_| {
                        let mut got = Vec::new();
                        loop {
                            let chunk = yield_from!(stackless::sock_recv(&b, 65536))?;
                            if chunk.is_empty() {
                                return Ok(got);
                            }
                            got.extend_from_slice(&chunk);
                            yield_from!(sleep(Duration::from_micros(500)))?;
                        }
                    },
                )?;
                yield_from!(stackless::sock_sendall(&a, &data))?;
                tprint!("sendall returned; reader done? {}", py_bool(reader.done()));
                drop(a);
                let got = await_!(reader)?;
                tprint!(
                    "received {} bytes; equal: {}",
                    got.len(),
                    py_bool(got == data)
                );
                Ok(())
            },
        )
        .unwrap();
    });
}

#[test]
fn sock_connect_refused() {
    common::check_case("net/sock_connect_refused", || {
        stackless::run(
            #[coroutine]
            static |_| {
                let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
                let hide = move |s: String| s.replace(&port.to_string(), "PORT");
                match yield_from!(stackless::sock_connect(addr(port))) {
                    Err(e) => {
                        let os = e.exc::<OsError>().expect("an OSError");
                        tprint!(
                            "{} {} {}",
                            os.py_name(),
                            os.errno().unwrap_or(0),
                            hide(os.to_string())
                        );
                        tprint!("is ConnectionError: {}", py_bool(os.is_connection_error()));
                    }
                    Ok(_) => tprint!("connected?"),
                }
                // open_connection has no native stackless form yet.
                match yield_from!(stackful(move |co| open_connection(co, "127.0.0.1", port))) {
                    Err(e) => tprint!("open_connection: {} {}", ename(&e), hide(py_str(&e))),
                    Ok(_) => tprint!("connected?"),
                }
                Ok(())
            },
        )
        .unwrap();
    });
}

#[test]
fn sock_accept_and_connect() {
    common::check_case("net/sock_accept", || {
        stackless::run(
            #[coroutine]
            static |_| {
                let lp = get_running_loop()?;
                let lsock = TcpListener::bind("127.0.0.1:0")?;
                lsock.set_nonblocking(true)?;
                let port = lsock.local_addr()?.port();
                let accepting = lp.create_task_stackless(
                    #[coroutine]
                    static move |_| Ok(Rc::new(yield_from!(stackless::sock_accept(&lsock))?)),
                )?;
                yield_from!(sleep(ms(10)))?;
                tprint!("accept waiting: {}", py_bool(!accepting.done()));
                let c = yield_from!(stackless::sock_connect(addr(port)))?;
                let accepted = await_!(accepting)?;
                let (conn, peer) = &*accepted;
                tprint!(
                    "accepted from {} port matches: {}",
                    peer.ip(),
                    py_bool(peer.port() == c.local_addr()?.port())
                );
                tprint!("accepted socket blocking: {}", py_bool(is_blocking(conn)));
                yield_from!(stackless::sock_sendall(&c, b"ping"))?;
                let got = yield_from!(stackless::sock_recv(conn, 10))?;
                tprint!("server got {}", pb(&got));
                yield_from!(stackless::sock_sendall(conn, b"pong"))?;
                let got = yield_from!(stackless::sock_recv(&c, 10))?;
                tprint!("client got {}", pb(&got));
                drop(c);
                let got = yield_from!(stackless::sock_recv(conn, 10))?;
                tprint!("server sees EOF: {}", pb(&got));
                Ok(())
            },
        )
        .unwrap();
    });
}

#[test]
fn udp_sock_calls() {
    common::check_case("net/udp_sock", || {
        stackless::run(
            #[coroutine]
            static |_| {
                let lp = get_running_loop()?;
                let a = UdpSocket::bind("127.0.0.1:0")?;
                let b = Rc::new(UdpSocket::bind("127.0.0.1:0")?);
                a.set_nonblocking(true)?;
                b.set_nonblocking(true)?;
                let (addr_a, addr_b) = (a.local_addr()?, b.local_addr()?);
                let sent = yield_from!(stackless::sock_sendto(&*b, b"early", addr_a))?;
                tprint!("sent: {}", sent);
                let (data, from) = yield_from!(stackless::sock_recvfrom(&a, 100))?;
                tprint!("queued: {} {}", pb(&data), py_bool(from == addr_b));
                let b2 = b.clone();
                lp.call_later(ms(10), move || {
                    let _ = b2.send_to(b"late", addr_a);
                })?;
                let (data, from) = yield_from!(stackless::sock_recvfrom(&a, 100))?;
                tprint!("arrives later: {} {}", pb(&data), py_bool(from == addr_b));
                yield_from!(stackless::sock_sendto(&*b, b"0123456789", addr_a))?;
                yield_from!(stackless::sock_sendto(&*b, b"next", addr_a))?;
                let (data, _) = yield_from!(stackless::sock_recvfrom(&a, 4))?;
                tprint!("cut to 4: {}", pb(&data));
                let (data, _) = yield_from!(stackless::sock_recvfrom(&a, 100))?;
                tprint!("the next one whole: {}", pb(&data));
                yield_from!(stackless::sock_sendto(&a, b"into", addr_b))?;
                let mut buf = [0u8; 10];
                let (n, from) = yield_from!(stackless::sock_recvfrom_into(&*b, &mut buf))?;
                tprint!(
                    "recvfrom_into: {} {} {}",
                    n,
                    pb(&buf[..n]),
                    py_bool(from == addr_a)
                );
                tprint!("reader left behind: {}", py_bool(lp.remove_reader(&a)));
                Ok(())
            },
        )
        .unwrap();
    });
}

/// Stacks this thread took so far (from the arenas or its cache): unchanged means no
/// coroutine took one.
fn stacks_taken() -> (u64, u64) {
    let s = stack_pool_stats();
    (s.mapped, s.reused)
}

/// What each task received: its index and its bytes.
type Received = Rc<RefCell<Vec<(usize, Vec<u8>)>>>;

#[test]
fn idle_stackless_sock_recvs_hold_no_stack() {
    // Two fds a pair: well under the 20,000 of a usual fd limit.
    const N: usize = 2_000;
    let before = stacks_taken();
    let lp = EventLoop::new().unwrap();
    let got: Received = Rc::default();
    let mut peers = Vec::new();
    for n in 0..N {
        let (a, b) = pair().unwrap();
        peers.push(b);
        let got = got.clone();
        lp.create_task_stackless(
            #[coroutine]
            static move |_| {
                let data = yield_from!(stackless::sock_recv(&a, 100))?; // await loop.sock_recv(a, 100)
                got.borrow_mut().push((n, data));
                Ok(())
            },
        )
        .unwrap();
    }
    common::run_briefly(&lp); // every task waits in sock_recv
    assert!(got.borrow().is_empty());
    assert_eq!(stacks_taken(), before, "a waiting sock_recv took a stack");

    for (n, peer) in peers.iter_mut().enumerate() {
        peer.write_all(format!("data {n}").as_bytes()).unwrap();
    }
    while got.borrow().len() < N {
        common::run_briefly(&lp);
    }
    assert!(
        got.borrow()
            .iter()
            .all(|(n, data)| *data == format!("data {n}").into_bytes())
    );
    assert_eq!(stacks_taken(), before, "a woken sock_recv took a stack");
    lp.close().unwrap();
}

#[test]
fn cancelled_sock_sendall_removes_its_writer() {
    stackless::run(
        #[coroutine]
        static |_| {
            let lp = get_running_loop()?;
            let (a, b) = pair()?;
            let a = Rc::new(a);
            let a2 = a.clone();
            // More than the socket buffers hold while the peer does not read: it waits.
            let t = lp.create_task_stackless(
                #[coroutine]
                static move |_| {
                    let big = vec![b'x'; 8 << 20];
                    yield_from!(stackless::sock_sendall(&*a2, &big))
                },
            )?;
            yield_from!(sleep(ms(10)))?;
            let fd = a.as_raw_fd();
            let writing = |lp: &EventLoop| lp.watched_fds().iter().any(|w| w.0 == fd && w.2);
            assert!(!t.done() && writing(&lp), "sendall waits for room to write");
            t.cancel(None);
            let r = await_!(t.clone());
            assert!(r.unwrap_err().isinstance::<CancelledError>());
            assert!(
                !writing(&lp),
                "the cancelled sendall left its writer behind"
            );
            drop(b);
            Ok(())
        },
    )
    .unwrap();
}
