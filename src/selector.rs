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
}

/// A reader or writer: the user's `FnMut`, called each time the fd is ready.
struct IoHandle<F> {
    cancelled: Cell<bool>,
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

/// Makes the reader/writer record for `f`.
pub(crate) fn io_callback<F: FnMut() + 'static>(f: F) -> Rc<dyn IoCallback> {
    Rc::new(IoHandle {
        cancelled: Cell::new(false),
        f: Cell::new(Some(f)),
    })
}

/// The reader and writer of one registered fd.
#[derive(Default)]
struct FdEntry {
    reader: Option<Rc<dyn IoCallback>>,
    writer: Option<Rc<dyn IoCallback>>,
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
    pub(crate) fn has_fds(&self) -> bool {
        self.registered > 0
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
        let old = if read {
            entry.reader.take()
        } else {
            entry.writer.take()
        }?;
        match entry.interest() {
            Some(interest) => {
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
            if let Some(Some(entry)) = self.fds.get(fd as usize)
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
    #[inline]
    pub(crate) fn process(&mut self, push: impl FnMut(Callback)) {
        if std::mem::take(&mut self.fresh) && !self.events.is_empty() {
            self.process_events(push);
        }
    }

    fn process_events(&mut self, mut push: impl FnMut(Callback)) {
        for event in self.events.iter() {
            if event.token() == WAKER {
                continue;
            }
            let fd = event.token().0 as RawFd;
            let Some(Some(entry)) = self.fds.get(fd as usize) else {
                continue;
            };
            // As Python's EpollSelector: an error or hang-up wakes both directions.
            let readable = event.is_readable() || event.is_read_closed() || event.is_error();
            let writable = event.is_writable() || event.is_write_closed() || event.is_error();
            if readable && let Some(r) = &entry.reader {
                push(r.clone().entry());
            }
            if writable && let Some(w) = &entry.writer {
                push(w.clone().entry());
            }
            self.rearm.push(fd);
        }
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
        self.fresh = false;
        self.waker = None;
        self.poll = None;
        out
    }
}
