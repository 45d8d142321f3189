//! The loop's socket operations over a socketpair: `sock_sendall` and `sock_recv`, which try
//! the syscall first and wait for readiness only when it would block.
//!
//! Run: `cargo run --example sock_pair`. It prints `b received b'ping'`,
//! `a received b'pong'` and `b at EOF b''`. Python twin: `tests/python/sock_pair.py`.
use std::os::unix::net::UnixStream;

use tulip::{py_bytes_repr, sock_recv, sock_sendall};

fn main() -> anyhow::Result<()> {
    tulip::run(|co| {
        let (a, b) = UnixStream::pair()?;
        a.set_nonblocking(true)?;
        b.set_nonblocking(true)?;
        sock_sendall(co, &a, b"ping")?;
        println!("b received {}", py_bytes_repr(&sock_recv(co, &b, 100)?));
        sock_sendall(co, &b, b"pong")?;
        println!("a received {}", py_bytes_repr(&sock_recv(co, &a, 100)?));
        drop(a); // Python's a.close()
        println!("b at EOF {}", py_bytes_repr(&sock_recv(co, &b, 100)?));
        Ok(())
    })
}
