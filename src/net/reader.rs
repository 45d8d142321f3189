//! asyncio's `StreamReader`: the buffer a transport feeds and the reads that wait on it.

use std::cell::{Cell, RefCell};
use std::mem::MaybeUninit;
use std::os::fd::RawFd;
use std::rc::{Rc, Weak};
use std::task::Waker;
use std::{fmt, io};

use anyhow::Result;

use super::streams::DEFAULT_LIMIT;
use crate::errors::{
    IncompleteReadError, LimitOverrunError, RuntimeError, SharedError, ValueError,
};
use crate::event_loop::EventLoop;
use crate::futures::Future;
use crate::net::transport::{Owner, Transport};
use crate::sync::{Step, WaitOp};
use crate::sys;
use crate::tasks::{TaskCo, WaitKind};

/// A byte buffer consumed from the front: a Vec and a start offset, so that many small reads
/// from a large buffer do not move the rest each time (Python's `del buf[:n]` does).
#[derive(Default)]
pub(crate) struct Buf {
    data: Vec<u8>,
    start: usize,
}

impl Buf {
    pub(crate) fn len(&self) -> usize {
        self.data.len() - self.start
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.data[self.start..]
    }

    /// Moves the live bytes to the front once the dead prefix is at least half the buffer.
    fn compact(&mut self) {
        if self.start > 0 && self.start >= self.data.len() / 2 {
            self.data.drain(..self.start);
            self.start = 0;
        }
    }

    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        self.compact();
        self.data.extend_from_slice(bytes);
    }

    pub(crate) fn consume(&mut self, n: usize) {
        self.start += n.min(self.len());
        if self.start == self.data.len() {
            self.data.clear();
            self.start = 0;
        }
    }

    pub(crate) fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.len());
        let out = self.bytes()[..n].to_vec();
        self.consume(n);
        out
    }

    pub(crate) fn take_all(&mut self) -> Vec<u8> {
        let out = if self.start == 0 {
            std::mem::take(&mut self.data)
        } else {
            self.bytes().to_vec()
        };
        self.clear();
        out
    }

    pub(crate) fn clear(&mut self) {
        self.data.clear();
        self.start = 0;
    }

    /// Appends up to `max` bytes that `fill` writes into the front of a slice, returning how
    /// many it wrote (a TLS session's plaintext).
    pub(crate) fn fill_with(
        &mut self,
        max: usize,
        fill: impl FnOnce(&mut [u8]) -> io::Result<usize>,
    ) -> io::Result<usize> {
        self.compact();
        let old = self.data.len();
        self.data.resize(old + max, 0);
        let r = fill(&mut self.data[old..]);
        let n = *r.as_ref().unwrap_or(&0);
        self.data.truncate(old + n.min(max));
        r
    }

    /// One `recv` of at most `max` bytes appended to the buffer.
    pub(crate) fn recv(&mut self, fd: RawFd, max: usize) -> io::Result<usize> {
        self.compact();
        self.data.reserve(max);
        let spare: &mut [MaybeUninit<u8>] = &mut self.data.spare_capacity_mut()[..max];
        let n = sys::recv_nonblocking(fd, spare)?;
        // SAFETY: recv initialised the first `n` bytes of the spare capacity.
        unsafe { self.data.set_len(self.data.len() + n) };
        Ok(n)
    }
}

/// The state of a [`StreamReader`], shared with the transport that feeds it.
pub(crate) struct ReaderCore {
    lp: EventLoop,
    limit: usize,
    pub(crate) buf: RefCell<Buf>,
    eof: Cell<bool>,
    /// The future of the one coroutine waiting for data.
    waiter: RefCell<Option<Future<()>>>,
    exception: RefCell<Option<SharedError>>,
    /// The transport feeding it, to pause and resume reading (weak: the transport owns us).
    pub(crate) transport: RefCell<Weak<Transport>>,
    /// Whether we paused the transport's reading because the buffer is over 2 * limit.
    paused: Cell<bool>,
    /// The waker of a poll-based reader (`AsyncRead`) waiting for data.
    pub(crate) std_waker: RefCell<Option<Waker>>,
}

impl ReaderCore {
    pub(crate) fn check_exception(&self) -> Result<()> {
        match &*self.exception.borrow() {
            Some(e) => Err(e.to_error()),
            None => Ok(()),
        }
    }

