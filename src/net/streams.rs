//! Streams (layer 8): asyncio's `open_connection`, `start_server`, `StreamReader`,
//! `StreamWriter` and `Server`, on the loop's readers and writers.
//!
//! The machinery is asyncio's own, in one file: a connection is a *transport* (asyncio's
//! `_SelectorSocketTransport`) that reads its socket when it is readable and feeds what it
//! receives to a [`StreamReader`] (pausing when more than twice the limit is buffered), and
//! that sends what a [`StreamWriter`] writes at once when it can, buffering the rest until the
//! socket is writable.
//!
//! The transport owns its socket, so unlike asyncio's `add_reader` it registers the socket
//! once, for both directions, edge-triggered with cached readiness (the selector's "owned
//! sources"): pausing, resuming, starting and stopping to write are flag changes, and no
//! `epoll_ctl` is made per read or write. The readiness is cleared when `recv`/`send` says
//! `EAGAIN`, or when a read or write is short (the kernel buffer was drained or filled, as
//! tokio does); the socket is deregistered before it closes. `drain()` waits while the write buffer is above the high-water mark, and
//! the connection closes through `connection_lost`, scheduled with `call_soon`, as in asyncio.
//!
//! Ownership is Rust's: a [`StreamReader`] and [`StreamWriter`] pair (and their clones) own the
//! connection; when the last of them is dropped the connection is closed as by
//! `writer.close()` (buffered data is still sent first). A server's handler receives the pair
//! by value, so a handler that returns closes its connection.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;
use std::mem::MaybeUninit;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::rc::{Rc, Weak};
use std::time::Duration;

use anyhow::Result;

use crate::errors::{CancelledError, ErrorExt, PyException, RuntimeError, SharedError, ValueError};
use crate::event_loop::{EventLoop, ExceptionContext, get_running_loop};
use crate::futures::Future;
use crate::net::sockets::{
    OsError, py_addr, recv_raw, send_raw, sock_connect, tcp_listener, would_block,
};
use crate::tasks::TaskCo;

/// asyncio's default `limit` of a `StreamReader`: 2**16 bytes.
pub const DEFAULT_LIMIT: usize = 1 << 16;

/// The most a transport reads in one `recv`.
const MAX_READ: usize = 1 << 16;

/// asyncio's default high-water mark of a transport's write buffer (the low one is a quarter).
const DEFAULT_HIGH_WATER: usize = 1 << 16;

/// asyncio's `IncompleteReadError`: EOF came before `readexactly(n)` or `readuntil(sep)` was
/// satisfied. `partial` holds the bytes read before EOF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncompleteReadError {
    /// The bytes read before EOF.
    pub partial: Vec<u8>,
    /// How many bytes were expected (`None` for `readuntil`: Python's "undefined").
    pub expected: Option<usize>,
    msg: String,
}

impl IncompleteReadError {
    /// `IncompleteReadError(partial, expected)`.
    pub fn new(partial: Vec<u8>, expected: Option<usize>) -> Self {
        crate::errors::register_py_exception::<IncompleteReadError>();
        let total = expected.map_or_else(|| "undefined".to_string(), |n| n.to_string());
        let msg = format!(
            "{} bytes read on a total of {total} expected bytes",
            partial.len()
        );
        IncompleteReadError {
            partial,
            expected,
            msg,
        }
    }
}

impl fmt::Display for IncompleteReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for IncompleteReadError {}

impl PyException for IncompleteReadError {
    fn py_name(&self) -> &str {
        "IncompleteReadError"
    }
    fn py_arg(&self) -> Option<&str> {
        Some(&self.msg)
    }
}

/// asyncio's `LimitOverrunError`: `readuntil` found no separator within the limit.
/// `consumed` is how many bytes a caller should skip to get past the chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitOverrunError {
    msg: String,
    /// How many bytes are to be consumed (Python's `consumed`).
    pub consumed: usize,
}

impl LimitOverrunError {
    /// `LimitOverrunError(message, consumed)`.
    pub fn new(msg: impl Into<String>, consumed: usize) -> Self {
        crate::errors::register_py_exception::<LimitOverrunError>();
        LimitOverrunError {
            msg: msg.into(),
            consumed,
        }
    }
}

impl fmt::Display for LimitOverrunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for LimitOverrunError {}

impl PyException for LimitOverrunError {
    fn py_name(&self) -> &str {
        "LimitOverrunError"
    }
    fn py_arg(&self) -> Option<&str> {
        Some(&self.msg)
    }
}

/// A byte buffer consumed from the front: a Vec and a start offset, so that many small reads
/// from a large buffer do not move the rest each time (Python's `del buf[:n]` does).
#[derive(Default)]
struct Buf {
    data: Vec<u8>,
    start: usize,
}

