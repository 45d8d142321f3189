//! The selector (layer 3, the talk's "Selector"): readers and writers on raw file
//! descriptors, over `mio::Poll`. The only module that imports mio.
//!
//! # Level triggering
//!
//! asyncio's `add_reader` is level-triggered: while the fd stays readable, its reader is
//! queued in every iteration. mio (epoll with `EPOLLET`) reports a readiness change once. So an
//! fd that produced an event is re-armed (`reregister`, i.e. `EPOLL_CTL_MOD`) before the next
//! poll, after its callbacks ran: re-arming makes epoll check the fd again and report it if it
//! is still ready. An fd with no events costs no syscall.
//!
//! Each fd has one registration holding its reader and its writer; it is deregistered as soon
//! as neither is left, so the user may close the fd right after `remove_reader`.
//!
//! A reader made by [`io_waiter`] (the `sock_*` waits) is not level-triggered: it only wakes a
//! task that then tries its syscall again and waits for the next edge on `EAGAIN`, so its fd is
//! not re-armed after it fired (a re-arm is an `epoll_ctl` that would only report the same
//! readiness again).
//!
//! # Owned edge-triggered sources
//!
//! A stream transport owns its socket, so it keeps one registration for the socket's whole
//! life ([`Selector::register_edge`]): both directions, edge-triggered, registered once and
//! deregistered before the socket closes. Events set its cached readiness; the owner clears it
//! when a syscall says `EAGAIN` (or a short read or write shows the buffer drained or full),
//! and says which directions it wants. While a direction is wanted and cached ready, its
//! callback is queued in every iteration (level triggering kept in memory, no syscall), and
//! the loop polls with a zero timeout. No `epoll_ctl` per read, write, pause or resume.

use std::cell::Cell;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use crate::callbacks::{Callable, Callback};

/// A file descriptor argument: a [`RawFd`], or a reference to anything [`AsRawFd`] (a socket,
/// a pipe end, a `BorrowedFd`). asyncio accepts an int or an object with `fileno()`.
pub trait FdLike {
    /// The raw fd number.
    fn raw_fd(&self) -> RawFd;
}

impl FdLike for RawFd {
    fn raw_fd(&self) -> RawFd {
        *self
    }
}

impl<T: AsRawFd + ?Sized> FdLike for &T {
    fn raw_fd(&self) -> RawFd {
        (**self).as_raw_fd()
    }
}

/// The token of the thread-safe waker; fds use their own number as token.
const WAKER: Token = Token(usize::MAX);

/// A reader or writer registered on an fd, as the selector sees it.
pub(crate) trait IoCallback {
    /// Marks it removed (a queued run is skipped) and drops the user's closure unless it is
    /// running. Call with no borrow held: dropping the closure may run user code.
    fn cancel(&self);
    /// A ready-queue entry that runs it once.
    fn entry(self: Rc<Self>) -> Callback;
    /// Whether it was cancelled (removed or replaced).
    fn cancelled(&self) -> bool;
    /// Level-triggered (re-armed after it fired), or a one-shot wake-up of a waiting task.
    fn level(&self) -> bool;
}

/// A reader or writer: the user's `FnMut`, called each time the fd is ready.
struct IoHandle<F> {
    cancelled: Cell<bool>,
    level: bool,
    /// Taken out while it runs, so no borrow is held during user code.
    f: Cell<Option<F>>,
}

impl<F: FnMut() + 'static> IoCallback for IoHandle<F> {
    fn cancel(&self) {
        self.cancelled.set(true);
        drop(self.f.take());
    }

    fn entry(self: Rc<Self>) -> Callback {
        Callback::from_callable(IoCall(self))
    }

    fn cancelled(&self) -> bool {
        self.cancelled.get()
    }

    fn level(&self) -> bool {
        self.level
    }
}

/// One queued run of a reader or writer (one `Rc`, so it is stored inline).
struct IoCall<F>(Rc<IoHandle<F>>);

/// Puts the closure back after it ran (or panicked), unless it was removed meanwhile.
struct PutBack<'a, F> {
    handle: &'a IoHandle<F>,
    f: Option<F>,
}

impl<F> Drop for PutBack<'_, F> {
    fn drop(&mut self) {
        if !self.handle.cancelled.get() {
            self.handle.f.set(self.f.take());
        }
    }
}

impl<F: FnMut() + 'static> Callable for IoCall<F> {
    fn name(&self) -> &'static str {
        std::any::type_name::<F>()
    }

    fn call(self) {
        let handle = &*self.0;
        if handle.cancelled.get() {
            return;
        }
        let mut guard = PutBack {
            handle,
            f: handle.f.take(),
        };
        if let Some(f) = guard.f.as_mut() {
            f();
        }
    }
}

