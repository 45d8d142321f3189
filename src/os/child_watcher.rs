//! How the loop learns that a child exited (layer 8): a pidfd on the loop, or, where
//! `pidfd_open` is refused, a waiter thread per child (asyncio's `ThreadedChildWatcher`).
//!
//! A pidfd (Linux 5.3+) becomes readable when the child exits: an ordinary reader on the loop,
//! no thread and no `SIGCHLD` handler, and `pidfd_send_signal` can never hit a recycled pid.
//! Some sandboxes (seccomp filters, gVisor) and valgrind refuse `pidfd_open` with `ENOSYS` or
//! `EPERM`; then a thread named `tulip-waitpid` blocks in `waitid` until the child exits,
//! reaps it, and reports the returncode through the loop's thread-safe queue. The thread
//! first waits with `WNOWAIT` (the child stays a zombie, its pid reserved) and reaps it under
//! a lock that `send_signal` takes too, so a signal is never sent to a pid reused by another
//! process.
//!
//! The environment variable `TULIP_CHILD_WATCHER=thread` forces the thread, to test it (or to
//! run under a tool that mishandles pidfds). It is read at each spawn.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};

use anyhow::Result;

use crate::event_loop::{EventLoop, get_running_loop};
use crate::sys;

/// The environment variable that forces the waiter thread (value `thread`).
pub(crate) const FORCE_THREAD_VAR: &str = "TULIP_CHILD_WATCHER";

/// How one child is watched.
pub(crate) enum Watch {
    /// A pidfd with a reader on the loop.
    Pidfd(OwnedFd),
    /// A waiter thread; `true` once it reaped the child (under the lock).
    Thread(Arc<Mutex<bool>>),
}

/// What runs on the loop with a child's returncode.
type OnExit = Box<dyn FnOnce(i32)>;

/// The exits the waiter threads report, by id, waiting for the loop to run them.
#[derive(Default)]
struct ThreadExits {
    next: Cell<u64>,
    pending: RefCell<HashMap<u64, OnExit>>,
    /// The waiter threads, joined when their report arrives (they are at their end then), so
    /// that none outlives the loop's knowledge of it.
    threads: RefCell<HashMap<u64, std::thread::JoinHandle<()>>>,
}

/// Reaps `pid` if it has exited: its returncode as Python's (`-signal` for a signal).
pub(crate) fn try_reap(pid: u32) -> io::Result<Option<i32>> {
    loop {
        match sys::waitpid(pid, true) {
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

fn forced_thread() -> bool {
    std::env::var_os(FORCE_THREAD_VAR).is_some_and(|v| v == "thread")
}

impl Watch {
    /// Starts watching the child `pid`: `on_exit(returncode)` runs in a loop callback once it
    /// has exited and been reaped. On error the child is not watched (the caller kills it).
    pub(crate) fn start(
        lp: &EventLoop,
        pid: u32,
        on_exit: impl FnOnce(i32) + 'static,
    ) -> Result<Watch> {
        if !forced_thread() {
            match sys::pidfd_open(pid) {
                Ok(fd) => return Self::start_pidfd(lp, pid, fd, on_exit),
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Self::start_thread(lp, pid, on_exit)
    }

    fn start_pidfd(
        lp: &EventLoop,
        pid: u32,
        pidfd: OwnedFd,
        on_exit: impl FnOnce(i32) + 'static,
    ) -> Result<Watch> {
        let fd = pidfd.as_raw_fd();
        let lp2 = lp.clone();
        let mut on_exit = Some(on_exit);
        // The reader holds only what it calls, never the Process: dropping the Process must
        // be able to kill the child.
        lp.add_reader(fd, move || {
            let code = match try_reap(pid) {
                Ok(None) => return, // spurious: still running
                Ok(Some(code)) => code,
                // ECHILD: reaped elsewhere (someone called waitpid(-1)); Python reports 255.
                Err(_) => 255,
            };
            lp2.remove_reader(fd);
            if let Some(f) = on_exit.take() {
                f(code);
            }
        })?;
        Ok(Watch::Pidfd(pidfd))
    }

    fn start_thread(
        lp: &EventLoop,
        pid: u32,
        on_exit: impl FnOnce(i32) + 'static,
    ) -> Result<Watch> {
        let handle = lp.threadsafe_handle()?;
        let exits = lp.extension::<ThreadExits>();
        let id = exits.next.get();
        exits.next.set(id + 1);
        exits.pending.borrow_mut().insert(id, Box::new(on_exit));
        let reaped = Arc::new(Mutex::new(false));
        let flag = reaped.clone();
        let spawned = std::thread::Builder::new()
            .name("tulip-waitpid".into())
            .spawn(move || {
                loop {
                    match sys::wait_exited_nowait(pid) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        _ => break,
                    }
                }
                let code = {
                    let mut reaped = flag.lock().unwrap_or_else(|p| p.into_inner());
                    let code = loop {
                        match sys::waitpid(pid, false) {
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                            Ok(Some(code)) => break code,
                            // ECHILD: reaped elsewhere; Python reports 255.
                            _ => break 255,
                        }
                    };
                    *reaped = true;
                    code
                };
                // Refused once the loop is closed: nobody waits any more.
                let _ = handle.call_soon_threadsafe(move || deliver(id, code));
            });
        match spawned {
            Ok(thread) => {
                exits.threads.borrow_mut().insert(id, thread);
            }
            Err(e) => {
                let f = exits.pending.borrow_mut().remove(&id);
                drop(f);
                return Err(crate::errors::RuntimeError::new(format!(
                    "can't start new thread: {e}"
                ))
                .into());
            }
        }
        Ok(Watch::Thread(reaped))
    }

    /// Sends `sig` to the child; `ESRCH` once it has exited (pidfd) or been reaped (thread).
    pub(crate) fn signal(&self, pid: u32, sig: i32) -> io::Result<()> {
        match self {
            Watch::Pidfd(fd) => sys::pidfd_send_signal(fd.as_raw_fd(), sig),
            Watch::Thread(reaped) => {
                let reaped = reaped.lock().unwrap_or_else(|p| p.into_inner());
                if *reaped {
                    return Err(io::Error::from_raw_os_error(libc::ESRCH));
                }
                sys::kill(pid, sig)
            }
        }
    }

    /// Stops watching (the Process is going away): the pidfd's reader is removed before the
    /// pidfd closes. A waiter thread goes on until the child exits, and reaps it.
    pub(crate) fn stop(&self, lp: &EventLoop) {
        if let Watch::Pidfd(fd) = self {
            lp.remove_reader(fd.as_raw_fd());
        }
    }

    /// Whether a waiter thread watches the child (asyncio's `ThreadedChildWatcher`).
    pub(crate) fn is_thread(&self) -> bool {
        matches!(self, Watch::Thread(_))
    }
}

/// Runs on the loop: the exit a waiter thread reported.
fn deliver(id: u64, code: i32) {
    let Ok(lp) = get_running_loop() else {
        return;
    };
    let exits = lp.extension::<ThreadExits>();
    let thread = exits.threads.borrow_mut().remove(&id);
    if let Some(t) = thread {
        // It has sent its report: all it has left to do is to return.
        let _ = t.join();
    }
    let f = exits.pending.borrow_mut().remove(&id);
    if let Some(f) = f {
        f(code);
    }
}