impl Buf {
    fn len(&self) -> usize {
        self.data.len() - self.start
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn bytes(&self) -> &[u8] {
        &self.data[self.start..]
    }

    /// Moves the live bytes to the front once the dead prefix is at least half the buffer.
    fn compact(&mut self) {
        if self.start > 0 && self.start >= self.data.len() / 2 {
            self.data.drain(..self.start);
            self.start = 0;
        }
    }

    fn extend(&mut self, bytes: &[u8]) {
        self.compact();
        self.data.extend_from_slice(bytes);
    }

    fn consume(&mut self, n: usize) {
        self.start += n.min(self.len());
        if self.start == self.data.len() {
            self.data.clear();
            self.start = 0;
        }
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.len());
        let out = self.bytes()[..n].to_vec();
        self.consume(n);
        out
    }

    fn take_all(&mut self) -> Vec<u8> {
        let out = if self.start == 0 {
            std::mem::take(&mut self.data)
        } else {
            self.bytes().to_vec()
        };
        self.clear();
        out
    }

    fn clear(&mut self) {
        self.data.clear();
        self.start = 0;
    }

    /// One `recv` of at most `max` bytes appended to the buffer.
    fn recv(&mut self, fd: RawFd, max: usize) -> io::Result<usize> {
        self.compact();
        self.data.reserve(max);
        let spare: &mut [MaybeUninit<u8>] = &mut self.data.spare_capacity_mut()[..max];
        let n = recv_raw(fd, spare)?;
        // SAFETY: recv initialised the first `n` bytes of the spare capacity.
        unsafe { self.data.set_len(self.data.len() + n) };
        Ok(n)
    }
}

/// The state of a [`StreamReader`], shared with the transport that feeds it.
struct ReaderCore {
    lp: EventLoop,
    limit: usize,
    buf: RefCell<Buf>,
    eof: Cell<bool>,
    /// The future of the one coroutine waiting for data.
    waiter: RefCell<Option<Future<()>>>,
    exception: RefCell<Option<SharedError>>,
    /// The transport feeding it, to pause and resume reading (weak: the transport owns us).
    transport: RefCell<Weak<Transport>>,
    /// Whether we paused the transport's reading because the buffer is over 2 * limit.
    paused: Cell<bool>,
}

impl ReaderCore {
    fn check_exception(&self) -> Result<()> {
        match &*self.exception.borrow() {
            Some(e) => Err(e.to_error()),
            None => Ok(()),
        }
    }

    /// Wakes the waiting coroutine, with `exc` if given.
    fn wakeup_waiter(&self, exc: Option<&SharedError>) {
        let waiter = self.waiter.borrow_mut().take();
        if let Some(w) = waiter
            && !w.done()
        {
            let _ = match exc {
                None => w.set_result(()),
                Some(e) => w.set_exception(e.to_error()),
            };
        }
    }

    /// After bytes were appended to the buffer.
    fn data_arrived(&self) {
        self.wakeup_waiter(None);
        if !self.paused.get()
            && self.buf.borrow().len() > 2 * self.limit
            && let Some(t) = self.transport.borrow().upgrade()
        {
            t.pause_reading();
            self.paused.set(true);
        }
    }

    fn feed_eof(&self) {
        self.eof.set(true);
        self.wakeup_waiter(None);
    }

    fn set_exception(&self, exc: SharedError) {
        *self.exception.borrow_mut() = Some(exc.clone());
        self.wakeup_waiter(Some(&exc));
    }

    fn maybe_resume_transport(&self) {
        if self.paused.get() && self.buf.borrow().len() <= self.limit {
            self.paused.set(false);
            if let Some(t) = self.transport.borrow().upgrade() {
                t.resume_reading();
            }
        }
    }

    /// asyncio's `_wait_for_data(func_name)`: waits until data, EOF or an error arrives.
    fn wait_for_data(&self, co: &TaskCo, func: &str) -> Result<()> {
        if self.waiter.borrow().is_some() {
            return Err(RuntimeError::new(format!(
                "{func}() called while another coroutine is already waiting for incoming data"
            ))
            .into());
        }
        // Waiting while paused would never end: resume first.
        if self.paused.replace(false)
            && let Some(t) = self.transport.borrow().upgrade()
        {
            t.resume_reading();
        }
        let fut = self.lp.create_future::<()>();
        *self.waiter.borrow_mut() = Some(fut.clone());
        let r = co.wait(&fut);
        let mut w = self.waiter.borrow_mut();
        if w.as_ref().is_some_and(|x| x.ptr_eq(&fut)) {
            *w = None;
        }
        r
    }
}

/// asyncio's `StreamReader`: bytes from a connection (or from [`StreamReader::feed_data`]),
/// read with `read`, `readline`, `readexactly` and `readuntil`. Only one coroutine may wait
/// for data at a time. Clones share one reader.
#[derive(Clone)]
pub struct StreamReader {
    core: Rc<ReaderCore>,
    /// Keeps the connection open (`None` for a reader fed by hand).
    _owner: Option<Rc<Owner>>,
}

impl StreamReader {
    /// `asyncio.StreamReader()`: a reader fed by hand, with the default limit (2**16).
    pub fn new(lp: &EventLoop) -> StreamReader {
        Self::make(lp, DEFAULT_LIMIT)
    }

    /// `asyncio.StreamReader(limit=limit)`; `ValueError('Limit cannot be <= 0')` for 0.
    pub fn with_limit(lp: &EventLoop, limit: usize) -> Result<StreamReader> {
        if limit == 0 {
            return Err(ValueError::new("Limit cannot be <= 0").into());
        }
        Ok(Self::make(lp, limit))
    }

