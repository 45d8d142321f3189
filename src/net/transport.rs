//! A connection's transport (asyncio's `_SelectorSocketTransport`): it reads its socket into
//! a [`StreamReader`] and writes what a [`StreamWriter`] gives it, with flow control both ways.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::task::Waker;

use anyhow::Result;

use super::reader::{ReaderCore, StreamReader};
use super::streams::{DEFAULT_HIGH_WATER, MAX_READ};
use super::tls::TlsSession;
use super::writer::StreamWriter;
use crate::errors::{NotImplementedError, OsError, RuntimeError, SharedError, ValueError};
use crate::event_loop::EventLoop;
use crate::futures::Future;
use crate::net::reader::Buf;
use crate::net::sockets::would_block;
use crate::sys;

/// A connection: asyncio's `_SelectorSocketTransport` with its `StreamReaderProtocol`.
pub(crate) struct Transport {
    pub(crate) lp: EventLoop,
    pub(crate) fd: RawFd,
    /// The socket; `None` once closed.
    pub(crate) sock: RefCell<Option<OwnedFd>>,
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) local: Option<SocketAddr>,
    pub(crate) reader: Rc<ReaderCore>,
    /// Whether the socket is registered with the loop (as an owned source).
    registered: Cell<bool>,
    /// Whether we want our reader callback called when the socket is readable.
    reading: Cell<bool>,
    /// Reading paused by the reader (buffer over 2 * limit).
    read_paused: Cell<bool>,
    pub(crate) wbuf: RefCell<Buf>,
    /// Whether we want our writer callback called when the socket is writable.
    writing: Cell<bool>,
    pub(crate) high: Cell<usize>,
    pub(crate) low: Cell<usize>,
    /// The write buffer went over the high-water mark: `drain()` waits.
    pub(crate) write_paused: Cell<bool>,
    pub(crate) drain_waiters: RefCell<Vec<Future<()>>>,
    pub(crate) closing: Cell<bool>,
    /// `write_eof()` was called.
    pub(crate) eof: Cell<bool>,
    /// asyncio's `_conn_lost`: non-zero once the connection is going away.
    pub(crate) conn_lost: Cell<u32>,
    /// The protocol's `_connection_lost`: `connection_lost` has run.
    pub(crate) lost: Cell<bool>,
    /// Resolved when the connection is closed: `wait_closed()`.
    pub(crate) closed: Future<()>,
    /// Run once the connection is closed (the server's bookkeeping).
    on_lost: RefCell<Option<Box<dyn FnOnce()>>>,
    /// Whether `tls` is set: one flag test keeps plain connections off the TLS paths.
    pub(crate) is_tls: Cell<bool>,
    /// The TLS session once `start_tls` (or a TLS open) put one on the connection.
    pub(crate) tls: RefCell<Option<Box<TlsSession>>>,
    /// The waker of a poll-based writer (`AsyncWrite`) waiting for the buffer to drain.
    pub(crate) write_waker: RefCell<Option<Waker>>,
}

/// What makes the reader/writer pair own the connection: dropping the last one closes it.
pub(crate) struct Owner(Rc<Transport>);

impl Drop for Owner {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// A socket streams can run on: TCP or Unix stream sockets.
pub trait StreamSocket: Into<OwnedFd> + AsRawFd {
    /// The peer's and the local address, when they are IP addresses.
    fn addrs(&self) -> (Option<SocketAddr>, Option<SocketAddr>);
}

impl StreamSocket for TcpStream {
    fn addrs(&self) -> (Option<SocketAddr>, Option<SocketAddr>) {
        (self.peer_addr().ok(), self.local_addr().ok())
    }
}

impl StreamSocket for UnixStream {
    fn addrs(&self) -> (Option<SocketAddr>, Option<SocketAddr>) {
        (None, None)
    }
}

impl Transport {
    /// Wraps a connected socket and starts reading.
    pub(crate) fn open(
        lp: &EventLoop,
        sock: impl StreamSocket,
        limit: usize,
        on_lost: Option<Box<dyn FnOnce()>>,
    ) -> Result<(StreamReader, StreamWriter)> {
        if limit == 0 {
            return Err(ValueError::new("Limit cannot be <= 0").into());
        }
        let (peer, local) = sock.addrs();
        let fd = sock.as_raw_fd();
        let reader = StreamReader::make(lp, limit);
        let t = Rc::new(Transport {
            lp: lp.clone(),
            fd,
            sock: RefCell::new(Some(sock.into())),
            peer,
            local,
            reader: reader.core.clone(),
            registered: Cell::new(false),
            reading: Cell::new(false),
            read_paused: Cell::new(false),
            wbuf: RefCell::default(),
            writing: Cell::new(false),
            high: Cell::new(DEFAULT_HIGH_WATER),
            low: Cell::new(DEFAULT_HIGH_WATER / 4),
            write_paused: Cell::new(false),
            drain_waiters: RefCell::default(),
            closing: Cell::new(false),
            eof: Cell::new(false),
            conn_lost: Cell::new(0),
            lost: Cell::new(false),
            closed: lp.create_future(),
            on_lost: RefCell::new(on_lost),
            is_tls: Cell::new(false),
            tls: RefCell::new(None),
            write_waker: RefCell::new(None),
        });
        *reader.core.transport.borrow_mut() = Rc::downgrade(&t);
        // The callbacks hold the transport until it deregisters (connection_lost, or the
        // loop's close drops them).
        let (tr, tw) = (t.clone(), t.clone());
        lp.register_source(fd, move || tr.read_ready(), move || tw.write_ready())?;
        t.registered.set(true);
        t.start_reading();
        let owner = Rc::new(Owner(t.clone()));
        let reader = StreamReader {
            core: reader.core,
            _owner: Some(owner.clone()),
        };
        let writer = StreamWriter { t, _owner: owner };
        Ok((reader, writer))
    }

