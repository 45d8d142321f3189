//! Watching file descriptors: the user's readers and writers (`add_reader`, level
//! triggered, as asyncio's selector loop) and the sources that tulip's own transports
//! register edge triggered.

use std::os::fd::RawFd;
use std::rc::Rc;

use super::EventLoop;
use crate::selector::{FdLike, IoCallback, io_callback};

impl EventLoop {
    fn add_io(&self, fd: impl FdLike, read: bool, cb: Rc<dyn IoCallback>) -> anyhow::Result<()> {
        self.check_closed()?;
        // Keep a reference so that, if the selector refuses the fd, the closure is dropped here
        // rather than under the selector's borrow.
        let keep = cb.clone();
        self.inner().quiet.set(false);
        let old = self
            .inner()
            .selector
            .borrow_mut()
            .add(fd.raw_fd(), read, cb);
        drop(keep);
        let old = old?;
        if let Some(old) = old {
            old.cancel();
        }
        Ok(())
    }

    fn remove_io(&self, fd: impl FdLike, read: bool) -> bool {
        if self.inner().closed.get() {
            return false;
        }
        let old = self.inner().selector.borrow_mut().remove(fd.raw_fd(), read);
        match old {
            Some(old) => {
                old.cancel();
                true
            }
            None => false,
        }
    }

    /// Calls `f` whenever `fd` is readable, level-triggered as in asyncio: in every iteration
    /// while data is left unread. Replaces (and cancels) a reader already on `fd`.
    ///
    /// # Errors
    ///
    /// - `RuntimeError("Event loop is closed")` on a closed loop.
    /// - `ValueError("Invalid file descriptor: -1")` for a negative fd.
    /// - `RuntimeError("File descriptor N is used by transport ...")` for a stream's socket.
    /// - The `io::Error` of `epoll_ctl` (e.g. `EPERM` for a regular file, `EBADF`).
    pub fn add_reader(&self, fd: impl FdLike, f: impl FnMut() + 'static) -> anyhow::Result<()> {
        self.add_io(fd, true, io_callback(f))
    }

    /// Removes the reader of `fd`; whether there was one. The fd is deregistered when no
    /// writer is left, so it may be closed right after. `false` on a closed loop.
    pub fn remove_reader(&self, fd: impl FdLike) -> bool {
        self.remove_io(fd, true)
    }

    /// Calls `f` whenever `fd` is writable (level-triggered). Replaces a writer already there.
    ///
    /// # Errors
    ///
    /// As [`EventLoop::add_reader`].
    pub fn add_writer(&self, fd: impl FdLike, f: impl FnMut() + 'static) -> anyhow::Result<()> {
        self.add_io(fd, false, io_callback(f))
    }

    /// Removes the writer of `fd`; whether there was one. `false` on a closed loop.
    pub fn remove_writer(&self, fd: impl FdLike) -> bool {
        self.remove_io(fd, false)
    }

    /// Sets a reader (`read`) or writer record made beforehand (e.g. by
    /// [`crate::selector::io_waiter`]), so that the caller can tell later whether it was
    /// replaced (`cancelled()`).
    pub(crate) fn add_io_callback(
        &self,
        fd: RawFd,
        read: bool,
        cb: Rc<dyn IoCallback>,
    ) -> anyhow::Result<()> {
        self.add_io(fd, read, cb)
    }

    /// Registers `fd` as an owned edge-triggered source (see the selector's "Owned
    /// edge-triggered sources"): `on_read` / `on_write` are called in each iteration while
    /// their direction is wanted ([`EventLoop::want_source`]) and cached ready. The owner
    /// calls [`EventLoop::clear_source`] on `EAGAIN` and [`EventLoop::deregister_source`]
    /// before the fd closes.
    pub(crate) fn register_source(
        &self,
        fd: RawFd,
        on_read: impl FnMut() + 'static,
        on_write: impl FnMut() + 'static,
    ) -> anyhow::Result<()> {
        self.check_closed()?;
        let (r, w) = (io_callback(on_read), io_callback(on_write));
        let keep = (r.clone(), w.clone());
        self.inner().quiet.set(false);
        let res = self.inner().selector.borrow_mut().register_edge(fd, r, w);
        // On failure the closures are dropped here, with no borrow held.
        drop(keep);
        res
    }

    /// Whether the owner of source `fd` wants `on_read` (`read`) or `on_write` called while
    /// that direction is ready. No syscall.
    pub(crate) fn want_source(&self, fd: RawFd, read: bool, want: bool) {
        if !self.inner().closed.get() {
            self.inner().quiet.set(false);
            self.inner().selector.borrow_mut().want_edge(fd, read, want);
        }
    }

    /// Forgets that source `fd` is ready in one direction (its syscall said `EAGAIN`).
    pub(crate) fn clear_source(&self, fd: RawFd, read: bool) {
        if !self.inner().closed.get() {
            self.inner().selector.borrow_mut().clear_edge(fd, read);
        }
    }

    /// Forgets that source `fd` is ready in one direction, even after an error event: for
    /// datagram sockets, whose errors are per datagram, not the end of the socket.
    pub(crate) fn reset_source(&self, fd: RawFd, read: bool) {
        if !self.inner().closed.get() {
            self.inner().selector.borrow_mut().reset_edge(fd, read);
        }
    }

    /// Deregisters source `fd` (call before closing it) and drops its callbacks.
    pub(crate) fn deregister_source(&self, fd: RawFd) {
        if self.inner().closed.get() {
            return;
        }
        let old = self.inner().selector.borrow_mut().deregister_edge(fd);
        // Cancelled after the borrow: dropping the closures may run user code.
        for cb in old {
            cb.cancel();
        }
    }

    /// The fds the selector watches, as `(fd, read, write)` in fd order: asyncio's
    /// `loop._selector.get_map()`. Readers and writers, and the sockets of streams and
    /// subprocess pipes while they wait; the loop's own waker (asyncio's self-pipe) is not
    /// listed.
    pub fn watched_fds(&self) -> Vec<(RawFd, bool, bool)> {
        self.inner().selector.borrow().watched()
    }
}