/// Makes the reader/writer record for `f`: level-triggered, as asyncio's `add_reader`.
pub(crate) fn io_callback<F: FnMut() + 'static>(f: F) -> Rc<dyn IoCallback> {
    Rc::new(IoHandle {
        cancelled: Cell::new(false),
        level: true,
        f: Cell::new(Some(f)),
    })
}

/// Makes a reader/writer that wakes a task waiting for one edge: not re-armed after it fired.
/// Only for callers that try their syscall again when woken and wait again on `EAGAIN`.
pub(crate) fn io_waiter<F: FnMut() + 'static>(f: F) -> Rc<dyn IoCallback> {
    Rc::new(IoHandle {
        cancelled: Cell::new(false),
        level: false,
        f: Cell::new(Some(f)),
    })
}

/// The reader and writer of one registered fd.
#[derive(Default)]
struct FdEntry {
    reader: Option<Rc<dyn IoCallback>>,
    writer: Option<Rc<dyn IoCallback>>,
    /// Queued for a level re-arm before the next poll; cleared by any `arm` meanwhile, which
    /// makes epoll check the fd again just as well.
    rearm: bool,
    /// Set for an owned edge-triggered source: its readiness cache. Its `reader` and `writer`
    /// are the owner's and stay for the registration's life.
    edge: Option<EdgeState>,
}

/// The cached readiness and the wanted directions of an owned edge-triggered source.
#[derive(Default)]
struct EdgeState {
    readable: bool,
    writable: bool,
    /// The peer closed (or an error came): sticky, never cleared. The event that reports a
    /// FIN may come with the last data, and a short read of that data would otherwise clear
    /// the readiness with no edge left to come (tokio keeps its closed bits for this reason).
    read_closed: bool,
    write_closed: bool,
    want_read: bool,
    want_write: bool,
    /// In `Selector::pending`.
    pending: bool,
}

impl EdgeState {
    /// Whether a callback is due: a wanted direction is ready.
    fn due(&self) -> bool {
        (self.want_read && self.readable) || (self.want_write && self.writable)
    }
}

impl FdEntry {
    fn interest(&self) -> Option<Interest> {
        match (self.reader.is_some(), self.writer.is_some()) {
            (true, true) => Some(Interest::READABLE | Interest::WRITABLE),
            (true, false) => Some(Interest::READABLE),
            (false, true) => Some(Interest::WRITABLE),
            (false, false) => None,
        }
    }
}

/// Wakes the loop from another thread (an eventfd registered with the loop's poll).
pub(crate) struct Waker(mio::Waker);

impl Waker {
    /// Makes the loop's poll return.
    pub(crate) fn wake(&self) -> io::Result<()> {
        self.0.wake()
    }
}

/// The loop's selector.
pub(crate) struct Selector {
    /// `None` once closed.
    poll: Option<Poll>,
    events: Events,
    /// Whether `events` holds the result of a poll that was not processed yet.
    fresh: bool,
    /// Registered fds, indexed by fd number.
    fds: Vec<Option<FdEntry>>,
    /// How many fds are registered.
    registered: usize,
    /// fds that reported an event: re-armed before the next poll (level triggering).
    rearm: Vec<RawFd>,
    /// Owned edge-triggered sources with a wanted direction cached ready: their callbacks are
    /// queued in each iteration until the owner clears the readiness or the want.
    pending: Vec<RawFd>,
    waker: Option<Arc<Waker>>,
}

fn invalid_fd(fd: RawFd) -> anyhow::Error {
    crate::errors::ValueError::new(format!("Invalid file descriptor: {fd}")).into()
}

impl Selector {
    pub(crate) fn new() -> io::Result<Self> {
        Ok(Selector {
            poll: Some(Poll::new()?),
            events: Events::with_capacity(1024),
            fresh: false,
            fds: Vec::new(),
            registered: 0,
            rearm: Vec::new(),
            pending: Vec::new(),
            waker: None,
        })
    }

    fn poll(&self) -> io::Result<&Poll> {
        self.poll
            .as_ref()
            .ok_or_else(|| io::Error::other("selector is closed"))
    }

