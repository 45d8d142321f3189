//! Streams as the ecosystem's byte streams (layer 8): `futures-io`'s `AsyncRead` and
//! `AsyncWrite` for [`StreamReader`] and [`StreamWriter`] (and tokio's, with the `tokio-io`
//! feature), so that futures-based protocol crates run on tulip's connections inside
//! [`TaskCo::wait_std`](crate::TaskCo::wait_std).
//!
//! # How a poll maps onto the loop
//!
//! A poll never waits: it takes what is buffered. When there is nothing to take (no data
//! for `poll_read`, a write buffer over the high-water mark for `poll_write`, bytes not yet
//! sent for `poll_flush`), it leaves the context's waker in the reader's or the transport's
//! one waker slot and returns `Pending`. The transport wakes that waker where it would
//! resolve the future of a task waiting in `read()` or `drain()`: data, EOF or an error
//! arrived, the buffer fell to the low-water mark, the buffer emptied, the connection was
//! lost. Inside `wait_std` the waker is the task's own: a wake on the loop's thread costs no
//! syscall, and the task polls again in a later iteration. An empty slot costs the
//! transport one test.
//!
//! Each side has one slot, as asyncio's reader has one waiter: two tasks polling the same
//! reader at once wake only the last one that polled.
//!
//! # What the calls mean
//!
//! - `poll_read`: up to `buf.len()` bytes from the reader's buffer; `Ok(0)` at EOF; the
//!   connection's error as an `io::Error` (an [`OsError`] keeps its errno and kind).
//! - `poll_write`: the bytes are taken whole (sent now or buffered, as
//!   [`StreamWriter::write`]) unless the buffer is over the high-water mark, which is
//!   `Pending` until `drain()` would return: the same flow control. A lost connection is
//!   `BrokenPipe` (asyncio would drop the data silently; a poll-based writer needs to know).
//! - `poll_flush`: `Ready` once everything written reached the kernel.
//! - `poll_close` (tokio: `poll_shutdown`): flushes, then shuts the sending side down, as
//!   [`StreamWriter::write_eof`] (on TLS: `close_notify`, then the shutdown, as
//!   tokio-rustls). It does not close the connection: dropping the reader and the writer
//!   does, or [`StreamWriter::close`].
//!
//! [`StreamPair`] joins a reader and a writer into one value with both traits, for crates
//! that want a single duplex stream (a codec's `Framed`, `AsyncReadExt::split`).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::reader::StreamReader;
use super::writer::StreamWriter;
use crate::errors::{ErrorExt, OsError};
#[cfg(doc)]
use crate::net::tls::SslError;

/// An error of the connection as an `io::Error`: an [`OsError`] (errno and kind kept) or a
/// TLS error ([`SslError`], `InvalidData`); anything else as `Other`, carrying it.
fn to_io(e: anyhow::Error) -> io::Error {
    if let Some(os) = e.exc::<OsError>() {
        return io::Error::from(os.clone());
    }
    if let Some(ssl) = e.exc::<super::tls::SslError>() {
        return io::Error::from(ssl.clone());
    }
    io::Error::other(Box::<dyn std::error::Error + Send + Sync>::from(e))
}

/// Keeps `cx`'s waker in `slot` (reusing the one there when it wakes the same task).
fn park(slot: &std::cell::RefCell<Option<Waker>>, cx: &Context<'_>) {
    let mut s = slot.borrow_mut();
    match &*s {
        Some(w) if w.will_wake(cx.waker()) => {}
        _ => *s = Some(cx.waker().clone()),
    }
}

fn lost() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "Connection lost")
}

impl StreamReader {
    /// `AsyncRead::poll_read`, shared by the futures and tokio traits.
    fn poll_read_into(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let c = &*self.core;
        if let Err(e) = c.check_exception() {
            return Poll::Ready(Err(to_io(e)));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let n = {
            let mut b = c.buf.borrow_mut();
            let n = b.len().min(buf.len());
            buf[..n].copy_from_slice(&b.bytes()[..n]);
            b.consume(n);
            n
        };
        if n > 0 {
            c.maybe_resume_transport();
            return Poll::Ready(Ok(n));
        }
        if c.is_eof() {
            return Poll::Ready(Ok(0));
        }
        // Waiting while paused would never end.
        c.unpause();
        park(&c.std_waker, cx);
        Poll::Pending
    }
}

impl StreamWriter {
    fn poll_write_from(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let t = &self.t;
        if let Err(e) = t.reader.check_exception() {
            return Poll::Ready(Err(to_io(e)));
        }
        if t.conn_lost.get() > 0 || t.lost.get() {
            return Poll::Ready(Err(lost()));
        }
        if t.write_paused.get() {
            park(&t.write_waker, cx);
            return Poll::Pending;
        }
        match t.write(buf) {
            Ok(()) => Poll::Ready(Ok(buf.len())),
            Err(e) => Poll::Ready(Err(to_io(e))),
        }
    }

