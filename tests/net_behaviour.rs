//! Sockets and streams under stress and failure: peers that vanish, a thousand connections,
//! a large transfer, and a loop closed while reads are pending.
use std::cell::Cell;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::Duration;

use anyhow::Result;
use tulip::{
    ErrorExt, EventLoop, IncompleteReadError, OsError, ServerOptions, get_running_loop,
    open_connection, sleep, sock_recv, start_server, start_server_with, wrap_stream,
};

mod common;
use common::echo;

#[test]
fn peer_closing_mid_read() {
    tulip::run(|co| {
        let lp = get_running_loop()?;
        // Raw sockets: the partial data, then b''.
        let (a, mut b) = UnixStream::pair()?;
        b.write_all(b"half")?;
        lp.call_later(Duration::from_millis(5), move || drop(b))?;
        assert_eq!(sock_recv(co, &a, 100)?, b"half");
        assert_eq!(sock_recv(co, &a, 100)?, b"");
        // Streams: readexactly and readuntil get IncompleteReadError with the partial bytes.
        for sep in [false, true] {
            let (a, mut b) = UnixStream::pair()?;
            let (reader, writer) = wrap_stream(&lp, a, 1 << 16)?;
            b.write_all(b"partial")?;
            lp.call_later(Duration::from_millis(5), move || drop(b))?;
            let err = if sep {
                reader.readuntil(co, b"\n").unwrap_err()
            } else {
                reader.readexactly(co, 100).unwrap_err()
            };
            let inc = err
                .exc::<IncompleteReadError>()
                .expect("IncompleteReadError");
            assert_eq!(inc.partial, b"partial");
            assert!(reader.at_eof());
            // Writing to the vanished peer never kills the process (no SIGPIPE): the error
            // arrives through drain() or wait_closed().
            let mut failed = false;
            for _ in 0..100 {
                writer.write(&[0u8; 4096])?;
                if writer.drain(co).is_err() {
                    failed = true;
                    break;
                }
            }
            assert!(failed, "writes to a closed peer must fail");
            writer.close();
            let _ = writer.wait_closed(co);
        }
        Ok(())
    })
    .unwrap();
}