    fn make(lp: &EventLoop, limit: usize) -> StreamReader {
        StreamReader {
            core: Rc::new(ReaderCore {
                lp: lp.clone(),
                limit,
                buf: RefCell::default(),
                eof: Cell::new(false),
                waiter: RefCell::new(None),
                exception: RefCell::new(None),
                transport: RefCell::new(Weak::new()),
                paused: Cell::new(false),
            }),
            _owner: None,
        }
    }

    /// The buffer limit.
    pub fn limit(&self) -> usize {
        self.core.limit
    }

    /// `feed_data(data)`: appends to the buffer and wakes the waiting coroutine.
    pub fn feed_data(&self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.core.buf.borrow_mut().extend(data);
        self.core.data_arrived();
    }

    /// `feed_eof()`: no more data will come.
    pub fn feed_eof(&self) {
        self.core.feed_eof();
    }

    /// `set_exception(exc)`: every later read raises `exc`; the waiting one too.
    pub fn set_exception(&self, exc: anyhow::Error) {
        self.core.set_exception(SharedError::new(exc));
    }

    /// `exception()`: the error set on the reader, if any.
    pub fn exception(&self) -> Option<anyhow::Error> {
        self.core
            .exception
            .borrow()
            .as_ref()
            .map(SharedError::to_error)
    }

    /// `at_eof()`: EOF was fed and the buffer is empty.
    pub fn at_eof(&self) -> bool {
        self.core.eof.get() && self.core.buf.borrow().is_empty()
    }

    /// A copy of the bytes buffered and not read yet (asyncio's `_buffer`, for tests).
    pub fn buffer(&self) -> Vec<u8> {
        self.core.buf.borrow().bytes().to_vec()
    }

    /// `await reader.read(n)`: up to `n` bytes, waiting only while the buffer is empty;
    /// empty at EOF (and for `n == 0`).
    pub fn read(&self, co: &TaskCo, n: usize) -> Result<Vec<u8>> {
        let c = &*self.core;
        c.check_exception()?;
        if n == 0 {
            return Ok(Vec::new());
        }
        if c.buf.borrow().is_empty() && !c.eof.get() {
            c.wait_for_data(co, "read")?;
        }
        let data = c.buf.borrow_mut().take(n);
        c.maybe_resume_transport();
        Ok(data)
    }

    /// `await reader.read(-1)` (or `read()`): everything up to EOF.
    pub fn read_all(&self, co: &TaskCo) -> Result<Vec<u8>> {
        self.core.check_exception()?;
        let mut out = Vec::new();
        loop {
            let block = self.read(co, self.core.limit)?;
            if block.is_empty() {
                return Ok(out);
            }
            out.extend_from_slice(&block);
        }
    }

    /// `await reader.readexactly(n)`: exactly `n` bytes; `IncompleteReadError` (holding what
    /// was read, which leaves the buffer) if EOF comes first.
    pub fn readexactly(&self, co: &TaskCo, n: usize) -> Result<Vec<u8>> {
        let c = &*self.core;
        c.check_exception()?;
        if n == 0 {
            return Ok(Vec::new());
        }
        while c.buf.borrow().len() < n {
            if c.eof.get() {
                let partial = c.buf.borrow_mut().take_all();
                return Err(IncompleteReadError::new(partial, Some(n)).into());
            }
            c.wait_for_data(co, "readexactly")?;
        }
        let data = c.buf.borrow_mut().take(n);
        c.maybe_resume_transport();
        Ok(data)
    }

    /// `await reader.readuntil(sep)`: the bytes up to and including `sep`.
    ///
    /// Errors as asyncio: `ValueError('Separator should be at least one-byte string')`;
    /// `IncompleteReadError` at EOF without `sep` (the partial bytes leave the buffer);
    /// `LimitOverrunError('Separator is not found, and chunk exceed the limit', consumed)` or
    /// `('Separator is found, but chunk is longer than limit', consumed)`, leaving the
    /// buffer as it was.
    pub fn readuntil(&self, co: &TaskCo, sep: &[u8]) -> Result<Vec<u8>> {
        let c = &*self.core;
        let seplen = sep.len();
        if seplen == 0 {
            return Err(ValueError::new("Separator should be at least one-byte string").into());
        }
        c.check_exception()?;
        // Where the next search starts: the bytes before it were searched already.
        let mut offset = 0;
        let isep = loop {
            let buflen = c.buf.borrow().len();
            if buflen >= offset + seplen {
                let found = find(&c.buf.borrow().bytes()[offset..], sep);
                if let Some(i) = found {
                    break offset + i;
                }
                offset = buflen + 1 - seplen;
                if offset > c.limit {
                    return Err(LimitOverrunError::new(
                        "Separator is not found, and chunk exceed the limit",
                        offset,
                    )
                    .into());
                }
            }
            if c.eof.get() {
                let partial = c.buf.borrow_mut().take_all();
                return Err(IncompleteReadError::new(partial, None).into());
            }
            c.wait_for_data(co, "readuntil")?;
        };
        if isep > c.limit {
            return Err(LimitOverrunError::new(
                "Separator is found, but chunk is longer than limit",
                isep,
            )
            .into());
        }
        let chunk = c.buf.borrow_mut().take(isep + seplen);
        c.maybe_resume_transport();
        Ok(chunk)
    }

