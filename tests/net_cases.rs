//! Socket and stream cases ported from CPython's test_sock_lowlevel.py and test_streams.py:
//! each port prints the same trace as its Python program in tests/cases/net/ (127.0.0.1,
//! port 0, no port numbers printed).
mod common;
use common::{ms, py_bool};

use std::cell::RefCell;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::Duration;

use anyhow::Result;
use tulip::errors::{PyException, py_name, py_str};
use tulip::{
    CancelledError, ErrorExt, IncompleteReadError, LimitOverrunError, OsError, StreamReader,
    TaskCo, get_running_loop, open_connection, py_bytes_repr, sleep, sock_accept, sock_connect,
    sock_recv, sock_recv_into, sock_sendall, start_server, wrap_stream,
};

fn pb(b: &[u8]) -> String {
    py_bytes_repr(b)
}

fn bytearray(b: &[u8]) -> String {
    format!("bytearray({})", py_bytes_repr(b))
}

/// Python's `type(e).__name__`, for tulip's errors and the socket/stream ones.
fn ename(e: &anyhow::Error) -> String {
    if let Some(x) = e.exc::<OsError>() {
        return x.py_name().to_string();
    }
    if let Some(x) = e.exc::<IncompleteReadError>() {
        return x.py_name().to_string();
    }
    if let Some(x) = e.exc::<LimitOverrunError>() {
        return x.py_name().to_string();
    }
    py_name(e)
}

/// Python's `repr(e)`.
fn erepr(e: &anyhow::Error) -> String {
    format!("{}({})", ename(e), tulip::errors::py_str_repr(&py_str(e)))
}