#[test]
fn connection_reset_surfaces_as_error() {
    tulip::run(|co| {
        let lp = get_running_loop()?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let (reader, writer) = open_connection(co, "127.0.0.1", port)?;
        let (peer, _) = listener.accept()?;
        // SO_LINGER 0: close sends RST, so the reader sees ECONNRESET.
        let linger = libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        // SAFETY: valid option struct for the call's duration.
        unsafe {
            libc::setsockopt(
                peer.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
        lp.call_later(Duration::from_millis(5), move || drop(peer))?;
        let err = reader.read(co, 100).unwrap_err();
        let os = err.exc::<OsError>().expect("OsError");
        assert_eq!(os.py_name(), "ConnectionResetError", "{os}");
        assert!(writer.is_closing());
        assert!(writer.wait_closed(co).is_err());
        assert!(writer.drain(co).is_err());
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_thousand_concurrent_connections() {
    const N: usize = 1000;
    tulip::run(|co| {
        let lp = get_running_loop()?;
        let opts = ServerOptions {
            backlog: 1024,
            ..ServerOptions::default()
        };
        let server = start_server_with(co, echo, "127.0.0.1", 0, opts)?;
        let port = server.local_addr().unwrap().port();
        let ok = Rc::new(Cell::new(0usize));
        let clients = (0..N)
            .map(|i| {
                let ok = ok.clone();
                lp.create_task(move |co| {
                    let (r, w) = open_connection(co, "127.0.0.1", port)?;
                    let msg = format!("client {i:05}\n");
                    w.write(msg.as_bytes())?;
                    w.drain(co)?;
                    let line = r.readline(co)?;
                    assert_eq!(line, msg.as_bytes());
                    w.close();
                    w.wait_closed(co)?;
                    ok.set(ok.get() + 1);
                    Ok(())
                })
            })
            .collect::<Result<Vec<_>>>()?;
        for c in &clients {
            co.wait(c)?;
        }
        assert_eq!(ok.get(), N);
        server.close();
        server.wait_closed(co)?;
        assert_eq!(server.active_connections(), 0);
        Ok(())
    })
    .unwrap();
}

#[test]
fn ten_mib_transfer() {
    const SIZE: usize = 10 * 1024 * 1024;
    tulip::run(|co| {
        let lp = get_running_loop()?;
        let server = start_server(co, echo, "127.0.0.1", 0)?;
        let port = server.local_addr().unwrap().port();
        let (r, w) = open_connection(co, "127.0.0.1", port)?;
        let data: Vec<u8> = (0..SIZE).map(|i| (i * 7 % 256) as u8).collect();
        let sent = data.clone();
        let writer = lp.create_task(move |co| {
            for chunk in sent.chunks(1 << 20) {
                w.write(chunk)?;
                w.drain(co)?;
            }
            w.write_eof()?;
            Ok(())
        })?;
        let got = r.read_all(co)?;
        co.wait(&writer)?;
        assert_eq!(got.len(), SIZE);
        assert!(got == data);
        server.close();
        server.wait_closed(co)?;
        Ok(())
    })
    .unwrap();
}

#[test]
fn loop_close_cancels_pending_reads_and_closes_sockets() {
    let lp = EventLoop::new().unwrap();
    let (a, b) = UnixStream::pair().unwrap();
    let (c, d) = UnixStream::pair().unwrap();
    c.set_nonblocking(true).unwrap();
    let raw = lp
        .create_task(move |co| sock_recv(co, &c, 10).map(|_| ()))
        .unwrap();
    let streams = lp
        .create_task(move |co| {
            let lp = get_running_loop()?;
            let (r, _w) = wrap_stream(&lp, a, 1 << 16)?;
            r.read(co, 10).map(|_| ())
        })
        .unwrap();
    let l2 = lp.clone();
    lp.call_later(Duration::from_millis(20), move || l2.stop())
        .unwrap();
    lp.run_forever().unwrap();
    assert!(!raw.done() && !streams.done());
    // Silence the "Task was destroyed but it is pending!" reports.
    lp.set_exception_handler(Some(|_: &EventLoop, _: &tulip::ExceptionContext| {}));
    lp.close().unwrap();
    // The loop closed the stream's socket and the raw task's socket: the peers see EOF.
    b.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    d.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(std::io::Read::read(&mut &b, &mut buf).unwrap(), 0);
    assert_eq!(std::io::Read::read(&mut &d, &mut buf).unwrap(), 0);
}

#[test]
fn dropping_reader_and_writer_closes_the_connection() {
    tulip::run(|co| {
        let lp = get_running_loop()?;
        let (a, b) = UnixStream::pair()?;
        let (r, w) = wrap_stream(&lp, a, 1 << 16)?;
        w.write(b"last words")?;
        drop((r, w));
        sleep(co, Duration::from_millis(5))?;
        b.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut got = Vec::new();
        std::io::Read::read_to_end(&mut &b, &mut got)?;
        assert_eq!(got, b"last words");
        Ok(())
    })
    .unwrap();
}

#[test]
fn os_errors_print_as_python() {
    // Python: repr(ConnectionRefusedError(111, 'Connect call failed')) and str(...).
    let e = anyhow::Error::new(tulip::OsError::with_errno(111, "Connect call failed"));
    assert_eq!(
        tulip::py_repr(&e),
        "ConnectionRefusedError(111, 'Connect call failed')"
    );
    assert_eq!(tulip::py_str(&e), "[Errno 111] Connect call failed");
    let e = anyhow::Error::new(tulip::IncompleteReadError::new(b"ab".to_vec(), Some(5)));
    assert_eq!(
        tulip::py_repr(&e),
        "IncompleteReadError('2 bytes read on a total of 5 expected bytes')"
    );
}

#[test]
fn data_and_eof_in_one_event_are_both_read() {
    // The last bytes and the FIN arrive before the stream's first poll, so one event reports
    // both; the short read of the bytes must not make the stream miss the EOF that follows.
    tulip::run(|co| {
        let lp = get_running_loop()?;
        let (a, mut b) = UnixStream::pair()?;
        b.write_all(b"last words")?;
        b.shutdown(std::net::Shutdown::Write)?;
        let (r, _w) = wrap_stream(&lp, a, 1 << 16)?;
        // A missed EOF would hang: fail with TimeoutError instead.
        let got = tulip::timeout(co, Some(Duration::from_secs(5)), |co, _| r.read_all(co))?;
        assert_eq!(got, b"last words");
        assert!(r.at_eof());
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_streams_socket_is_not_the_users_to_watch() {
    // asyncio's `_ensure_fd_no_transport`: add_reader and sock_recv on a transport's socket
    // are refused, and remove_reader leaves the transport's wake-ups alone.
    tulip::run(|co| {
        let lp = get_running_loop()?;
        let (a, mut b) = UnixStream::pair()?;
        let fd = a.as_raw_fd();
        let (r, _w) = wrap_stream(&lp, a, 1 << 16)?;
        let e = lp.add_reader(fd, || ()).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("File descriptor {fd} is used by transport <Transport fd={fd}>")
        );
        assert!(!lp.remove_reader(fd));
        // SAFETY: the stream owns `fd` and keeps it open until the end of this block.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        assert!(sock_recv(co, &borrowed, 1).is_err());
        b.write_all(b"x")?;
        assert_eq!(r.read(co, 10)?, b"x");
        Ok(())
    })
    .unwrap();
}