    pub(crate) fn start_reading(&self) {
        if !self.reading.replace(true) {
            self.lp.want_source(self.fd, true, true);
        }
    }

    pub(crate) fn stop_reading(&self) {
        if self.reading.replace(false) {
            self.lp.want_source(self.fd, true, false);
        }
    }

    fn start_writing(&self) {
        if !self.writing.replace(true) {
            self.lp.want_source(self.fd, false, true);
        }
    }

    fn stop_writing(&self) {
        if self.writing.replace(false) {
            self.lp.want_source(self.fd, false, false);
        }
    }

    /// Deregisters the socket (before it closes); drops the callbacks that hold us.
    fn deregister(&self) {
        self.stop_reading();
        self.stop_writing();
        if self.registered.replace(false) {
            self.lp.deregister_source(self.fd);
        }
    }

    pub(crate) fn pause_reading(&self) {
        if self.closing.get() || self.read_paused.replace(true) {
            return;
        }
        self.stop_reading();
    }

    pub(crate) fn resume_reading(self: &Rc<Self>) {
        if self.closing.get() || !self.read_paused.replace(false) {
            return;
        }
        self.start_reading();
    }

    /// The reader callback: one `recv` into the reader's buffer. Called in each iteration
    /// while reading is wanted and the socket is cached readable.
    fn read_ready(self: &Rc<Self>) {
        if self.is_tls.get() {
            return self.tls_read_ready();
        }
        if self.conn_lost.get() > 0 {
            // Never called again for nothing (it would keep the loop spinning).
            self.stop_reading();
            return;
        }
        let r = self.reader.buf.borrow_mut().recv(self.fd, MAX_READ);
        match r {
            // EOF: asyncio's StreamReaderProtocol keeps the transport open (half-closed) so
            // that the writer may still send.
            Ok(0) => {
                self.stop_reading();
                self.reader.feed_eof();
            }
            Ok(n) => {
                // A short read drained the kernel buffer: wait for the next edge rather than
                // pay an `EAGAIN` recv to learn it.
                if n < MAX_READ {
                    self.lp.clear_source(self.fd, true);
                }
                self.reader.data_arrived();
            }
            Err(e) if would_block(&e) => self.lp.clear_source(self.fd, true),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => self.force_close(Some(SharedError::new(OsError::from_io(&e).into()))),
        }
    }

    pub(crate) fn write(self: &Rc<Self>, data: &[u8]) -> Result<()> {
        if self.eof.get() {
            return Err(RuntimeError::new("Cannot call write() after write_eof()").into());
        }
        if data.is_empty() {
            return Ok(());
        }
        if self.is_tls.get() {
            return self.tls_write(data);
        }
        self.write_raw(data);
        Ok(())
    }

    /// Sends bytes as they are (a TLS session's records, or a plain connection's data): at
    /// once if the buffer is empty and the socket takes them, else buffered.
    pub(crate) fn write_raw(self: &Rc<Self>, data: &[u8]) {
        if self.conn_lost.get() > 0 {
            // As asyncio: the data is dropped; drain() reports the lost connection.
            self.conn_lost.set(self.conn_lost.get().saturating_add(1));
            return;
        }
        let mut data = data;
        if self.wbuf.borrow().is_empty() {
            match sys::send_nonblocking(self.fd, data) {
                Ok(n) => {
                    data = &data[n..];
                    if data.is_empty() {
                        return;
                    }
                    // A short write filled the kernel buffer.
                    self.lp.clear_source(self.fd, false);
                }
                Err(e) if would_block(&e) => self.lp.clear_source(self.fd, false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.force_close(Some(SharedError::new(OsError::from_io(&e).into())));
                    return;
                }
            }
            self.start_writing();
        }
        self.wbuf.borrow_mut().extend(data);
        if self.wbuf.borrow().len() > self.high.get() {
            self.write_paused.set(true);
        }
    }

