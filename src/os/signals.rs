//! Unix signals (layer 9): asyncio's `loop.add_signal_handler` / `remove_signal_handler`.
//!
//! A signal handler may only do async-signal-safe things, so the process-wide `sigaction`
//! handler does one: it writes the signal's number as one byte to a non-blocking self-pipe
//! (Python's `signal.set_wakeup_fd` does the same). Every loop with a handler watches the
//! pipe's read end with `add_reader`; the loop that reads a byte runs the callback with
//! `call_soon` if the signal is its own, or forwards it with `call_soon_threadsafe` to the
//! loop that registered it. The callback is therefore an ordinary loop callback on its
//! loop's thread, and may do anything.
//!
//! The pipe is made once per process and never closed: a handler running on another thread
//! could otherwise write to an fd number that was closed and reused. Loops remove their
//! reader before closing; the pipe itself is two fds for the life of the process.
//!
//! Limitation: dispositions are process-wide. If two loops register the same signal, the
//! last registration gets it; the first loop's handler is never called again, and removing
//! it leaves the disposition alone (it belongs to the other loop now).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::os::fd::{AsRawFd, IntoRawFd};
use std::rc::Rc;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use anyhow::Result;

use crate::errors::{RuntimeError, ValueError};
use crate::event_loop::{EventLoop, LoopHandle, get_running_loop};
use crate::sys;

/// The self-pipe's write end, read by the handler (an atomic load is async-signal-safe).
static WAKE_WRITE: AtomicI32 = AtomicI32::new(-1);

/// The self-pipe's read end, made on first use.
static WAKE_READ: OnceLock<i32> = OnceLock::new();

/// Which loop registered each signal: its id and a handle to forward to it. Never touched
/// by the signal handler.
static OWNERS: Mutex<Vec<(i32, u64, LoopHandle)>> = Mutex::new(Vec::new());

static NEXT_LOOP_ID: AtomicU64 = AtomicU64::new(1);

fn owners() -> std::sync::MutexGuard<'static, Vec<(i32, u64, LoopHandle)>> {
    OWNERS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The `sigaction` handler: one byte, the signal number, to the self-pipe. Only
/// async-signal-safe calls (an atomic load, `write`), and `errno` is preserved because the
/// interrupted code may be about to read it.
extern "C" fn on_signal(sig: libc::c_int) {
    let fd = WAKE_WRITE.load(Ordering::Relaxed);
    if fd < 0 {
        return;
    }
    // A full pipe drops the byte (EAGAIN): the loop is awake anyway with bytes to read.
    sys::write_byte_in_signal_handler(fd, sig as u8);
}

/// The self-pipe's read end, making the pipe on first use.
fn wake_read_fd() -> Result<i32> {
    if let Some(fd) = WAKE_READ.get() {
        return Ok(*fd);
    }
    // Two loops may race here; the loser closes its pair.
    let (read, write) = sys::pipe_cloexec_nonblocking()?;
    if WAKE_READ.set(read.as_raw_fd()).is_ok() {
        // Never closed (see the module doc).
        let read = read.into_raw_fd();
        WAKE_WRITE.store(write.into_raw_fd(), Ordering::Release);
        Ok(read)
    } else {
        drop((read, write)); // closes the pair, which nobody else has seen
        Ok(*WAKE_READ.get().expect("set by the winner"))
    }
}

type SignalCallback = Rc<RefCell<Box<dyn FnMut()>>>;

/// A loop's signal handlers.
#[derive(Default)]
struct Signals {
    id: Cell<u64>,
    handlers: RefCell<HashMap<i32, SignalCallback>>,
    /// Whether the loop watches the self-pipe.
    reading: Cell<bool>,
    hooked: Cell<bool>,
}

impl Signals {
    fn for_loop(lp: &EventLoop) -> Rc<Signals> {
        let s = lp.extension::<Signals>();
        if !s.hooked.replace(true) {
            s.id.set(NEXT_LOOP_ID.fetch_add(1, Ordering::Relaxed));
            // asyncio's close(): every handler is removed (dispositions restored), and the
            // self-pipe reader goes before the selector closes.
            lp.add_close_hook(|lp| {
                let sigs: Vec<i32> = {
                    let s = lp.extension::<Signals>();
                    let h = s.handlers.borrow();
                    h.keys().copied().collect()
                };
                for sig in sigs {
                    let _ = lp.remove_signal_handler(sig);
                }
            });
        }
        s
    }
}

/// `signal.valid_signals()` on Linux: 1–31 and the real-time signals (32 and 33 belong to
/// the C library).
fn check_signal(sig: i32) -> Result<()> {
    if (1..32).contains(&sig) || sys::realtime_signals().contains(&sig) {
        Ok(())
    } else {
        Err(ValueError::new(format!("invalid signal number {sig}")).into())
    }
}

