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
#[cfg(feature = "nightly")]
pub(crate) mod stackless;

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

/// Where a waiting method stands: finished, or waiting on a future (already queued on the
/// primitive's waiters) as the task tree names it. Each waiting method is written once as a
/// [`WaitOp`] over this; the stackful form drives it with `co.wait_as` ([`wait_stackful`]),
/// the stackless one with a yield (`sync/stackless.rs`), so both decide, queue, wake and
/// clean up in the same code.
pub(crate) enum Step<T> {
    Done(Result<T>),
    Wait(Future<()>, WaitKind),
}

impl<T> Step<T> {
    /// The outcome mapped; a wait stays a wait.
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Step<U> {
        match self {
            Step::Done(r) => Step::Done(r.map(f)),
            Step::Wait(fut, what) => Step::Wait(fut, what),
        }
    }
}

/// A waiting method on primitive `P`, as a state machine: `begin` is everything before the
/// first wait, `resume` everything after a wait ended (`waited` is `Err` when the task was
/// cancelled or its coroutine closed there).
pub(crate) trait WaitOp<P: ?Sized> {
    type Output;
    fn begin(&mut self, p: &P) -> Step<Self::Output>;
    fn resume(&mut self, p: &P, fut: Future<()>, waited: Result<()>) -> Step<Self::Output>;
}

/// The stackful form of a waiting method: `op` driven on `co`.
#[inline(always)]
#[track_caller] // the task tree shows the caller of the primitive
fn wait_stackful<P: ?Sized, O: WaitOp<P>>(co: &TaskCo, p: &P, mut op: O) -> Result<O::Output> {
    let step = op.begin(p);
    drive_stackful(co, p, op, step)
}

/// `op` driven on `co` from `step` (where a stackful method decided without `begin`).
#[inline(always)]
#[track_caller]
fn drive_stackful<P: ?Sized, O: WaitOp<P>>(
    co: &TaskCo,
    p: &P,
    mut op: O,
    mut step: Step<O::Output>,
) -> Result<O::Output> {
    loop {
        match step {
            Step::Done(r) => return r,
            Step::Wait(fut, what) => {
                let waited = co.wait_as(&fut, what);
                step = op.resume(p, fut, waited);
            }
        }
    }
}

/// The before-wait part of waiting in line: a fresh future of the running loop (binding the
/// primitive to it) at the back of `waiters`. The after-wait part is [`remove_waiter`]:
/// CPython removes the waiter before handling a CancelledError, so a wake-up passed on
/// afterwards cannot pick it again.
#[inline(always)] // as when it was written in each wait: the hot path keeps it inline
fn queue_waiter(
    binding: &LoopBinding,
    waiters: &Waiters,
    repr: impl FnOnce() -> String,
) -> Result<Future<()>> {
    let fut = binding.get_loop(repr)?.create_future::<()>();
    waiters.borrow_mut().push_back(fut.clone());
    Ok(fut)
}

/// `waiters.remove(fut)`: by identity; false if it was already taken out.
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