    /// `await reader.readline()`: a line ending in `b'\n'`, or the partial last line at EOF
    /// (empty at EOF). A line over the limit is `ValueError` with the `LimitOverrunError`'s
    /// message, and is dropped from the buffer (up to its separator, or all of the buffer).
    pub fn readline(&self, co: &TaskCo) -> Result<Vec<u8>> {
        match self.readuntil(co, b"\n") {
            Ok(line) => Ok(line),
            Err(e) => {
                let e = match e.downcast::<IncompleteReadError>() {
                    Ok(incomplete) => return Ok(incomplete.partial),
                    Err(e) => e,
                };
                match e.downcast::<LimitOverrunError>() {
                    Ok(over) => {
                        let c = &*self.core;
                        {
                            let mut buf = c.buf.borrow_mut();
                            if buf.bytes()[over.consumed..].starts_with(b"\n") {
                                buf.consume(over.consumed + 1);
                            } else {
                                buf.clear();
                            }
                        }
                        c.maybe_resume_transport();
                        Err(ValueError::new(over.msg).into())
                    }
                    Err(e) => Err(e),
                }
            }
        }
    }
}

impl fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &*self.core;
        let mut info = vec!["StreamReader".to_string()];
        let n = c.buf.borrow().len();
        if n > 0 {
            info.push(format!("{n} bytes"));
        }
        if c.eof.get() {
            info.push("eof".to_string());
        }
        if c.limit != DEFAULT_LIMIT {
            info.push(format!("limit={}", c.limit));
        }
        write!(f, "<{}>", info.join(" "))
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() == 1 {
        return hay.iter().position(|&b| b == needle[0]);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A connection: asyncio's `_SelectorSocketTransport` with its `StreamReaderProtocol`.
struct Transport {
    lp: EventLoop,
    fd: RawFd,
    /// The socket; `None` once closed.
    sock: RefCell<Option<OwnedFd>>,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
    reader: Rc<ReaderCore>,
    /// Whether the socket is registered with the loop (as an owned source).
    registered: Cell<bool>,
    /// Whether we want our reader callback called when the socket is readable.
    reading: Cell<bool>,
    /// Reading paused by the reader (buffer over 2 * limit).
    read_paused: Cell<bool>,
    wbuf: RefCell<Buf>,
    /// Whether we want our writer callback called when the socket is writable.
    writing: Cell<bool>,
    high: Cell<usize>,
    low: Cell<usize>,
    /// The write buffer went over the high-water mark: `drain()` waits.
    write_paused: Cell<bool>,
    drain_waiters: RefCell<Vec<Future<()>>>,
    closing: Cell<bool>,
    /// `write_eof()` was called.
    eof: Cell<bool>,
    /// asyncio's `_conn_lost`: non-zero once the connection is going away.
    conn_lost: Cell<u32>,
    /// The protocol's `_connection_lost`: `connection_lost` has run.
    lost: Cell<bool>,
    /// Resolved when the connection is closed: `wait_closed()`.
    closed: Future<()>,
    /// Run once the connection is closed (the server's bookkeeping).
    on_lost: RefCell<Option<Box<dyn FnOnce()>>>,
}

/// What makes the reader/writer pair own the connection: dropping the last one closes it.
struct Owner(Rc<Transport>);

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
    fn open(
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

    fn start_reading(&self) {
        if !self.reading.replace(true) {
            self.lp.want_source(self.fd, true, true);
        }
    }

    fn stop_reading(&self) {
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

    fn pause_reading(&self) {
        if self.closing.get() || self.read_paused.replace(true) {
            return;
        }
        self.stop_reading();
    }

    fn resume_reading(self: &Rc<Self>) {
        if self.closing.get() || !self.read_paused.replace(false) {
            return;
        }
        self.start_reading();
    }

    /// The reader callback: one `recv` into the reader's buffer. Called in each iteration
    /// while reading is wanted and the socket is cached readable.
    fn read_ready(self: &Rc<Self>) {
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

    fn write(self: &Rc<Self>, data: &[u8]) -> Result<()> {
        if self.eof.get() {
            return Err(RuntimeError::new("Cannot call write() after write_eof()").into());
        }
        if data.is_empty() {
            return Ok(());
        }
        if self.conn_lost.get() > 0 {
            // As asyncio: the data is dropped; drain() reports the lost connection.
            self.conn_lost.set(self.conn_lost.get().saturating_add(1));
            return Ok(());
        }
        let mut data = data;
        if self.wbuf.borrow().is_empty() {
            match send_raw(self.fd, data) {
                Ok(n) => {
                    data = &data[n..];
                    if data.is_empty() {
                        return Ok(());
                    }
                    // A short write filled the kernel buffer.
                    self.lp.clear_source(self.fd, false);
                }
                Err(e) if would_block(&e) => self.lp.clear_source(self.fd, false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.force_close(Some(SharedError::new(OsError::from_io(&e).into())));
                    return Ok(());
                }
            }
            self.start_writing();
        }
        self.wbuf.borrow_mut().extend(data);
        if self.wbuf.borrow().len() > self.high.get() {
            self.write_paused.set(true);
        }
        Ok(())
    }

    /// The writer callback: sends what is buffered. Called in each iteration while writing
    /// is wanted and the socket is cached writable.
    fn write_ready(self: &Rc<Self>) {
        if self.conn_lost.get() > 0 {
            self.stop_writing();
            return;
        }
        let r = send_raw(self.fd, self.wbuf.borrow().bytes());
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

    fn maybe_resume_writing(&self) {
        if self.write_paused.get() && self.wbuf.borrow().len() <= self.low.get() {
            self.write_paused.set(false);
            let waiters = self.drain_waiters.borrow().clone();
            for w in waiters {
                if !w.done() {
                    let _ = w.set_result(());
                }
            }
        }
    }

    fn shutdown_write(&self) -> Result<()> {
        // SAFETY: plain syscall on our socket (still open: callers check).
        if unsafe { libc::shutdown(self.fd, libc::SHUT_WR) } < 0 {
            return Err(OsError::from_io(&io::Error::last_os_error()).into());
        }
        Ok(())
    }

    fn write_eof(&self) -> Result<()> {
        if self.closing.get() || self.eof.replace(true) {
            return Ok(());
        }
        if self.wbuf.borrow().is_empty() && self.sock.borrow().is_some() {
            self.shutdown_write()?;
        }
        Ok(())
    }

    /// asyncio's `transport.close()`: stop reading, send what is buffered, then close.
    fn close(self: &Rc<Self>) {
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
    fn force_close(self: &Rc<Self>, exc: Option<SharedError>) {
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

/// asyncio's `StreamWriter`: writes to a connection. `write` sends at once when it can and
/// buffers the rest; `drain` is the flow control. Clones share one writer.
#[derive(Clone)]
pub struct StreamWriter {
    t: Rc<Transport>,
    _owner: Rc<Owner>,
}

impl StreamWriter {
    /// `writer.write(data)`: sends what the socket takes now, buffers the rest (sent by a
    /// writer callback). After the connection is lost the data is dropped (as asyncio);
    /// `RuntimeError('Cannot call write() after write_eof()')`.
    pub fn write(&self, data: &[u8]) -> Result<()> {
        self.t.write(data)
    }

    /// `writer.writelines(chunks)`.
    pub fn writelines<I: IntoIterator<Item = B>, B: AsRef<[u8]>>(&self, chunks: I) -> Result<()> {
        for c in chunks {
            self.t.write(c.as_ref())?;
        }
        Ok(())
    }

    /// `await writer.drain()`: waits while the write buffer is over the high-water mark,
    /// until it is at or under the low one. Raises the reader's error if the connection
    /// failed, and `ConnectionResetError('Connection lost')` once the connection is gone.
    /// On a closing writer it first yields one iteration, so the close can complete.
    pub fn drain(&self, co: &TaskCo) -> Result<()> {
        let t = &*self.t;
        t.reader.check_exception()?;
        if t.closing.get() {
            co.yield_now()?;
        }
        if t.lost.get() {
            return Err(OsError::named("ConnectionResetError", "Connection lost").into());
        }
        if !t.write_paused.get() {
            return Ok(());
        }
        let w = t.lp.create_future::<()>();
        t.drain_waiters.borrow_mut().push(w.clone());
        let r = co.wait(&w);
        t.drain_waiters.borrow_mut().retain(|x| !x.ptr_eq(&w));
        r
    }

    /// `writer.close()`: stops reading, sends what is buffered, then closes the socket (in a
    /// later iteration). Idempotent.
    pub fn close(&self) {
        self.t.close();
    }

    /// `writer.is_closing()`: `close()` was called or the connection was lost.
    pub fn is_closing(&self) -> bool {
        self.t.closing.get()
    }

    /// `await writer.wait_closed()`: until the socket is closed; the connection's error if it
    /// was lost with one.
    pub fn wait_closed(&self, co: &TaskCo) -> Result<()> {
        co.wait(&self.t.closed)
    }

    /// `writer.write_eof()`: shuts down the sending side once the buffer is sent (the peer
    /// reads EOF); reading goes on.
    pub fn write_eof(&self) -> Result<()> {
        self.t.write_eof()
    }

    /// `writer.can_write_eof()`: always true for sockets.
    pub fn can_write_eof(&self) -> bool {
        true
    }

    /// `get_extra_info('peername')` for TCP (`None` for Unix sockets).
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.t.peer
    }

    /// `get_extra_info('sockname')` for TCP (`None` for Unix sockets).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.t.local
    }

    /// `transport.get_write_buffer_size()`: bytes written and not sent yet.
    pub fn write_buffer_size(&self) -> usize {
        self.t.wbuf.borrow().len()
    }

    /// `transport.set_write_buffer_limits(high, low)`: `high` defaults to 64 KiB (or 4 * `low`),
    /// `low` to a quarter of `high`. `ValueError` unless `high >= low`.
    pub fn set_write_buffer_limits(&self, high: Option<usize>, low: Option<usize>) -> Result<()> {
        let high_v = high.unwrap_or(match low {
            Some(l) => 4 * l,
            None => DEFAULT_HIGH_WATER,
        });
        let low_v = low.unwrap_or(high_v / 4);
        if high_v < low_v {
            return Err(ValueError::new(format!(
                "high ({high_v}) must be >= low ({low_v}) must be >= 0"
            ))
            .into());
        }
        self.t.high.set(high_v);
        self.t.low.set(low_v);
        if self.t.wbuf.borrow().len() > high_v {
            self.t.write_paused.set(true);
        }
        self.t.maybe_resume_writing();
        Ok(())
    }
}

impl fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.t.sock.borrow().is_none() {
            "closed"
        } else if self.t.closing.get() {
            "closing"
        } else {
            "open"
        };
        write!(f, "<StreamWriter fd={} {state}>", self.t.fd)
    }
}

/// Resolves `host:port` (getaddrinfo, blocking: instant for numeric addresses and
/// /etc/hosts). Failure is Python's `socket.gaierror`.
fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>> {
    let host = if host.is_empty() { "0.0.0.0" } else { host };
    let mut addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| {
            let text = e.to_string();
            let text = text
                .strip_prefix("failed to lookup address information: ")
                .unwrap_or(&text)
                .to_string();
            OsError::named("gaierror", text)
        })?
        .collect();
    let mut seen = Vec::new();
    addrs.retain(|a| {
        let new = !seen.contains(a);
        seen.push(*a);
        new
    });
    Ok(addrs)
}

/// `await asyncio.open_connection(host, port)`: connects (each resolved address in turn, as
/// asyncio) and returns the reader and writer, with the default limit.
pub fn open_connection(co: &TaskCo, host: &str, port: u16) -> Result<(StreamReader, StreamWriter)> {
    open_connection_with(co, host, port, DEFAULT_LIMIT)
}

/// `open_connection(host, port, limit=limit)`. If every address fails: the one error, or
/// `OSError('Multiple exceptions: ...')` when they differ. `EMFILE` (too many open files)
/// arrives as `OSError: [Errno 24] Too many open files`.
pub fn open_connection_with(
    co: &TaskCo,
    host: &str,
    port: u16,
    limit: usize,
) -> Result<(StreamReader, StreamWriter)> {
    let lp = get_running_loop()?;
    let addrs = resolve(host, port)?;
    let mut errors: Vec<anyhow::Error> = Vec::new();
    for addr in addrs {
        match sock_connect(co, addr) {
            Ok(sock) => {
                // asyncio sets TCP_NODELAY on every TCP transport.
                let _ = sock.set_nodelay(true);
                return Transport::open(&lp, sock, limit, None);
            }
            Err(e) if e.isinstance::<CancelledError>() => return Err(e),
            Err(e) => errors.push(e),
        }
    }
    match errors.len() {
        0 => Err(OsError::named("OSError", "getaddrinfo() returned empty list").into()),
        1 => Err(errors.pop().expect("one error")),
        _ => {
            let texts: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            if texts.iter().all(|t| *t == texts[0]) {
                Err(errors.swap_remove(0))
            } else {
                Err(OsError::named(
                    "OSError",
                    format!("Multiple exceptions: {}", texts.join(", ")),
                )
                .into())
            }
        }
    }
}

/// `asyncio.open_connection(sock=sock)`: streams on a connected TCP or Unix socket (e.g. one
/// end of `UnixStream::pair()`), with the given limit.
pub fn wrap_stream(
    lp: &EventLoop,
    sock: impl StreamSocket,
    limit: usize,
) -> Result<(StreamReader, StreamWriter)> {
    Transport::open(lp, sock, limit, None)
}

/// A connection handler: `handler(co, reader, writer)`, run as a task per connection.
type Handler = dyn Fn(&TaskCo, StreamReader, StreamWriter) -> Result<()>;

/// Options of [`start_server_with`].
#[derive(Debug, Clone, Copy)]
pub struct ServerOptions {
    /// Each connection's reader limit (asyncio: `limit=2**16`).
    pub limit: usize,
    /// The listen backlog (asyncio: `backlog=100`).
    pub backlog: u32,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            limit: DEFAULT_LIMIT,
            backlog: 100,
        }
    }
}

