//! asyncio's `Lock`.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use anyhow::Result;

use crate::errors::{CancelledError, ErrorExt, RuntimeError};
use crate::futures::Future;
use crate::sync::{
    LoopBinding, Scoped, Step, WaitOp, Waiters, drive_stackful, queue_waiter, remove_waiter,
    repr_head, scoped, waiters_suffix,
};
use crate::tasks::{TaskCo, WaitKind};

pub(crate) struct LockInner {
    pub(crate) locked: Cell<bool>,
    waiters: Waiters,
    binding: LoopBinding,
}

/// asyncio's `Lock`: a primitive lock, owned by no particular task, granted in FIFO order.
///
/// `acquire` succeeds at once only when the lock is unlocked and no un-cancelled waiter is
/// queued (so a newcomer cannot overtake a waiter that was just woken); otherwise the caller
/// queues. `release` wakes the first waiter. Clones are handles to the same lock.
///
/// # Examples
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// use tulip::{Lock, gather, get_running_loop, sleep};
///
/// let log = tulip::run(|co| {
///     let lock = Lock::new(); // asyncio: lock = asyncio.Lock()
///     let log = Rc::new(RefCell::new(Vec::new()));
///     let lp = get_running_loop()?;
///     let mut tasks = Vec::new();
///     for name in ["a", "b"] {
///         let (lock, log) = (lock.clone(), log.clone());
///         tasks.push(lp.create_task(move |co| {
///             // async with lock:
///             lock.with(co, |co| {
///                 log.borrow_mut().push(format!("{name} in"));
///                 sleep(co, Duration::from_millis(1))?; // the other task waits meanwhile
///                 log.borrow_mut().push(format!("{name} out"));
///                 Ok(())
///             })
///         })?);
///     }
///     co.wait(&gather(&tasks)?)?;
///     Ok(log.take())
/// })?;
/// assert_eq!(log, ["a in", "a out", "b in", "b out"]);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Lock(pub(crate) Rc<LockInner>);

impl Default for Lock {
    fn default() -> Self {
        Self::new()
    }
}

impl Lock {
    /// `asyncio.Lock()`: unlocked, not yet bound to a loop.
    pub fn new() -> Self {
        Lock(Rc::new(LockInner {
            locked: Cell::new(false),
            waiters: RefCell::default(),
            binding: LoopBinding::default(),
        }))
    }

    /// Whether the lock is held.
    pub fn locked(&self) -> bool {
        self.0.locked.get()
    }

    /// `await lock.acquire()`: takes the lock, waiting in FIFO order if needed; returns `true`.
    ///
    /// If the waiting task is cancelled, the `CancelledError` propagates; if the lock was free
    /// by then (this waiter had been woken), the next waiter is woken in its place.
    ///
    /// # Errors
    ///
    /// - `CancelledError` when the waiting task is cancelled.
    /// - `RuntimeError("<Lock ...> is bound to a different event loop")` when it has to wait
    ///   on another loop than the one it first waited on.
    #[track_caller]
    pub fn acquire(&self, co: &TaskCo) -> Result<bool> {
        // The uncontended path without the state machine's outcome to unwrap.
        if self.take_if_free() {
            return Ok(true);
        }
        drive_stackful(co, self, Acquire, Acquire::queue(self))
    }

    /// `acquire`'s decision: takes the lock at once if it is free and no un-cancelled waiter
    /// is queued (so a newcomer cannot overtake a waiter that was just woken).
    #[inline(always)]
    fn take_if_free(&self) -> bool {
        let inner = &self.0;
        if !inner.locked.get() && inner.waiters.borrow().iter().all(Future::cancelled) {
            inner.locked.set(true);
            return true;
        }
        false
    }

    /// `lock.release()`: unlocks and wakes the first waiter.
    ///
    /// # Errors
    ///
    /// `RuntimeError("Lock is not acquired.")` when unlocked.
    pub fn release(&self) -> Result<()> {
        if !self.0.locked.get() {
            return Err(RuntimeError::new("Lock is not acquired.").into());
        }
        self.0.locked.set(false);
        self.wake_up_first();
        Ok(())
    }

    /// `async with lock: body`: acquires, runs `body`, and releases on every way out (a value,
    /// an error, a panic). A cancelled acquire runs no body and releases nothing.
    ///
    /// # Errors
    ///
    /// `body`'s error, or [`Lock::acquire`]'s.
    #[track_caller]
    pub fn with<R>(&self, co: &TaskCo, body: impl FnOnce(&TaskCo) -> Result<R>) -> Result<R> {
        scoped(self, co, body)
    }

    /// Whether both handles are the same lock (Python's `is`).
    pub fn ptr_eq(&self, other: &Lock) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    /// `_wake_up_first`: wakes the first waiter unless it is already woken. A woken waiter
    /// will either take the lock or, if it was cancelled meanwhile, come back here.
    fn wake_up_first(&self) {
        let first = self.0.waiters.borrow().front().cloned();
        if let Some(fut) = first
            && !fut.done()
        {
            let _ = fut.set_result(());
        }
    }
}

/// `lock.acquire()`, shared by [`Lock::acquire`] and its stackless form.
pub(crate) struct Acquire;

impl Acquire {
    /// Past the decision: a waiter at the back of the line.
    #[inline(always)]
    fn queue(lock: &Lock) -> Step<bool> {
        let inner = &lock.0;
        match queue_waiter(&inner.binding, &inner.waiters, || format!("{lock:?}")) {
            Ok(fut) => Step::Wait(fut, WaitKind::LockAcquire),
            Err(e) => Step::Done(Err(e)),
        }
    }
}

impl WaitOp<Lock> for Acquire {
    type Output = bool;

    #[inline]
    fn begin(&mut self, lock: &Lock) -> Step<bool> {
        if lock.take_if_free() {
            return Step::Done(Ok(true));
        }
        Self::queue(lock)
    }

    #[inline(always)] // into the stackful method, as when it was written there
    fn resume(&mut self, lock: &Lock, fut: Future<()>, waited: Result<()>) -> Step<bool> {
        let inner = &lock.0;
        // CPython removes the waiter before handling a CancelledError, so that the wake-up
        // passed on below cannot pick this waiter again.
        remove_waiter(&inner.waiters, &fut);
        match waited {
            Ok(()) => {
                inner.locked.set(true);
                Step::Done(Ok(true))
            }
            Err(e) => {
                if e.isinstance::<CancelledError>() && !inner.locked.get() {
                    lock.wake_up_first();
                }
                Step::Done(Err(e))
            }
        }
    }
}

impl Scoped for Lock {
    #[track_caller]
    fn enter(&self, co: &TaskCo) -> Result<()> {
        self.acquire(co).map(drop)
    }
    fn exit(&self) -> Result<()> {
        self.release()
    }
}

/// Python's repr: `<tulip.locks.Lock object at 0x... [locked, waiters:3]>`.
impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.locked() { "locked" } else { "unlocked" };
        write!(
            f,
            "<{} [{state}{}]>",
            repr_head("Lock", &self.0),
            waiters_suffix(&self.0.waiters)
        )
    }
}