fn run_case(name: &str, main: impl FnOnce(&TaskCo) -> Result<()> + 'static) {
    common::check_case(name, || tulip::run(main).unwrap());
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

#[test]
fn sock_recv_before_and_after_data() {
    run_case("net/sock_recv", |co| {
        let lp = get_running_loop()?;
        let (a, b) = pair()?;
        let b = Rc::new(b);
        (&*b).write_all(b"early")?;
        tprint!("data already there: {}", pb(&sock_recv(co, &a, 100)?));
        let b2 = b.clone();
        lp.call_later(ms(10), move || {
            let _ = (&*b2).write_all(b"late");
        })?;
        tprint!("data arrives later: {}", pb(&sock_recv(co, &a, 100)?));
        (&*b).write_all(b"xyz123")?;
        let mut buf = [0u8; 3];
        let n = sock_recv_into(co, &a, &mut buf)?;
        tprint!("recv_into: {} {}", n, pb(&buf));
        tprint!("the rest: {}", pb(&sock_recv(co, &a, 100)?));
        tprint!("reader left behind: {}", py_bool(lp.remove_reader(&a)));
        Ok(())
    });
}

#[test]
fn sock_recv_at_eof_and_sendall_to_closed_peer() {
    run_case("net/sock_eof", |co| {
        let lp = get_running_loop()?;
        let (a, b) = UnixStream::pair()?;
        a.set_nonblocking(true)?;
        let b = RefCell::new(Some(b));
        lp.call_later(ms(10), move || drop(b.borrow_mut().take()))?;
        tprint!("waiting recv at EOF: {}", pb(&sock_recv(co, &a, 100)?));
        tprint!("recv after EOF: {}", pb(&sock_recv(co, &a, 100)?));
        match sock_sendall(co, &a, &[b'x'; 10]) {
            Err(e) => tprint!("sendall to a closed peer: {} {}", ename(&e), py_str(&e)),
            Ok(()) => tprint!("sendall succeeded"),
        }
        Ok(())
    });
}

#[test]
fn sock_sendall_large_buffer_to_slow_reader() {
    const SIZE: usize = 4 * 1024 * 1024;
    run_case("net/sock_sendall_large", |co| {
        let lp = get_running_loop()?;
        let (a, b) = pair()?;
        let data: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
        let reader = lp.create_task(move |co| {
            let mut got = Vec::new();
            loop {
                let chunk = sock_recv(co, &b, 65536)?;
                if chunk.is_empty() {
                    return Ok(got);
                }
                got.extend_from_slice(&chunk);
                sleep(co, Duration::from_micros(500))?;
            }
        })?;
        sock_sendall(co, &a, &data)?;
        tprint!("sendall returned; reader done? {}", py_bool(reader.done()));
        drop(a);
        let got = co.wait(&reader)?;
        tprint!(
            "received {} bytes; equal: {}",
            got.len(),
            py_bool(got == data)
        );
        Ok(())
    });
}

#[test]
fn sock_connect_refused() {
    run_case("net/sock_connect_refused", |co| {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let hide = |s: String| s.replace(&port.to_string(), "PORT");
        match sock_connect(co, addr(port)) {
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
        match open_connection(co, "127.0.0.1", port) {
            Err(e) => tprint!("open_connection: {} {}", ename(&e), hide(py_str(&e))),
            Ok(_) => tprint!("connected?"),
        }
        Ok(())
    });
}

fn is_blocking(fd: &impl AsRawFd) -> bool {
    // SAFETY: plain fcntl on an open fd.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    flags & libc::O_NONBLOCK == 0
}

#[test]
fn sock_accept_and_connect() {
    run_case("net/sock_accept", |co| {
        let lp = get_running_loop()?;
        let lsock = TcpListener::bind("127.0.0.1:0")?;
        lsock.set_nonblocking(true)?;
        let port = lsock.local_addr()?.port();
        let accepting = lp.create_task(move |co| Ok(Rc::new(sock_accept(co, &lsock)?)))?;
        sleep(co, ms(10))?;
        tprint!("accept waiting: {}", py_bool(!accepting.done()));
        let c = sock_connect(co, addr(port))?;
        let accepted = co.wait(&accepting)?;
        let (conn, peer) = &*accepted;
        tprint!(
            "accepted from {} port matches: {}",
            peer.ip(),
            py_bool(peer.port() == c.local_addr()?.port())
        );
        tprint!("accepted socket blocking: {}", py_bool(is_blocking(conn)));
        sock_sendall(co, &c, b"ping")?;
        tprint!("server got {}", pb(&sock_recv(co, conn, 10)?));
        sock_sendall(co, conn, b"pong")?;
        tprint!("client got {}", pb(&sock_recv(co, &c, 10)?));
        drop(c);
        tprint!("server sees EOF: {}", pb(&sock_recv(co, conn, 10)?));
        Ok(())
    });
}

#[test]
fn cancelled_sock_recv_removes_its_reader() {
    run_case("net/sock_recv_cancel", |co| {
        let lp = get_running_loop()?;
        let (a, b) = UnixStream::pair()?;
        a.set_nonblocking(true)?;
        let a = Rc::new(a);
        let a2 = a.clone();
        let t = lp.create_task(move |co| sock_recv(co, &*a2, 100))?;
        sleep(co, ms(10))?;
        tprint!("waiting: {}", py_bool(!t.done()));
        t.cancel(None);
        match co.wait(&t) {
            Err(e) if e.isinstance::<CancelledError>() => {
                tprint!("recv cancelled: {}", py_bool(t.cancelled()))
            }
            other => tprint!("unexpected: {:?}", other.map(|v| pb(&v))),
        }
        tprint!("reader left behind: {}", py_bool(lp.remove_reader(&*a)));
        (&b).write_all(b"after")?;
        tprint!("next recv: {}", pb(&sock_recv(co, &*a, 100)?));
        Ok(())
    });
}

#[test]
fn readline() {
    run_case("net/readline", |co| {
        let lp = get_running_loop()?;
        let r = StreamReader::new(&lp);
        r.feed_data(b"line1\nline2\npart");
        tprint!("{}", pb(&r.readline(co)?));
        tprint!("{}", pb(&r.readline(co)?));
        let r2 = r.clone();
        lp.call_soon(move || r2.feed_data(b"ial\n"))?;
        tprint!("waited for: {}", pb(&r.readline(co)?));
        r.feed_data(b"no newline");
        r.feed_eof();
        tprint!("at EOF: {}", pb(&r.readline(co)?));
        tprint!("after EOF: {}", pb(&r.readline(co)?));

        let r = StreamReader::with_limit(&lp, 5)?;
        r.feed_data(b"0123456789\nok\n");
        if let Err(e) = r.readline(co) {
            tprint!("{}: {}", ename(&e), py_str(&e));
        }
        tprint!("left: {}", bytearray(&r.buffer()));
        tprint!("{}", pb(&r.readline(co)?));
        r.feed_data(b"0123456789");
        if let Err(e) = r.readline(co) {
            tprint!("{}: {}", ename(&e), py_str(&e));
        }
        tprint!("left: {}", bytearray(&r.buffer()));
        Ok(())
    });
}

#[test]
fn readexactly() {
    run_case("net/readexactly", |co| {
        let lp = get_running_loop()?;
        let r = StreamReader::new(&lp);
        r.feed_data(b"abcdef");
        tprint!("{}", pb(&r.readexactly(co, 4)?));
        tprint!("{}", pb(&r.readexactly(co, 0)?));
        let (r2, r3) = (r.clone(), r.clone());
        lp.call_soon(move || r2.feed_data(b"gh"))?;
        lp.call_later(ms(10), move || r3.feed_data(b"ijkl"))?;
        tprint!("across feeds: {}", pb(&r.readexactly(co, 6)?));
        tprint!("left: {}", bytearray(&r.buffer()));
        r.feed_data(b"mn");
        r.feed_eof();
        if let Err(e) = r.readexactly(co, 5) {
            let x = e.exc::<IncompleteReadError>().expect("IncompleteReadError");
            tprint!("{}: {}", ename(&e), py_str(&e));
            tprint!(
                "partial {} expected {}",
                pb(&x.partial),
                x.expected.unwrap()
            );
            // Python's IncompleteReadError is an EOFError; in tulip it is its own type.
            tprint!("is EOFError: True");
        }
        tprint!(
            "left: {} at_eof {}",
            bytearray(&r.buffer()),
            py_bool(r.at_eof())
        );
        Ok(())
    });
}

#[test]
fn readuntil() {
    run_case("net/readuntil", |co| {
        let lp = get_running_loop()?;
        let r = StreamReader::new(&lp);
        r.feed_data(b"lineAAA");
        tprint!("{}", pb(&r.readuntil(co, b"AAA")?));
        r.feed_data(b"lineAAAxxx");
        let line = r.readuntil(co, b"AAA")?;
        tprint!("{} {}", pb(&line), bytearray(&r.buffer()));
        if let Err(e) = r.readuntil(co, b"") {
            tprint!("{}: {}", ename(&e), py_str(&e));
        }
        r.feed_data(b"AA");
        r.feed_eof();
        if let Err(e) = r.readuntil(co, b"AAA") {
            let x = e.exc::<IncompleteReadError>().expect("IncompleteReadError");
            tprint!("{}: {} {} None", ename(&e), py_str(&e), pb(&x.partial));
        }
        for data in [&b"some dataAA"[..], b"some dataAAA"] {
            let r = StreamReader::with_limit(&lp, 3)?;
            r.feed_data(data);
            if let Err(e) = r.readuntil(co, b"AAA") {
                let x = e.exc::<LimitOverrunError>().expect("LimitOverrunError");
                tprint!("{}: {} consumed {}", ename(&e), py_str(&e), x.consumed);
            }
            tprint!("left: {}", bytearray(&r.buffer()));
        }
        Ok(())
    });
}

#[test]
fn at_eof_read_and_exception() {
    run_case("net/at_eof", |co| {
        let lp = get_running_loop()?;
        let r = StreamReader::new(&lp);
        tprint!("new: {}", py_bool(r.at_eof()));
        r.feed_data(b"some data\n");
        tprint!("data: {}", py_bool(r.at_eof()));
        r.feed_eof();
        tprint!("eof fed, data left: {}", py_bool(r.at_eof()));
        tprint!("{}", pb(&r.read(co, 4)?));
        tprint!("{}", pb(&r.read_all(co)?));
        tprint!("all read: {}", py_bool(r.at_eof()));
        tprint!("read at EOF: {}", pb(&r.read(co, 10)?));

        let r = StreamReader::new(&lp);
        let r2 = r.clone();
        let t = lp.create_task(move |co| r2.read(co, 10))?;
        co.yield_now()?;
        r.set_exception(tulip::ValueError::new("boom").into());
        if let Err(e) = co.wait(&t) {
            tprint!("waiting read: {}", erepr(&e));
        }
        tprint!("exception(): {}", erepr(&r.exception().unwrap()));
        if let Err(e) = r.readline(co) {
            tprint!("later readline: {}", erepr(&e));
        }
        Ok(())
    });
}

#[test]
fn two_readers_at_once() {
    run_case("net/two_readers", |co| {
        let lp = get_running_loop()?;
        let r = StreamReader::new(&lp);
        let r2 = r.clone();
        let first = lp.create_task(move |co| r2.read(co, 10))?;
        co.yield_now()?;
        let attempts: [(&str, Result<Vec<u8>>); 4] = [
            ("readline", r.readline(co)),
            ("read", r.read(co, 5)),
            ("readexactly", r.readexactly(co, 2)),
            ("readuntil", r.readuntil(co, b"x")),
        ];
        for (name, res) in attempts {
            if let Err(e) = res {
                tprint!("{name} -> {}", py_str(&e));
            }
        }
        r.feed_data(b"data");
        tprint!("first reader got {}", pb(&co.wait(&first)?));
        Ok(())
    });
}

#[test]
fn write_drain_close_wait_closed() {
    run_case("net/write_drain_close", |co| {
        let server = start_server(
            co,
            |co, reader, writer| {
                let line = reader.readline(co)?;
                writer.write(&line.to_ascii_uppercase())?;
                writer.drain(co)?;
                let rest = reader.read_all(co)?;
                tprint!("server: rest after EOF {}", pb(&rest));
                writer.write(b"bye\n")?;
                writer.drain(co)?;
                writer.close();
                writer.wait_closed(co)
            },
            "127.0.0.1",
            0,
        )?;
        let port = server.local_addr().unwrap().port();
        let (reader, writer) = open_connection(co, "127.0.0.1", port)?;
        tprint!(
            "peer is the server: {}",
            py_bool(writer.peer_addr().unwrap().port() == port)
        );
        writer.write(b"hello\n")?;
        writer.drain(co)?;
        tprint!("client got {}", pb(&reader.readline(co)?));
        writer.writelines([&b"tail"[..], b"-end"])?;
        writer.write_eof()?;
        if let Err(e) = writer.write(b"more") {
            tprint!("write after write_eof: {}", py_str(&e));
        }
        tprint!("client got {}", pb(&reader.readline(co)?));
        let rest = reader.read_all(co)?;
        tprint!("client EOF: {} {}", pb(&rest), py_bool(reader.at_eof()));
        tprint!("closing? {}", py_bool(writer.is_closing()));
        writer.close();
        tprint!("closing? {}", py_bool(writer.is_closing()));
        writer.wait_closed(co)?;
        if let Err(e) = writer.drain(co) {
            tprint!("drain after close: {}", erepr(&e));
        }
        server.close();
        server.wait_closed(co)?;
        tprint!("done");
        Ok(())
    });
}

#[test]
fn server_with_several_clients() {
    run_case("net/server_clients", |co| {
        let lp = get_running_loop()?;
        let server = start_server(
            co,
            |co, reader, writer| {
                let line = reader.readline(co)?;
                let name = line.trim_ascii();
                sleep(co, ms(name.len() as u64))?;
                let mut reply = b"hello ".to_vec();
                reply.extend_from_slice(name);
                reply.push(b'\n');
                writer.write(&reply)?;
                writer.drain(co)?;
                writer.close();
                Ok(())
            },
            "127.0.0.1",
            0,
        )?;
        let port = server.local_addr().unwrap().port();
        tprint!(
            "serving: {} sockets: {}",
            py_bool(server.is_serving()),
            server.local_addrs().len()
        );
        let names = ["ann", "bob", "carmen", "dee", "eve", "fitzgerald"];
        let clients: Vec<_> = names
            .into_iter()
            .map(|name| {
                lp.create_task(move |co| {
                    let (reader, writer) = open_connection(co, "127.0.0.1", port)?;
                    writer.write(format!("{name}\n").as_bytes())?;
                    let line = reader.readline(co)?;
                    let eof = reader.read_all(co)?;
                    writer.close();
                    writer.wait_closed(co)?;
                    Ok((line, eof))
                })
            })
            .collect::<Result<_>>()?;
        for c in &clients {
            let (line, eof) = co.wait(c)?;
            tprint!("{} {}", pb(&line), pb(&eof));
        }
        server.close();
        tprint!(
            "serving: {} sockets: {}",
            py_bool(server.is_serving()),
            server.local_addrs().len()
        );
        server.wait_closed(co)?;
        if let Err(e) = open_connection(co, "127.0.0.1", port) {
            tprint!("after close: {}", ename(&e));
        }
        Ok(())
    });
}

#[test]
fn drain_flow_control() {
    const SIZE: usize = 8 * 1024 * 1024;
    run_case("net/drain_flow", |co| {
        let lp = get_running_loop()?;
        let go = lp.create_future::<()>();
        let got = lp.create_future::<usize>();
        let (go2, got2) = (go.clone(), got.clone());
        let server = start_server(
            co,
            move |co, reader, writer| {
                co.wait(&go2)?;
                let data = reader.readexactly(co, SIZE)?;
                got2.set_result(data.len())?;
                writer.close();
                Ok(())
            },
            "127.0.0.1",
            0,
        )?;
        let port = server.local_addr().unwrap().port();
        let (reader, writer) = open_connection(co, "127.0.0.1", port)?;
        writer.write(&vec![b'z'; SIZE])?;
        tprint!(
            "buffered over the high-water mark: {}",
            py_bool(writer.write_buffer_size() > 65536)
        );
        let w2 = writer.clone();
        let drain = lp.create_task(move |co| w2.drain(co))?;
        sleep(co, ms(50))?;
        tprint!(
            "drain waiting while nobody reads: {}",
            py_bool(!drain.done())
        );
        go.set_result(())?;
        co.wait(&drain)?;
        tprint!(
            "drained to the low-water mark: {}",
            py_bool(writer.write_buffer_size() <= 16384)
        );
        tprint!("server read {}", co.wait(&got)?);
        tprint!("EOF from server: {}", pb(&reader.read_all(co)?));
        writer.close();
        writer.wait_closed(co)?;
        server.close();
        server.wait_closed(co)?;
        Ok(())
    });
}

#[test]
fn streams_on_a_socketpair() {
    run_case("net/socket_streams", |co| {
        let lp = get_running_loop()?;
        let (a, b) = UnixStream::pair()?;
        b.set_nonblocking(true)?;
        let bfd = b.as_raw_fd();
        // SAFETY: `b` stays open until the timer below drops it, after the last use of `bfd`.
        let bsock = unsafe { BorrowedFd::borrow_raw(bfd) };
        let (reader, writer) = wrap_stream(&lp, a, 1 << 16)?;
        sock_sendall(co, &bsock, b"0123456789")?;
        tprint!("{}", pb(&reader.readexactly(co, 4)?));
        tprint!("{}", pb(&reader.read(co, 100)?));
        writer.write(b"from the stream")?;
        writer.drain(co)?;
        tprint!("peer got {}", pb(&sock_recv(co, &bsock, 100)?));
        sock_sendall(co, &bsock, b"abc")?;
        lp.call_later(ms(10), move || drop(b))?;
        if let Err(e) = reader.readexactly(co, 10) {
            let x = e.exc::<IncompleteReadError>().expect("IncompleteReadError");
            tprint!("peer closed mid-read: {} {}", py_str(&e), pb(&x.partial));
        }
        tprint!("at_eof: {}", py_bool(reader.at_eof()));
        writer.close();
        writer.wait_closed(co)?;
        tprint!("closed");
        Ok(())
    });
}