    /// Whether any fd of the user's is registered (the waker does not count).
    #[inline]
    /// The registered fds and the directions watched (`(fd, read, write)`), in fd order:
    /// an owned source counts the directions its owner wants.
    pub(crate) fn watched(&self) -> Vec<(RawFd, bool, bool)> {
        self.fds
            .iter()
            .enumerate()
            .filter_map(|(fd, e)| {
                let e = e.as_ref()?;
                let (r, w) = match &e.edge {
                    Some(edge) => (edge.want_read, edge.want_write),
                    None => (e.reader.is_some(), e.writer.is_some()),
                };
                Some((fd as RawFd, r, w))
            })
            .collect()
    }

    pub(crate) fn has_fds(&self) -> bool {
        self.registered > 0
    }

    /// Whether an owned source has a callback due without waiting for an event: the loop must
    /// not block in its poll.
    #[inline]
    pub(crate) fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Whether a zero-timeout iteration has nothing to do here: no fd to poll (the waker's
    /// readiness is seen by its flag) and no owned source due.
    #[inline]
    pub(crate) fn is_idle(&self) -> bool {
        self.registered == 0 && self.pending.is_empty()
    }

    /// Whether the thread-safe waker exists.
    #[inline]
    pub(crate) fn has_waker(&self) -> bool {
        self.waker.is_some()
    }

    /// The thread-safe waker, registered on first use.
    pub(crate) fn waker(&mut self) -> io::Result<Arc<Waker>> {
        if let Some(w) = &self.waker {
            return Ok(w.clone());
        }
        let w = Arc::new(Waker(mio::Waker::new(self.poll()?.registry(), WAKER)?));
        self.waker = Some(w.clone());
        Ok(w)
    }

    /// Registers or updates `fd` for `interest`. `fresh`: not registered with epoll yet.
    fn arm(&self, fd: RawFd, interest: Interest, fresh: bool) -> io::Result<()> {
        let registry = self.poll()?.registry();
        let token = Token(fd as usize);
        let mut source = SourceFd(&fd);
        let r = if fresh {
            registry.register(&mut source, token, interest)
        } else {
            registry.reregister(&mut source, token, interest)
        };
        match r {
            // The user closed the fd without removing it, and epoll forgot it.
            Err(e) if !fresh && e.raw_os_error() == Some(libc::ENOENT) => {
                registry.register(&mut source, token, interest)
            }
            r => r,
        }
    }

    /// Sets the reader (`read`) or writer of `fd`; returns the one it replaces, for the caller
    /// to cancel once no borrow is held.
    pub(crate) fn add(
        &mut self,
        fd: RawFd,
        read: bool,
        cb: Rc<dyn IoCallback>,
    ) -> anyhow::Result<Option<Rc<dyn IoCallback>>> {
        let index = usize::try_from(fd).map_err(|_| invalid_fd(fd))?;
        if index >= self.fds.len() {
            self.fds.resize_with(index + 1, || None);
        }
        if self.fds[index].as_ref().is_some_and(|e| e.edge.is_some()) {
            // asyncio's `_ensure_fd_no_transport`: a transport's socket is not the user's to
            // watch (and a second callback would steal the transport's wake-ups).
            return Err(crate::errors::RuntimeError::new(format!(
                "File descriptor {fd} is used by transport <Transport fd={fd}>"
            ))
            .into());
        }
        let fresh = self.fds[index].is_none();
        let mut entry = self.fds[index].take().unwrap_or_default();
        let before = entry.interest();
        let old = if read {
            entry.reader.replace(cb)
        } else {
            entry.writer.replace(cb)
        };
        let after = entry.interest().expect("a callback was just set");
        if before != Some(after)
            && let Err(e) = self.arm(fd, after, fresh)
        {
            // Leave the fd as it was.
            let new = if read {
                std::mem::replace(&mut entry.reader, old)
            } else {
                std::mem::replace(&mut entry.writer, old)
            };
            drop(new);
            if !fresh {
                self.fds[index] = Some(entry);
            }
            return Err(e.into());
        }
        if before != Some(after) {
            entry.rearm = false;
        }
        if fresh {
            self.registered += 1;
        }
        self.fds[index] = Some(entry);
        Ok(old)
    }

    /// Removes the reader (`read`) or writer of `fd`; returns it, for the caller to cancel.
    /// Deregisters the fd when nothing is left on it.
    pub(crate) fn remove(&mut self, fd: RawFd, read: bool) -> Option<Rc<dyn IoCallback>> {
        let index = usize::try_from(fd).ok()?;
        let entry = self.fds.get_mut(index)?.as_mut()?;
        if entry.edge.is_some() {
            // Not the user's: see `add`.
            return None;
        }
        let old = if read {
            entry.reader.take()
        } else {
            entry.writer.take()
        }?;
        match entry.interest() {
            Some(interest) => {
                entry.rearm = false;
                // Errors mean the fd was closed under us: nothing left to update.
                let _ = self.arm(fd, interest, false);
            }
            None => {
                self.fds[index] = None;
                self.registered -= 1;
                if let Ok(poll) = self.poll() {
                    // Like asyncio, ignore errors: the fd may be closed already.
                    let _ = poll.registry().deregister(&mut SourceFd(&fd));
                }
            }
        }
        Some(old)
    }

    /// Waits for readiness, at most `timeout` (`None`: without limit). Retries when a signal
    /// interrupts the wait.
    pub(crate) fn select(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        // Level triggering: re-arm the fds that reported last time, now that their
        // callbacks ran.
        for i in 0..self.rearm.len() {
            let fd = self.rearm[i];
            if let Some(Some(entry)) = self.fds.get_mut(fd as usize)
                && std::mem::take(&mut entry.rearm)
                && let Some(interest) = entry.interest()
            {
                let _ = self.arm(fd, interest, false);
            }
        }
        self.rearm.clear();
        // Only a wait that can be cut short by a signal needs a deadline: no clock read for
        // the zero-timeout poll made in every busy iteration.
        let deadline = timeout
            .filter(|t| !t.is_zero())
            .and_then(|t| Instant::now().checked_add(t));
        let mut timeout = timeout;
        let poll = self
            .poll
            .as_mut()
            .ok_or_else(|| io::Error::other("closed"))?;
        loop {
            match poll.poll(&mut self.events, timeout) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    if let Some(d) = deadline {
                        timeout = Some(d.saturating_duration_since(Instant::now()));
                    }
                }
                Err(e) => return Err(e),
                Ok(()) => break,
            }
        }
        self.fresh = true;
        Ok(())
    }

    /// Hands the callbacks of the ready fds of the last `select` to `push`, READ before WRITE
    /// for each fd, in the order the poll returned the fds.
    /// Then the callbacks of the owned sources that are due.
    #[inline]
    pub(crate) fn process(&mut self, mut push: impl FnMut(Callback)) {
        if std::mem::take(&mut self.fresh) && !self.events.is_empty() {
            self.process_events(&mut push);
        }
        if !self.pending.is_empty() {
            self.process_pending(&mut push);
        }
    }

    fn process_events(&mut self, push: &mut impl FnMut(Callback)) {
        for event in self.events.iter() {
            if event.token() == WAKER {
                continue;
            }
            let fd = event.token().0 as RawFd;
            let Some(Some(entry)) = self.fds.get_mut(fd as usize) else {
                continue;
            };
            // As Python's EpollSelector: an error or hang-up wakes both directions.
            let readable = event.is_readable() || event.is_read_closed() || event.is_error();
            let writable = event.is_writable() || event.is_write_closed() || event.is_error();
            if let Some(edge) = &mut entry.edge {
                // Edge-triggered: remember the readiness; `process_pending` queues the
                // callbacks of the wanted directions.
                edge.readable |= readable;
                edge.writable |= writable;
                edge.read_closed |= event.is_read_closed() || event.is_error();
                edge.write_closed |= event.is_write_closed() || event.is_error();
                if edge.due() && !edge.pending {
                    edge.pending = true;
                    self.pending.push(fd);
                }
                continue;
            }
            let mut level = false;
            if readable && let Some(r) = &entry.reader {
                level |= r.level();
                push(r.clone().entry());
            }
            if writable && let Some(w) = &entry.writer {
                level |= w.level();
                push(w.clone().entry());
            }
            if level && !entry.rearm {
                entry.rearm = true;
                self.rearm.push(fd);
            }
        }
    }

    /// Queues the callbacks of the owned sources with a wanted direction cached ready (READ
    /// before WRITE); keeps them listed for the next iteration while they stay due.
    fn process_pending(&mut self, push: &mut impl FnMut(Callback)) {
        let fds = &mut self.fds;
        self.pending.retain(|&fd| {
            let Some(Some(entry)) = fds.get_mut(fd as usize) else {
                return false;
            };
            let Some(edge) = &mut entry.edge else {
                return false;
            };
            if !edge.due() {
                edge.pending = false;
                return false;
            }
            if edge.want_read
                && edge.readable
                && let Some(r) = &entry.reader
            {
                push(r.clone().entry());
            }
            if edge.want_write
                && edge.writable
                && let Some(w) = &entry.writer
            {
                push(w.clone().entry());
            }
            true
        });
    }

    /// Registers an owned source: `fd` for both directions, edge-triggered, with the owner's
    /// callbacks for each direction. Nothing is wanted yet and nothing is cached ready (the
    /// first poll reports the fd's current readiness). The owner must call
    /// [`Selector::deregister_edge`] before the fd closes.
    pub(crate) fn register_edge(
        &mut self,
        fd: RawFd,
        reader: Rc<dyn IoCallback>,
        writer: Rc<dyn IoCallback>,
    ) -> anyhow::Result<()> {
        let index = usize::try_from(fd).map_err(|_| invalid_fd(fd))?;
        if index >= self.fds.len() {
            self.fds.resize_with(index + 1, || None);
        }
        if self.fds[index].is_some() {
            return Err(crate::errors::RuntimeError::new(format!(
                "File descriptor {fd} is already registered"
            ))
            .into());
        }
        self.arm(fd, Interest::READABLE | Interest::WRITABLE, true)?;
        self.fds[index] = Some(FdEntry {
            reader: Some(reader),
            writer: Some(writer),
            rearm: false,
            edge: Some(EdgeState::default()),
        });
        self.registered += 1;
        Ok(())
    }

    fn edge(&mut self, fd: RawFd) -> Option<(&mut EdgeState, &mut Vec<RawFd>)> {
        let entry = self.fds.get_mut(usize::try_from(fd).ok()?)?.as_mut()?;
        Some((entry.edge.as_mut()?, &mut self.pending))
    }

    /// Whether the owner of source `fd` wants its reader (`read`) or writer called while that
    /// direction is ready. No syscall.
    pub(crate) fn want_edge(&mut self, fd: RawFd, read: bool, want: bool) {
        let Some((edge, pending)) = self.edge(fd) else {
            return;
        };
        if read {
            edge.want_read = want;
        } else {
            edge.want_write = want;
        }
        if edge.due() && !edge.pending {
            edge.pending = true;
            pending.push(fd);
        }
    }

    /// Forgets the cached readiness of source `fd` in one direction: its syscall said
    /// `EAGAIN`, or a short read or write showed the buffer drained or full. An edge that comes
    /// later is reported by the next poll, so no wake-up is lost. A direction the peer closed
    /// stays ready (the next syscall reports EOF or the error).
    pub(crate) fn clear_edge(&mut self, fd: RawFd, read: bool) {
        if let Some((edge, _)) = self.edge(fd) {
            if read {
                edge.readable = edge.read_closed;
            } else {
                edge.writable = edge.write_closed;
            }
        }
    }

    /// Forgets the readiness of source `fd` in one direction, the sticky closed flag too: for
    /// a datagram socket, where an error event (an ICMP error queued on the socket) is not the
    /// end of the socket. The `recvfrom` that returned the error consumed it, and the next
    /// error makes a new event.
    pub(crate) fn reset_edge(&mut self, fd: RawFd, read: bool) {
        if let Some((edge, _)) = self.edge(fd) {
            if read {
                edge.readable = false;
                edge.read_closed = false;
            } else {
                edge.writable = false;
                edge.write_closed = false;
            }
        }
    }

    /// Deregisters source `fd` (before it closes) and returns its callbacks, for the caller to
    /// cancel. Nothing happens for an fd that is not an owned source.
    pub(crate) fn deregister_edge(&mut self, fd: RawFd) -> Vec<Rc<dyn IoCallback>> {
        let Some(slot) = usize::try_from(fd).ok().and_then(|i| self.fds.get_mut(i)) else {
            return Vec::new();
        };
        if slot.as_ref().is_none_or(|e| e.edge.is_none()) {
            return Vec::new();
        }
        let entry = slot.take().expect("checked above");
        self.registered -= 1;
        if let Ok(poll) = self.poll() {
            let _ = poll.registry().deregister(&mut SourceFd(&fd));
        }
        // A new source on the same fd number must not find this one's item listed.
        self.pending.retain(|&p| p != fd);
        entry.reader.into_iter().chain(entry.writer).collect()
    }

    /// Closes the selector: deregisters every fd and returns every reader and writer, for the
    /// caller to cancel.
    pub(crate) fn close(&mut self) -> Vec<Rc<dyn IoCallback>> {
        let mut out = Vec::new();
        for (fd, entry) in self.fds.drain(..).enumerate() {
            let Some(entry) = entry else { continue };
            if let Some(poll) = &self.poll {
                let _ = poll.registry().deregister(&mut SourceFd(&(fd as RawFd)));
            }
            out.extend(entry.reader);
            out.extend(entry.writer);
        }
        self.registered = 0;
        self.rearm.clear();
        self.pending.clear();
        self.fresh = false;
        self.waker = None;
        self.poll = None;
        out
    }
}
