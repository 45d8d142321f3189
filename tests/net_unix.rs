//! Streams over Unix sockets: `open_unix_connection` and `start_unix_server` with asyncio
//! 3.11's behaviour (a socket file at the path is replaced, the file stays after close) and
//! its errors (`FileNotFoundError`, `ConnectionRefusedError`, `Address ... is already in use`).

use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use tulip::{
    ErrorExt, OsError, StreamReader, StreamWriter, TaskCo, open_unix_connection, start_unix_server,
};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("tulip-unix-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

mod common;
use common::echo;

fn os_error(e: &anyhow::Error) -> (&'static str, String) {
    let os = e
        .exc::<OsError>()
        .unwrap_or_else(|| panic!("not an OSError: {e:?}"));
    (os.py_name(), os.to_string())
}

fn is_socket(p: &std::path::Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.file_type().is_socket())
}

#[test]
fn echo_over_a_unix_socket() {
    let dir = TempDir::new();
    let path = dir.path("echo.sock");
    tulip::run(move |co| {
        let server = start_unix_server(co, echo, &path)?;
        assert_eq!(server.unix_path().as_deref(), Some(path.as_path()));
        assert!(server.local_addrs().is_empty());
        assert_eq!(
            format!("{server:?}"),
            format!("<Server sockets=({})>", path.display())
        );
        for round in 0..3 {
            let (r, w) = open_unix_connection(co, &path)?;
            assert_eq!(w.peer_addr(), None);
            let msg = format!("hello {round}\n").repeat(1000);
            w.write(msg.as_bytes())?;
            w.drain(co)?;
            w.write_eof()?;
            assert_eq!(r.read_all(co)?, msg.as_bytes());
            w.close();
        }
        server.close();
        server.wait_closed(co)?;
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_socket_file_at_the_path_is_replaced() {
    let dir = TempDir::new();
    let path = dir.path("stale.sock");
    // A stale socket file: bound, never listened on by anyone alive.
    drop(UnixListener::bind(&path).unwrap());
    assert!(is_socket(&path));
    tulip::run(move |co| {
        // Nobody listens there yet.
        let e = open_unix_connection(co, &path).unwrap_err();
        assert_eq!(
            os_error(&e),
            (
                "ConnectionRefusedError",
                "[Errno 111] Connection refused".to_string()
            )
        );
        let first = start_unix_server(co, echo, &path)?;
        let (r, w) = open_unix_connection(co, &path)?;
        w.write(b"ping")?;
        assert_eq!(r.read(co, 4)?, b"ping");
        // asyncio 3.11 replaces a socket file in use too: new connections go to the new one.
        let second = start_unix_server(
            co,
            |co: &TaskCo, r: StreamReader, w: StreamWriter| {
                let data = r.read(co, 100)?;
                w.write(&[b"second: ", &data[..]].concat())?;
                w.drain(co)
            },
            &path,
        )?;
        let (r2, w2) = open_unix_connection(co, &path)?;
        w2.write(b"x")?;
        assert_eq!(r2.read(co, 100)?, b"second: x");
        // The first server's connection still works.
        w.write(b"pong")?;
        assert_eq!(r.read(co, 4)?, b"pong");
        drop((r, w, r2, w2));
        first.close();
        second.close();
        Ok(())
    })
    .unwrap();
}

#[test]
fn another_kind_of_file_is_in_the_way() {
    let dir = TempDir::new();
    let file = dir.path("regular");
    std::fs::write(&file, b"data").unwrap();
    let missing_dir = dir.path("nodir").join("x.sock");
    tulip::run(move |co| {
        let e = start_unix_server(co, echo, &file).unwrap_err();
        assert_eq!(
            os_error(&e),
            (
                "OSError",
                format!("[Errno 98] Address '{}' is already in use", file.display())
            )
        );
        assert_eq!(std::fs::read(&file)?, b"data");
        let e = start_unix_server(co, echo, &missing_dir).unwrap_err();
        assert_eq!(
            os_error(&e),
            (
                "FileNotFoundError",
                "[Errno 2] No such file or directory".to_string()
            )
        );
        Ok(())
    })
    .unwrap();
}

#[test]
fn connecting_to_nothing() {
    let dir = TempDir::new();
    let missing = dir.path("missing.sock");
    let dir_path = dir.0.clone();
    tulip::run(move |co| {
        let e = open_unix_connection(co, &missing).unwrap_err();
        assert_eq!(
            os_error(&e),
            (
                "FileNotFoundError",
                "[Errno 2] No such file or directory".to_string()
            )
        );
        // A directory is no listener either (what Python reports too).
        let e = open_unix_connection(co, &dir_path).unwrap_err();
        assert_eq!(os_error(&e).0, "ConnectionRefusedError");
        Ok(())
    })
    .unwrap();
}

#[test]
fn closing_leaves_the_socket_file() {
    let dir = TempDir::new();
    let path = dir.path("kept.sock");
    tulip::run(move |co| {
        let server = start_unix_server(co, echo, &path)?;
        let (r, w) = open_unix_connection(co, &path)?;
        // Accepted before the close (a connection still in the backlog would be reset).
        w.write(b"first")?;
        assert_eq!(r.read(co, 5)?, b"first");
        server.close();
        assert!(!server.is_serving());
        assert_eq!(server.unix_path(), None);
        // As asyncio 3.11: the file stays, and nobody listens on it.
        assert!(is_socket(&path));
        let e = open_unix_connection(co, &path).unwrap_err();
        assert_eq!(os_error(&e).0, "ConnectionRefusedError");
        // The open connection still echoes; wait_closed waits for it.
        w.write(b"still")?;
        assert_eq!(r.read(co, 5)?, b"still");
        drop((r, w));
        server.wait_closed(co)?;
        assert_eq!(server.active_connections(), 0);
        // The path can be served again.
        let again = start_unix_server(co, echo, &path)?;
        let (r, w) = open_unix_connection(co, &path)?;
        w.write(b"again")?;
        assert_eq!(r.read(co, 5)?, b"again");
        again.close();
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_full_backlog_is_waited_out() {
    let dir = TempDir::new();
    let path = dir.path("busy.sock");
    tulip::run(move |co| {
        let opts = tulip::ServerOptions {
            backlog: 1,
            ..Default::default()
        };
        let server = tulip::start_unix_server_with(co, echo, &path, opts)?;
        // Connected back to back, without the loop running in between: the backlog fills,
        // connect says EAGAIN, and the connection is tried again once the server accepted.
        let mut conns = Vec::new();
        for _ in 0..10 {
            conns.push(open_unix_connection(co, &path)?);
        }
        for (i, (r, w)) in conns.iter().enumerate() {
            w.write(format!("{i}").as_bytes())?;
            assert_eq!(r.read(co, 10)?, format!("{i}").as_bytes());
        }
        drop(conns);
        server.close();
        server.wait_closed(co)?;
        Ok(())
    })
    .unwrap();
}
