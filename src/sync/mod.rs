//! Synchronization primitives (layer 8): asyncio's `Lock`, `Event`, `Condition`, `Semaphore`,
//! `BoundedSemaphore` and `Barrier`, ported line by line from CPython 3.11's `locks.py`.
//!
//! They are plain code on the public kernel: each blocked caller waits on a `Future<()>` kept
//! in a FIFO deque, and whoever wakes it calls `set_result`, which only schedules the waiter's
//! task (asyncio's rule R7), so the wake-up order is the deque order. Handles are cheap clones
//! of one shared primitive (Python passes objects by reference).
//!
//! Cancellation follows CPython exactly, because a cancelled waiter may already have been
//! woken: the wake-up was meant for it, so it passes the wake-up on to the next waiter instead
//! of losing it. When a loop closes with waiters pending, each waiting task is unwound with
//! `GeneratorExit` at its wait; the wait removes its future from the deque on the way out, so
//! no primitive keeps a dead task alive.
//!
//! Queues (asyncio's `Queue`, `PriorityQueue`, `LifoQueue`) are built on the same waiters.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use anyhow::Result;

use crate::errors::{ErrorExt, GeneratorExit, RuntimeError};
use crate::event_loop::{EventLoop, get_running_loop};
use crate::futures::Future;
use crate::tasks::{TaskCo, WaitKind};

mod barrier;
mod condition;
mod event;
mod lock;
pub(crate) mod queues;
mod semaphore;

pub use barrier::{Barrier, BarrierState};
pub use condition::Condition;
pub use event::Event;
pub use lock::Lock;
pub use semaphore::{BoundedSemaphore, Semaphore};

/// asyncio's `mixins._LoopBoundMixin`: a primitive binds to the running loop the first time it
/// has to block, and refuses any other loop afterwards (its waiters are futures of that loop).
#[derive(Default)]
pub(crate) struct LoopBinding(RefCell<Option<EventLoop>>);

impl LoopBinding {
    /// `_get_loop()`: the running loop, which binds the primitive if it is not bound yet.
    /// `repr` names the primitive in the error, as Python's `{self!r}` does.
    pub(crate) fn get_loop(&self, repr: impl FnOnce() -> String) -> Result<EventLoop> {
        let lp = get_running_loop()?;
        let same = self.0.borrow().as_ref().map(|bound| *bound == lp);
        match same {
            None => {
                *self.0.borrow_mut() = Some(lp.clone());
                Ok(lp)
            }
            Some(true) => Ok(lp),
            Some(false) => Err(RuntimeError::new(format!(
                "{} is bound to a different event loop",
                repr()
            ))
            .into()),
        }
    }
}

/// A FIFO of blocked callers, each waiting on its own future.
pub(crate) type Waiters = RefCell<VecDeque<Future<()>>>;

/// `waiters.remove(fut)`: by identity; false if it was already taken out.
/// Queues a fresh waiter on `waiters` (binding the primitive to the running loop), waits for
/// it, and takes it off the queue however the wait ends: CPython removes the waiter before
/// handling a CancelledError, so a wake-up passed on afterwards cannot pick it again.
#[track_caller] // the task tree shows the caller of the primitive, named `what`
fn wait_in_line(
    co: &TaskCo,
    binding: &LoopBinding,
    waiters: &Waiters,
    repr: impl FnOnce() -> String,
    what: WaitKind,
) -> Result<()> {
    let fut = binding.get_loop(repr)?.create_future::<()>();
    waiters.borrow_mut().push_back(fut.clone());
    let waited = co.wait_as(&fut, what);
    remove_waiter(waiters, &fut);
    waited
}

pub(crate) fn remove_waiter(waiters: &Waiters, fut: &Future<()>) -> bool {
    let mut w = waiters.borrow_mut();
    match w.iter().position(|f| f.ptr_eq(fut)) {
        Some(i) => {
            w.remove(i);
            true
        }
        None => false,
    }
}

/// Python's default `object.__repr__` head for a primitive: `tulip.locks.Lock object at 0x...`.
fn repr_head<T>(kind: &str, rc: &Rc<T>) -> String {
    format!(
        "tulip.locks.{kind} object at {:#x}",
        Rc::as_ptr(rc) as usize
    )
}

/// `, waiters:N` when there are waiters, as every primitive's repr adds.
fn waiters_suffix(waiters: &Waiters) -> String {
    match waiters.borrow().len() {
        0 => String::new(),
        n => format!(", waiters:{n}"),
    }
}

/// Something with `async with` support: acquire on entry, release on exit.
trait Scoped {
    #[track_caller]
    fn enter(&self, co: &TaskCo) -> Result<()>;
    fn exit(&self) -> Result<()>;
}

/// Releases on drop unless disarmed: the exit path of a panicking body.
struct ExitOnUnwind<'a, S: Scoped>(&'a S, bool);

impl<S: Scoped> Drop for ExitOnUnwind<'_, S> {
    fn drop(&mut self) {
        if self.1 {
            let _ = self.0.exit();
        }
    }
}

/// `async with prim: body`: `exit()` runs on every path out of `body` (a value, an error, a
/// panic). As with `__aexit__`, an error from `exit()` replaces the body's outcome, except
/// while the coroutine is being closed (`GeneratorExit`), which must stay what it is.
#[track_caller] // the task tree shows the user's `with`
fn scoped<S: Scoped, R>(
    prim: &S,
    co: &TaskCo,
    body: impl FnOnce(&TaskCo) -> Result<R>,
) -> Result<R> {
    prim.enter(co)?;
    let mut guard = ExitOnUnwind(prim, true);
    let out = body(co);
    guard.1 = false;
    let exited = prim.exit();
    match (out, exited) {
        (Err(e), _) if e.isinstance::<GeneratorExit>() => Err(e),
        (_, Err(e)) => Err(e),
        (out, Ok(())) => out,
    }
}