struct ServerCore {
    lp: EventLoop,
    /// Listening sockets with their addresses; emptied by `close()`.
    listeners: RefCell<Vec<(TcpListener, SocketAddr)>>,
    handler: Rc<Handler>,
    opts: ServerOptions,
    /// Connections not closed yet.
    active: Cell<usize>,
    closed: Cell<bool>,
    /// `wait_closed()` waiters; `None` once the server closed and its connections are gone.
    waiters: RefCell<Option<Vec<Future<()>>>>,
    serving_forever: RefCell<Option<Future<()>>>,
}

/// asyncio's `Server`: listening sockets that start a handler task per connection.
///
/// It serves until [`Server::close`] (dropping the handle does not stop it: the loop's
/// readers hold it, as asyncio's loop does).
#[derive(Clone)]
pub struct Server(Rc<ServerCore>);

/// `errno`s of accept that mean "out of resources": asyncio pauses accepting for a second.
fn out_of_resources(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// asyncio's `ACCEPT_RETRY_DELAY`.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_secs(1);

impl ServerCore {
    fn start_accepting(self: &Rc<Self>, fd: RawFd) -> Result<()> {
        let core = self.clone();
        self.lp.add_reader(fd, move || core.accept_ready(fd))
    }

    /// The listener's reader: accepts up to `backlog` connections.
    fn accept_ready(self: &Rc<Self>, fd: RawFd) {
        for _ in 0..self.opts.backlog.max(1) {
            let r = {
                let listeners = self.listeners.borrow();
                match listeners.iter().find(|(l, _)| l.as_raw_fd() == fd) {
                    Some((l, _)) => l.accept(),
                    None => return,
                }
            };
            match r {
                Ok((sock, _)) => self.new_connection(sock),
                Err(e) if would_block(&e) || e.kind() == io::ErrorKind::Interrupted => return,
                Err(e) if e.raw_os_error() == Some(libc::ECONNABORTED) => return,
                Err(e) if out_of_resources(&e) => {
                    // As asyncio: report, stop accepting for a while, then try again.
                    let addr = self.addr_of(fd);
                    self.lp.call_exception_handler(
                        ExceptionContext::new("socket.accept() out of system resource")
                            .with_exception(OsError::from_io(&e).into())
                            .with_field("socket", format!("<listener {addr}>")),
                    );
                    self.lp.remove_reader(fd);
                    let core = self.clone();
                    let _ = self.lp.call_later(ACCEPT_RETRY_DELAY, move || {
                        if !core.closed.get() {
                            let _ = core.start_accepting(fd);
                        }
                    });
                    return;
                }
                Err(e) => {
                    let addr = self.addr_of(fd);
                    self.lp.call_exception_handler(
                        ExceptionContext::new("Error on accept")
                            .with_exception(OsError::from_io(&e).into())
                            .with_field("socket", format!("<listener {addr}>")),
                    );
                    return;
                }
            }
        }
    }

    fn addr_of(&self, fd: RawFd) -> String {
        self.listeners
            .borrow()
            .iter()
            .find(|(l, _)| l.as_raw_fd() == fd)
            .map(|(_, a)| py_addr(a))
            .unwrap_or_default()
    }

    fn new_connection(self: &Rc<Self>, sock: TcpStream) {
        if sock.set_nonblocking(true).is_err() {
            return;
        }
        let _ = sock.set_nodelay(true);
        let core = self.clone();
        let detach: Box<dyn FnOnce()> = Box::new(move || core.detach());
        self.active.set(self.active.get() + 1);
        let (reader, writer) = match Transport::open(&self.lp, sock, self.opts.limit, Some(detach))
        {
            Ok(pair) => pair,
            // The transport was dropped, which detached it.
            Err(_) => return,
        };
        let handler = self.handler.clone();
        let lp = self.lp.clone();
        let peer = writer.peer_addr();
        let task = self
            .lp
            .create_task(move |co| match handler(co, reader, writer) {
                Err(e) if !e.isinstance::<CancelledError>() => {
                    // asyncio 3.12: report, and the connection closes (its handles were dropped).
                    let peer = peer.map(|a| py_addr(&a)).unwrap_or_default();
                    lp.call_exception_handler(
                        ExceptionContext::new("Unhandled exception in client_connected_cb")
                            .with_exception(e)
                            .with_field("transport", format!("<Transport peername={peer}>")),
                    );
                    Ok(())
                }
                r => r,
            });
        drop(task);
    }

    /// A connection of this server closed.
    fn detach(&self) {
        self.active.set(self.active.get().saturating_sub(1));
        if self.active.get() == 0 && self.closed.get() {
            self.wakeup();
        }
    }

    fn wakeup(&self) {
        let waiters = self.waiters.borrow_mut().take();
        for w in waiters.into_iter().flatten() {
            if !w.done() {
                let _ = w.set_result(());
            }
        }
    }
}

impl Server {
    /// `server.close()`: stops listening and closes the listening sockets. Open connections
    /// stay open (as asyncio).
    pub fn close(&self) {
        let core = &*self.0;
        if core.closed.replace(true) {
            return;
        }
        let listeners = std::mem::take(&mut *core.listeners.borrow_mut());
        for (l, _) in &listeners {
            core.lp.remove_reader(l.as_raw_fd());
        }
        drop(listeners);
        let fut = core.serving_forever.borrow_mut().take();
        if let Some(f) = fut {
            f.cancel(None);
        }
        if core.active.get() == 0 {
            core.wakeup();
        }
    }

    /// `await server.wait_closed()`: until the server is closed and every connection it
    /// accepted is closed (asyncio 3.12's behaviour; 3.11 returned at once after close()).
    pub fn wait_closed(&self, co: &TaskCo) -> Result<()> {
        let fut = {
            let mut waiters = self.0.waiters.borrow_mut();
            let Some(list) = waiters.as_mut() else {
                return Ok(());
            };
            let fut = self.0.lp.create_future::<()>();
            list.push(fut.clone());
            fut
        };
        co.wait(&fut)
    }

    /// `server.is_serving()`.
    pub fn is_serving(&self) -> bool {
        !self.0.closed.get()
    }

    /// The addresses of the listening sockets (`[s.getsockname() for s in server.sockets]`);
    /// empty once closed.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.0.listeners.borrow().iter().map(|(_, a)| *a).collect()
    }

    /// The first listening address (what a test connects to after binding port 0).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.local_addrs().first().copied()
    }

    /// How many accepted connections are still open.
    pub fn active_connections(&self) -> usize {
        self.0.active.get()
    }

    /// The loop the server runs on.
    pub fn get_loop(&self) -> &EventLoop {
        &self.0.lp
    }

    /// `await server.serve_forever()`: waits until the server is closed; cancelling it closes
    /// the server (and waits for it), then re-raises.
    pub fn serve_forever(&self, co: &TaskCo) -> Result<()> {
        if self.0.closed.get() {
            return Err(RuntimeError::new(format!("server {self:?} is closed")).into());
        }
        if self.0.serving_forever.borrow().is_some() {
            return Err(RuntimeError::new(format!(
                "server {self:?} is already being awaited on serve_forever()"
            ))
            .into());
        }
        let fut = self.0.lp.create_future::<()>();
        *self.0.serving_forever.borrow_mut() = Some(fut.clone());
        match co.wait(&fut) {
            Err(e) if e.isinstance::<CancelledError>() => {
                *self.0.serving_forever.borrow_mut() = None;
                self.close();
                self.wait_closed(co)?;
                Err(e)
            }
            r => {
                *self.0.serving_forever.borrow_mut() = None;
                r
            }
        }
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let addrs: Vec<String> = self.local_addrs().iter().map(py_addr).collect();
        write!(f, "<Server sockets=({})>", addrs.join(", "))
    }
}

