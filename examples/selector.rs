//! The talk's "Selector": call a reader when a socket has data.
//!
//! Run: `cargo run --example selector`. It prints `Received: b'abc'`.
//!
//! `add_reader(fd, f)` registers the fd with the loop's selector (epoll, through mio); the loop
//! calls `f` in each iteration where the fd is readable. Here the reader reads the bytes,
//! removes itself and stops the loop.
//! Python twin: `tests/python/selector.py`.
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::rc::Rc;

use tulip::{EventLoop, py_bytes_repr};

fn main() -> anyhow::Result<()> {
    let (rsock, mut wsock) = UnixStream::pair()?;
    rsock.set_nonblocking(true)?;
    let rsock = Rc::new(rsock);
    let lp = EventLoop::new()?;

    let (lp2, sock) = (lp.clone(), rsock.clone());
    lp.add_reader(&*rsock, move || {
        let mut buf = [0u8; 100];
        let n = (&*sock).read(&mut buf).expect("recv");
        println!("Received: {}", py_bytes_repr(&buf[..n]));
        lp2.remove_reader(&*sock);
        lp2.stop();
    })?;

    wsock.write_all(b"abc")?;
    lp.run_forever()?;
    lp.close()
}