    /// Wakes the waiting coroutine, with `exc` if given.
    fn wakeup_waiter(&self, exc: Option<&SharedError>) {
        let waker = self.std_waker.borrow_mut().take();
        if let Some(w) = waker {
            w.wake();
        }
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
    pub(crate) fn data_arrived(&self) {
        self.wakeup_waiter(None);
        if !self.paused.get()
            && self.buf.borrow().len() > 2 * self.limit
            && let Some(t) = self.transport.borrow().upgrade()
        {
            t.pause_reading();
            self.paused.set(true);
        }
    }

    pub(crate) fn is_eof(&self) -> bool {
        self.eof.get()
    }

    /// Resumes the transport's reading if this reader paused it.
    pub(crate) fn unpause(&self) {
        if self.paused.replace(false)
            && let Some(t) = self.transport.borrow().upgrade()
        {
            t.resume_reading();
        }
    }

    pub(crate) fn feed_eof(&self) {
        self.eof.set(true);
        self.wakeup_waiter(None);
    }

    pub(crate) fn set_exception(&self, exc: SharedError) {
        *self.exception.borrow_mut() = Some(exc.clone());
        self.wakeup_waiter(Some(&exc));
    }

    pub(crate) fn maybe_resume_transport(&self) {
        if self.paused.get() && self.buf.borrow().len() <= self.limit {
            self.paused.set(false);
            if let Some(t) = self.transport.borrow().upgrade() {
                t.resume_reading();
            }
        }
    }

    /// The before-wait part of asyncio's `_wait_for_data(func_name)`: registers the one
    /// waiter's future, to be awaited and then passed to [`ReaderCore::end_wait`].
    #[inline]
    fn begin_wait(&self, func: &str) -> Result<Future<()>> {
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
        Ok(fut)
    }

    /// The after-wait part: forgets `fut` unless a later waiter replaced it.
    #[inline]
    fn end_wait(&self, fut: &Future<()>) {
        let mut w = self.waiter.borrow_mut();
        if w.as_ref().is_some_and(|x| x.ptr_eq(fut)) {
            *w = None;
        }
    }

    /// A wait for data as a [`Step`]: suspended on the waiter's future, or the error.
    #[inline]
    fn wait_step<T>(&self, func: &str) -> Step<T> {
        match self.begin_wait(func) {
            Ok(fut) => Step::Wait(fut, WaitKind::Wait),
            Err(e) => Step::Done(Err(e)),
        }
    }

    /// `read(n)` once the buffer has data or EOF came: up to `n` bytes.
    #[inline]
    fn take_upto(&self, n: usize) -> Vec<u8> {
        let data = self.buf.borrow_mut().take(n);
        self.maybe_resume_transport();
        data
    }
}

/// `op` driven on `co`: the stackful form of a read, which its stackless form
/// (`*_stackless`) drives with yields instead.
#[inline(always)]
fn drive<O: WaitOp<StreamReader>>(co: &TaskCo, r: &StreamReader, mut op: O) -> Result<O::Output> {
    let mut step = op.begin(r);
    loop {
        match step {
            Step::Done(out) => return out,
            Step::Wait(fut, _) => {
                let waited = co.wait(&fut);
                step = op.resume(r, fut, waited);
            }
        }
    }
}

/// `read(n)` as a [`WaitOp`]: waits only while the buffer is empty.
pub(crate) struct Read(pub(crate) usize);

impl WaitOp<StreamReader> for Read {
    type Output = Vec<u8>;

    #[inline]
    fn begin(&mut self, r: &StreamReader) -> Step<Vec<u8>> {
        let c = &*r.core;
        if let Err(e) = c.check_exception() {
            return Step::Done(Err(e));
        }
        if self.0 == 0 {
            return Step::Done(Ok(Vec::new()));
        }
        if c.buf.borrow().is_empty() && !c.eof.get() {
            return c.wait_step("read");
        }
        Step::Done(Ok(c.take_upto(self.0)))
    }

    #[inline]
    fn resume(&mut self, r: &StreamReader, fut: Future<()>, waited: Result<()>) -> Step<Vec<u8>> {
        let c = &*r.core;
        c.end_wait(&fut);
        Step::Done(waited.map(|()| c.take_upto(self.0)))
    }
}

/// `read(-1)` as a [`WaitOp`]: `read(limit)` until an empty block.
#[derive(Default)]
pub(crate) struct ReadAll {
    out: Vec<u8>,
}

impl ReadAll {
    /// The next blocks, up to a wait or the empty one.
    fn blocks(&mut self, r: &StreamReader, mut step: Step<Vec<u8>>) -> Step<Vec<u8>> {
        loop {
            match step {
                Step::Done(Ok(block)) if block.is_empty() => {
                    return Step::Done(Ok(std::mem::take(&mut self.out)));
                }
                Step::Done(Ok(block)) => self.out.extend_from_slice(&block),
                Step::Done(Err(e)) => return Step::Done(Err(e)),
                Step::Wait(fut, what) => return Step::Wait(fut, what),
            }
            step = Read(r.core.limit).begin(r);
        }
    }
}

impl WaitOp<StreamReader> for ReadAll {
    type Output = Vec<u8>;