    fn poll_flush_all(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let t = &self.t;
        if t.wbuf.borrow().is_empty() {
            return Poll::Ready(Ok(()));
        }
        if let Err(e) = t.reader.check_exception() {
            return Poll::Ready(Err(to_io(e)));
        }
        if t.conn_lost.get() > 0 || t.lost.get() {
            return Poll::Ready(Err(lost()));
        }
        park(&t.write_waker, cx);
        Poll::Pending
    }

    fn poll_shutdown_write(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let t = &self.t;
        if t.conn_lost.get() == 0 && !t.eof.get() && !t.closing.get() {
            if t.is_tls.get() {
                t.tls_shutdown();
            } else if let Err(e) = t.write_eof() {
                return Poll::Ready(Err(to_io(e)));
            }
        }
        if t.conn_lost.get() > 0 || t.closing.get() {
            return Poll::Ready(Ok(()));
        }
        self.poll_flush_all(cx)
    }
}

impl futures_io::AsyncRead for StreamReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_into(cx, buf)
    }
}

impl futures_io::AsyncWrite for StreamWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_from(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush_all(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.poll_flush_all(cx) {
            Poll::Ready(Ok(())) => self.poll_shutdown_write(cx),
            other => other,
        }
    }
}

/// A connection's reader and writer as one duplex byte stream: `AsyncRead` and `AsyncWrite`
/// both (futures-io's, and tokio's with the `tokio-io` feature). Made from the pair that
/// [`open_connection`](crate::open_connection) returns or a server's handler receives.
#[derive(Debug, Clone)]
pub struct StreamPair {
    /// The reading half.
    pub reader: StreamReader,
    /// The writing half.
    pub writer: StreamWriter,
}

impl StreamPair {
    /// Joins `reader` and `writer` (normally of the same connection).
    pub fn new(reader: StreamReader, writer: StreamWriter) -> StreamPair {
        StreamPair { reader, writer }
    }

    /// The halves back.
    pub fn into_inner(self) -> (StreamReader, StreamWriter) {
        (self.reader, self.writer)
    }
}

impl From<(StreamReader, StreamWriter)> for StreamPair {
    fn from((reader, writer): (StreamReader, StreamWriter)) -> Self {
        StreamPair { reader, writer }
    }
}

impl futures_io::AsyncRead for StreamPair {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.reader.poll_read_into(cx, buf)
    }
}

impl futures_io::AsyncWrite for StreamPair {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.writer.poll_write_from(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.writer.poll_flush_all(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().writer).poll_close(cx)
    }
}

#[cfg(feature = "tokio-io")]
mod tokio_impls {
    use super::*;
    use tokio::io::ReadBuf;

    fn read_buf(
        reader: &StreamReader,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let dst = buf.initialize_unfilled();
        match reader.poll_read_into(cx, dst) {
            Poll::Ready(Ok(n)) => {
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn shutdown(writer: &StreamWriter, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match writer.poll_flush_all(cx) {
            Poll::Ready(Ok(())) => writer.poll_shutdown_write(cx),
            other => other,
        }
    }

    impl tokio::io::AsyncRead for StreamReader {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            read_buf(&self, cx, buf)
        }
    }

    impl tokio::io::AsyncWrite for StreamWriter {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.poll_write_from(cx, buf)
        }

        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.poll_flush_all(cx)
        }

        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            shutdown(&self, cx)
        }
    }

    impl tokio::io::AsyncRead for StreamPair {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            read_buf(&self.reader, cx, buf)
        }
    }

    impl tokio::io::AsyncWrite for StreamPair {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.writer.poll_write_from(cx, buf)
        }

        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.writer.poll_flush_all(cx)
        }

        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            shutdown(&self.writer, cx)
        }
    }
}