/// Runs on the registering loop's thread: queues the handler of `sig`, if there still is one.
fn dispatch(lp: &EventLoop, sig: i32) {
    let handler = lp
        .extension::<Signals>()
        .handlers
        .borrow()
        .get(&sig)
        .cloned();
    if let Some(h) = handler {
        let _ = lp.call_soon(move || {
            if let Ok(mut f) = h.try_borrow_mut() {
                (*f)()
            }
        });
    }
}

/// The self-pipe reader: every byte is a signal; each goes to the loop that registered it.
fn drain_wake_pipe(lp: &EventLoop, fd: i32, my_id: u64) {
    let mut buf = [0u8; 256];
    loop {
        let n = match sys::read(fd, &mut buf) {
            Ok(n) if n > 0 => n,
            // EAGAIN (drained; another loop may have read first), EINTR or EOF: the reader
            // is level-triggered and is called again while bytes are left.
            _ => return,
        };
        for &byte in &buf[..n] {
            let sig = i32::from(byte);
            let owner = owners()
                .iter()
                .find(|(s, _, _)| *s == sig)
                .map(|(_, id, h)| (*id, h.clone()));
            match owner {
                Some((id, _)) if id == my_id => dispatch(lp, sig),
                Some((_, handle)) => {
                    let _ = handle.call_soon_threadsafe(move || {
                        if let Ok(lp) = get_running_loop() {
                            dispatch(&lp, sig);
                        }
                    });
                }
                None => {} // removed meanwhile
            }
        }
    }
}

impl EventLoop {
    /// `loop.add_signal_handler(sig, callback)`: `callback` runs as a loop callback (on this
    /// loop's thread, in the iteration after the signal was read) each time `sig` arrives.
    /// Replaces a handler already set for `sig` on this loop.
    ///
    /// Errors, as asyncio: `ValueError("invalid signal number N")`, then
    /// `RuntimeError("Event loop is closed")`, then `RuntimeError("sig N cannot be caught")`
    /// for `SIGKILL` and `SIGSTOP`.
    pub fn add_signal_handler(&self, sig: i32, callback: impl FnMut() + 'static) -> Result<()> {
        check_signal(sig)?;
        if self.is_closed() {
            return Err(RuntimeError::new("Event loop is closed").into());
        }
        let s = Signals::for_loop(self);
        let read_fd = wake_read_fd()?;
        let handle = self.threadsafe_handle()?;
        let id = s.id.get();
        // Owner first, then the disposition: a signal arriving in between finds its owner.
        let previous = {
            let mut owners = owners();
            let previous = owners
                .iter()
                .position(|(x, _, _)| *x == sig)
                .map(|i| owners.remove(i));
            owners.push((sig, id, handle));
            previous
        };
        if let Err(e) = sys::set_disposition(sig, Some(on_signal)) {
            {
                let mut owners = owners();
                owners.retain(|(x, _, _)| *x != sig);
                owners.extend(previous);
            }
            if e.raw_os_error() == Some(libc::EINVAL) {
                return Err(RuntimeError::new(format!("sig {sig} cannot be caught")).into());
            }
            return Err(e.into());
        }
        let old = s
            .handlers
            .borrow_mut()
            .insert(sig, Rc::new(RefCell::new(Box::new(callback))));
        drop(old);
        if !s.reading.replace(true) {
            let lp = self.clone();
            let added = self.add_reader(read_fd, move || drain_wake_pipe(&lp, read_fd, id));
            if let Err(e) = added {
                s.reading.set(false);
                return Err(e);
            }
        }
        Ok(())
    }

    /// `loop.remove_signal_handler(sig)`: whether a handler was removed. The signal's default
    /// disposition is restored (for `SIGINT` too: Rust has no `KeyboardInterrupt`), unless
    /// another loop registered the signal since. `ValueError` for an invalid number.
    pub fn remove_signal_handler(&self, sig: i32) -> Result<bool> {
        check_signal(sig)?;
        let s = Signals::for_loop(self);
        let Some(old) = s.handlers.borrow_mut().remove(&sig) else {
            return Ok(false);
        };
        let mine = {
            let mut owners = owners();
            let before = owners.len();
            owners.retain(|(x, id, _)| !(*x == sig && *id == s.id.get()));
            owners.len() != before
        };
        if mine && let Err(e) = sys::set_disposition(sig, None) {
            if e.raw_os_error() == Some(libc::EINVAL) {
                return Err(RuntimeError::new(format!("sig {sig} cannot be caught")).into());
            }
            return Err(e.into());
        }
        if s.handlers.borrow().is_empty() && s.reading.replace(false) {
            // Deregistered here; the pipe itself stays open (see the module doc).
            if let Some(fd) = WAKE_READ.get() {
                self.remove_reader(*fd);
            }
        }
        drop(old);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_signals_are_linuxs() {
        assert!(check_signal(libc::SIGUSR1).is_ok());
        assert!(check_signal(libc::SIGKILL).is_ok()); // valid, just not catchable
        assert!(check_signal(0).is_err());
        assert!(check_signal(32).is_err());
        assert!(check_signal(65).is_err());
        assert!(check_signal(*sys::realtime_signals().end()).is_ok());
    }
}