/// `await asyncio.start_server(handler, host, port)`: listens on every address `host`
/// resolves to (port 0: a free port, see [`Server::local_addr`]) and runs
/// `handler(co, reader, writer)` as a new task for each connection. Like asyncio it yields
/// one iteration so that the listeners are in place. A handler's error is reported to the
/// exception handler ("Unhandled exception in client_connected_cb").
pub fn start_server(
    co: &TaskCo,
    handler: impl Fn(&TaskCo, StreamReader, StreamWriter) -> Result<()> + 'static,
    host: &str,
    port: u16,
) -> Result<Server> {
    start_server_with(co, handler, host, port, ServerOptions::default())
}

/// [`start_server`] with a reader limit and a listen backlog. A bind failure is
/// `OSError(errno, "error while attempting to bind on address ('h', p): strerror")`.
pub fn start_server_with(
    co: &TaskCo,
    handler: impl Fn(&TaskCo, StreamReader, StreamWriter) -> Result<()> + 'static,
    host: &str,
    port: u16,
    opts: ServerOptions,
) -> Result<Server> {
    if opts.limit == 0 {
        return Err(ValueError::new("Limit cannot be <= 0").into());
    }
    let lp = get_running_loop()?;
    let mut listeners = Vec::new();
    for addr in resolve(host, port)? {
        let l = tcp_listener(&addr, opts.backlog).map_err(|e| match e.raw_os_error() {
            Some(errno) => OsError::with_errno(
                errno,
                format!(
                    "error while attempting to bind on address {}: {}",
                    py_addr(&addr),
                    OsError::from_io(&e).message().to_lowercase()
                ),
            ),
            None => OsError::from_io(&e),
        })?;
        let local = l.local_addr().map_err(|e| OsError::from_io(&e))?;
        listeners.push((l, local));
    }
    let fds: Vec<RawFd> = listeners.iter().map(|(l, _)| l.as_raw_fd()).collect();
    let core = Rc::new(ServerCore {
        lp: lp.clone(),
        listeners: RefCell::new(listeners),
        handler: Rc::new(handler),
        opts,
        active: Cell::new(0),
        closed: Cell::new(false),
        waiters: RefCell::new(Some(Vec::new())),
        serving_forever: RefCell::new(None),
    });
    let server = Server(core.clone());
    for fd in fds {
        if let Err(e) = core.start_accepting(fd) {
            server.close();
            return Err(e);
        }
    }
    co.yield_now()?;
    Ok(server)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buf_consumes_from_the_front() {
        let mut b = Buf::default();
        b.extend(b"hello world");
        assert_eq!(b.take(6), b"hello ");
        assert_eq!(b.bytes(), b"world");
        b.extend(b"!");
        assert_eq!(b.take_all(), b"world!");
        assert!(b.is_empty());
    }

    #[test]
    fn error_messages_match_asyncio() {
        let e = IncompleteReadError::new(b"ab".to_vec(), Some(5));
        assert_eq!(e.to_string(), "2 bytes read on a total of 5 expected bytes");
        let e = IncompleteReadError::new(Vec::new(), None);
        assert_eq!(
            e.to_string(),
            "0 bytes read on a total of undefined expected bytes"
        );
    }
}