    /// The writer callback: sends what is buffered. Called in each iteration while writing
    /// is wanted and the socket is cached writable.
    fn write_ready(self: &Rc<Self>) {
        if self.conn_lost.get() > 0 {
            self.stop_writing();
            return;
        }
        let r = sys::send_nonblocking(self.fd, self.wbuf.borrow().bytes());
        match r {
            Err(e) if would_block(&e) => self.lp.clear_source(self.fd, false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                self.stop_writing();
                self.wbuf.borrow_mut().clear();
                self.force_close(Some(SharedError::new(OsError::from_io(&e).into())));
            }
            Ok(n) => {
                if n < self.wbuf.borrow().len() {
                    // A short write filled the kernel buffer.
                    self.lp.clear_source(self.fd, false);
                }
                self.wbuf.borrow_mut().consume(n);
                self.maybe_resume_writing();
                if self.wbuf.borrow().is_empty() {
                    // A poll_flush waits for this.
                    self.wake_writer();
                    self.stop_writing();
                    if self.closing.get() {
                        self.connection_lost(None);
                    } else if self.eof.get() {
                        let _ = self.shutdown_write();
                    }
                }
            }
        }
    }

    pub(crate) fn maybe_resume_writing(&self) {
        if self.write_paused.get() && self.wbuf.borrow().len() <= self.low.get() {
            self.write_paused.set(false);
            let waiters = self.drain_waiters.borrow().clone();
            for w in waiters {
                if !w.done() {
                    let _ = w.set_result(());
                }
            }
            self.wake_writer();
        }
    }

    /// Wakes a poll-based writer, if one waits (taken out first: waking runs no user code
    /// under our borrow).
    pub(crate) fn wake_writer(&self) {
        let waker = self.write_waker.borrow_mut().take();
        if let Some(w) = waker {
            w.wake();
        }
    }

    pub(crate) fn shutdown_write(&self) -> Result<()> {
        // Our socket is still open: callers check.
        sys::shutdown_write(self.fd).map_err(|e| OsError::from_io(&e))?;
        Ok(())
    }

    pub(crate) fn write_eof(&self) -> Result<()> {
        if self.is_tls.get() {
            // As asyncio's SSL transport: TLS has no half-close.
            return Err(NotImplementedError::new("").into());
        }
        if self.closing.get() || self.eof.replace(true) {
            return Ok(());
        }
        if self.wbuf.borrow().is_empty() && self.sock.borrow().is_some() {
            self.shutdown_write()?;
        }
        Ok(())
    }

    /// asyncio's `transport.close()`: stop reading, send what is buffered, then close.
    pub(crate) fn close(self: &Rc<Self>) {
        if self.closing.get() {
            return;
        }
        if self.is_tls.get() {
            // close_notify goes out before the buffered data is flushed and the socket closes.
            self.tls_close_notify();
        }
        if self.closing.replace(true) {
            return;
        }
        self.stop_reading();
        if self.wbuf.borrow().is_empty() {
            self.conn_lost.set(self.conn_lost.get() + 1);
            self.stop_writing();
            self.schedule_connection_lost(None);
        }
    }

    /// asyncio's `_force_close(exc)`: drop the write buffer and close at once.
    pub(crate) fn force_close(self: &Rc<Self>, exc: Option<SharedError>) {
        if self.conn_lost.get() > 0 {
            return;
        }
        if !self.wbuf.borrow().is_empty() {
            self.wbuf.borrow_mut().clear();
            self.stop_writing();
        }
        if !self.closing.replace(true) {
            self.stop_reading();
        }
        self.conn_lost.set(self.conn_lost.get() + 1);
        self.schedule_connection_lost(exc);
    }

    fn schedule_connection_lost(self: &Rc<Self>, exc: Option<SharedError>) {
        if self.lp.is_closed() {
            self.connection_lost(exc);
            return;
        }
        let t = self.clone();
        let _ = self.lp.schedule(move || t.connection_lost(exc));
    }

    /// asyncio's `_call_connection_lost(exc)`: tells the reader, the closed future and the
    /// drain waiters, then closes the socket.
    fn connection_lost(&self, exc: Option<SharedError>) {
        if self.sock.borrow().is_none() {
            return;
        }
        match &exc {
            None => self.reader.feed_eof(),
            Some(e) => self.reader.set_exception(e.clone()),
        }
        if !self.closed.done() {
            match &exc {
                None => {
                    let _ = self.closed.set_result(());
                }
                Some(e) => {
                    let _ = self.closed.set_exception(e.to_error());
                    // Marked retrieved, as asyncio does: nobody has to call wait_closed().
                    let _ = self.closed.exception();
                }
            }
        }
        self.lost.set(true);
        if self.is_tls.get() {
            self.tls_connection_lost(exc.as_ref());
        }
        self.wake_writer();
        if self.write_paused.get() {
            let waiters = self.drain_waiters.borrow().clone();
            for w in waiters {
                if !w.done() {
                    let _ = match &exc {
                        None => w.set_result(()),
                        Some(e) => w.set_exception(e.to_error()),
                    };
                }
            }
        }
        // Deregistered first: then the fd may close.
        self.deregister();
        drop(self.sock.borrow_mut().take());
        let on_lost = self.on_lost.borrow_mut().take();
        if let Some(f) = on_lost {
            f();
        }
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        // Only reached once no callback holds the transport (deregistered, or the loop closed
        // and dropped them); deregister before the fd closes all the same.
        self.deregister();
        drop(self.sock.get_mut().take());
        if let Some(f) = self.on_lost.get_mut().take() {
            f();
        }
    }
}