    fn begin(&mut self, r: &StreamReader) -> Step<Vec<u8>> {
        if let Err(e) = r.core.check_exception() {
            return Step::Done(Err(e));
        }
        let step = Read(r.core.limit).begin(r);
        self.blocks(r, step)
    }

    fn resume(&mut self, r: &StreamReader, fut: Future<()>, waited: Result<()>) -> Step<Vec<u8>> {
        let step = Read(r.core.limit).resume(r, fut, waited);
        self.blocks(r, step)
    }
}

/// `readexactly(n)` as a [`WaitOp`].
pub(crate) struct ReadExactly(pub(crate) usize);

impl ReadExactly {
    /// Exactly `n` bytes if buffered, the IncompleteReadError at EOF, else a wait.
    #[inline]
    fn poll(&self, c: &ReaderCore) -> Step<Vec<u8>> {
        let n = self.0;
        if c.buf.borrow().len() < n {
            if c.eof.get() {
                let partial = c.buf.borrow_mut().take_all();
                return Step::Done(Err(IncompleteReadError::new(partial, Some(n)).into()));
            }
            return c.wait_step("readexactly");
        }
        Step::Done(Ok(c.take_upto(n)))
    }
}

impl WaitOp<StreamReader> for ReadExactly {
    type Output = Vec<u8>;

    #[inline]
    fn begin(&mut self, r: &StreamReader) -> Step<Vec<u8>> {
        let c = &*r.core;
        if let Err(e) = c.check_exception() {
            return Step::Done(Err(e));
        }
        if self.0 == 0 {
            return Step::Done(Ok(Vec::new()));
        }
        self.poll(c)
    }

    #[inline]
    fn resume(&mut self, r: &StreamReader, fut: Future<()>, waited: Result<()>) -> Step<Vec<u8>> {
        let c = &*r.core;
        c.end_wait(&fut);
        match waited {
            Ok(()) => self.poll(c),
            Err(e) => Step::Done(Err(e)),
        }
    }
}

/// `readuntil(sep)` as a [`WaitOp`].
pub(crate) struct ReadUntil<'a> {
    sep: &'a [u8],
    /// Where the next search starts: the bytes before it were searched already.
    offset: usize,
}

impl<'a> ReadUntil<'a> {
    pub(crate) fn new(sep: &'a [u8]) -> Self {
        ReadUntil { sep, offset: 0 }
    }

    /// The chunk if `sep` is buffered, an error, or a wait.
    #[inline]
    fn poll(&mut self, c: &ReaderCore) -> Step<Vec<u8>> {
        let (sep, seplen) = (self.sep, self.sep.len());
        let buflen = c.buf.borrow().len();
        if buflen >= self.offset + seplen {
            let found = find(&c.buf.borrow().bytes()[self.offset..], sep);
            if let Some(i) = found {
                let isep = self.offset + i;
                if isep > c.limit {
                    return Step::Done(Err(LimitOverrunError::new(
                        "Separator is found, but chunk is longer than limit",
                        isep,
                    )
                    .into()));
                }
                return Step::Done(Ok(c.take_upto(isep + seplen)));
            }
            self.offset = buflen + 1 - seplen;
            if self.offset > c.limit {
                return Step::Done(Err(LimitOverrunError::new(
                    "Separator is not found, and chunk exceed the limit",
                    self.offset,
                )
                .into()));
            }
        }
        if c.eof.get() {
            let partial = c.buf.borrow_mut().take_all();
            return Step::Done(Err(IncompleteReadError::new(partial, None).into()));
        }
        c.wait_step("readuntil")
    }
}

impl WaitOp<StreamReader> for ReadUntil<'_> {
    type Output = Vec<u8>;

    #[inline]
    fn begin(&mut self, r: &StreamReader) -> Step<Vec<u8>> {
        let c = &*r.core;
        if self.sep.is_empty() {
            return Step::Done(Err(ValueError::new(
                "Separator should be at least one-byte string",
            )
            .into()));
        }
        if let Err(e) = c.check_exception() {
            return Step::Done(Err(e));
        }
        self.poll(c)
    }

    #[inline]
    fn resume(&mut self, r: &StreamReader, fut: Future<()>, waited: Result<()>) -> Step<Vec<u8>> {
        let c = &*r.core;
        c.end_wait(&fut);
        match waited {
            Ok(()) => self.poll(c),
            Err(e) => Step::Done(Err(e)),
        }
    }
}

/// `readline()` as a [`WaitOp`]: `readuntil(b'\n')` with its errors turned into lines.
pub(crate) struct ReadLine(ReadUntil<'static>);

impl ReadLine {
    pub(crate) fn new() -> Self {
        ReadLine(ReadUntil::new(b"\n"))
    }

    /// The partial line at EOF; a line over the limit dropped, as a ValueError.
    fn finish(c: &ReaderCore, step: Step<Vec<u8>>) -> Step<Vec<u8>> {
        let e = match step {
            Step::Done(Err(e)) => e,
            other => return other,
        };
        let e = match e.downcast::<IncompleteReadError>() {
            Ok(incomplete) => return Step::Done(Ok(incomplete.partial)),
            Err(e) => e,
        };
        Step::Done(match e.downcast::<LimitOverrunError>() {
            Ok(over) => {
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
        })
    }
}

impl WaitOp<StreamReader> for ReadLine {
    type Output = Vec<u8>;

    #[inline]
    fn begin(&mut self, r: &StreamReader) -> Step<Vec<u8>> {
        let step = self.0.begin(r);
        Self::finish(&r.core, step)
    }

    #[inline]
    fn resume(&mut self, r: &StreamReader, fut: Future<()>, waited: Result<()>) -> Step<Vec<u8>> {
        let step = self.0.resume(r, fut, waited);
        Self::finish(&r.core, step)
    }
}

/// asyncio's `StreamReader`: bytes from a connection (or from [`StreamReader::feed_data`]),
/// read with `read`, `readline`, `readexactly` and `readuntil`. Only one coroutine may wait
/// for data at a time. Clones share one reader.
#[derive(Clone)]
pub struct StreamReader {
    pub(crate) core: Rc<ReaderCore>,
    /// Keeps the connection open (`None` for a reader fed by hand).
    pub(crate) _owner: Option<Rc<Owner>>,
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

    pub(crate) fn make(lp: &EventLoop, limit: usize) -> StreamReader {
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
                std_waker: RefCell::new(None),
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
    ///
    /// # Errors
    ///
    /// - The error set on the reader (the connection's error, e.g. `ConnectionResetError`).
    /// - `RuntimeError("read() called while another coroutine is already waiting for incoming
    ///   data")`.
    /// - `CancelledError` when the waiting task is cancelled.
    pub fn read(&self, co: &TaskCo, n: usize) -> Result<Vec<u8>> {
        drive(co, self, Read(n))
    }

    /// `await reader.read(-1)` (or `read()`): everything up to EOF.
    ///
    /// # Errors
    ///
    /// As [`StreamReader::read`].
    pub fn read_all(&self, co: &TaskCo) -> Result<Vec<u8>> {
        drive(co, self, ReadAll::default())
    }

    /// `await reader.readexactly(n)`: exactly `n` bytes.
    ///
    /// # Errors
    ///
    /// - `IncompleteReadError` (holding what was read, which leaves the buffer) if EOF comes
    ///   first.
    /// - As [`StreamReader::read`]: the reader's error, a second waiter, `CancelledError`.
    pub fn readexactly(&self, co: &TaskCo, n: usize) -> Result<Vec<u8>> {
        drive(co, self, ReadExactly(n))
    }

    /// `await reader.readuntil(sep)`: the bytes up to and including `sep`.
    ///
    /// # Errors
    ///
    /// As asyncio:
    /// - `ValueError('Separator should be at least one-byte string')`.
    /// - `IncompleteReadError` at EOF without `sep` (the partial bytes leave the buffer).
    /// - `LimitOverrunError('Separator is not found, and chunk exceed the limit', consumed)`
    ///   or `('Separator is found, but chunk is longer than limit', consumed)`, leaving the
    ///   buffer as it was.
    /// - As [`StreamReader::read`]: the reader's error, a second waiter, `CancelledError`.
    pub fn readuntil(&self, co: &TaskCo, sep: &[u8]) -> Result<Vec<u8>> {
        drive(co, self, ReadUntil::new(sep))
    }

    /// `await reader.readline()`: a line ending in `b'\n'`, or the partial last line at EOF
    /// (empty at EOF).
    ///
    /// # Errors
    ///
    /// - `ValueError` with the `LimitOverrunError`'s message for a line over the limit,
    ///   which is dropped from the buffer (up to its separator, or all of the buffer).
    /// - As [`StreamReader::read`]: the reader's error, a second waiter, `CancelledError`.
    pub fn readline(&self, co: &TaskCo) -> Result<Vec<u8>> {
        drive(co, self, ReadLine::new())
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

#[cfg(feature = "nightly")]
mod stackless;

#[cfg(feature = "nightly")]
pub use stackless::{
    StreamRead, StreamReadAll, StreamReadExactly, StreamReadLine, StreamReadUntil,
};

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() == 1 {
        return hay.iter().position(|&b| b == needle[0]);
    }
    hay.windows(needle.len()).position(|w| w == needle)
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
}
