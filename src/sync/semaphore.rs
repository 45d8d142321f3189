//! asyncio's `Semaphore` and `BoundedSemaphore`.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use anyhow::Result;

use crate::errors::{CancelledError, ErrorExt, ValueError};
use crate::futures::Future;
use crate::sync::{
    LoopBinding, Scoped, Step, WaitOp, Waiters, drive_stackful, queue_waiter, remove_waiter,
    repr_head, scoped, waiters_suffix,
};
use crate::tasks::{TaskCo, WaitKind};

struct SemaphoreInner {
    value: Cell<usize>,
    /// The initial value of a `BoundedSemaphore`, which `release` may not exceed.
    bound: Option<usize>,
    waiters: Waiters,
    binding: LoopBinding,
    kind: &'static str,
}

/// asyncio's `Semaphore`: a counter that `acquire` decrements, blocking at zero, and `release`
/// increments. Waiters are served FIFO; a newcomer does not overtake an un-cancelled waiter.
/// Clones are handles to the same semaphore.
///
/// # Examples
///
/// At most two of four tasks run the guarded block at a time:
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// use tulip::{Semaphore, gather, get_running_loop, sleep};
///
/// let peak = tulip::run(|co| {
///     let sem = Semaphore::new(2)?; // asyncio: sem = asyncio.Semaphore(2)
///     let (active, peak) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
///     let lp = get_running_loop()?;
///     let mut tasks = Vec::new();
///     for _ in 0..4 {
///         let (sem, active, peak) = (sem.clone(), active.clone(), peak.clone());
///         tasks.push(lp.create_task(move |co| {
///             // async with sem:
///             sem.with(co, |co| {
///                 active.set(active.get() + 1);
///                 peak.set(peak.get().max(active.get()));
///                 sleep(co, Duration::from_millis(1))?;
///                 active.set(active.get() - 1);
///                 Ok(())
///             })
///         })?);
///     }
///     co.wait(&gather(&tasks)?)?;
///     Ok(peak.get())
/// })?;
/// assert_eq!(peak, 2);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Semaphore(Rc<SemaphoreInner>);

impl Semaphore {
    /// `asyncio.Semaphore(value)`.
    ///
    /// # Errors
    ///
    /// `ValueError("Semaphore initial value must be >= 0")` for a negative value.
    pub fn new(value: i64) -> Result<Self> {
        Self::make(value, false, "Semaphore")
    }

    fn make(value: i64, bounded: bool, kind: &'static str) -> Result<Self> {
        let Ok(value) = usize::try_from(value) else {
            return Err(ValueError::new("Semaphore initial value must be >= 0").into());
        };
        Ok(Semaphore(Rc::new(SemaphoreInner {
            value: Cell::new(value),
            bound: bounded.then_some(value),
            waiters: RefCell::default(),
            binding: LoopBinding::default(),
            kind,
        })))
    }

    /// The counter (asyncio's `_value`).
    pub fn value(&self) -> usize {
        self.0.value.get()
    }

    /// Whether `acquire` would block: the counter is 0 or an un-cancelled waiter is queued.
    pub fn locked(&self) -> bool {
        self.0.value.get() == 0 || self.0.waiters.borrow().iter().any(|w| !w.cancelled())
    }

    /// `await sem.acquire()`: decrements the counter, first waiting in FIFO order while it is
    /// 0; returns `true`. A waiter cancelled after it was woken gives its unit back and wakes
    /// the next one.
    ///
    /// # Errors
    ///
    /// - `CancelledError` when the waiting task is cancelled.
    /// - `RuntimeError("<Semaphore ...> is bound to a different event loop")` when it has to
    ///   wait on another loop than the one it first waited on.
    #[track_caller]
    pub fn acquire(&self, co: &TaskCo) -> Result<bool> {
        // The uncontended path without the state machine's outcome to unwrap.
        if self.take_if_free() {
            return Ok(true);
        }
        drive_stackful(co, self, Acquire, Acquire::queue(self))
    }

    /// `acquire`'s decision: takes a unit at once unless `locked()`.
    #[inline(always)]
    fn take_if_free(&self) -> bool {
        if self.locked() {
            return false;
        }
        self.0.value.set(self.0.value.get() - 1);
        true
    }

    /// `sem.release()`: increments the counter and wakes the first waiter not yet woken.
    pub fn release(&self) {
        self.0.value.set(self.0.value.get() + 1);
        self.wake_up_next();
    }

    /// `async with sem: body`: acquired around `body`, released on every way out.
    ///
    /// # Errors
    ///
    /// `body`'s error, or [`Semaphore::acquire`]'s.
    #[track_caller]
    pub fn with<R>(&self, co: &TaskCo, body: impl FnOnce(&TaskCo) -> Result<R>) -> Result<R> {
        scoped(self, co, body)
    }

    /// `_wake_up_next`: hands one unit to the first waiter not yet woken.
    fn wake_up_next(&self) {
        let next = self.0.waiters.borrow().iter().find(|f| !f.done()).cloned();
        if let Some(fut) = next {
            self.0.value.set(self.0.value.get() - 1);
            let _ = fut.set_result(());
        }
    }
}

/// `sem.acquire()`, shared by [`Semaphore::acquire`] and its stackless form.
pub(crate) struct Acquire;

impl Acquire {
    /// Past the decision: a waiter at the back of the line.
    #[inline(always)]
    fn queue(sem: &Semaphore) -> Step<bool> {
        let inner = &sem.0;
        match queue_waiter(&inner.binding, &inner.waiters, || format!("{sem:?}")) {
            Ok(fut) => Step::Wait(fut, WaitKind::SemaphoreAcquire),
            Err(e) => Step::Done(Err(e)),
        }
    }
}

impl WaitOp<Semaphore> for Acquire {
    type Output = bool;

    #[inline]
    fn begin(&mut self, sem: &Semaphore) -> Step<bool> {
        if sem.take_if_free() {
            return Step::Done(Ok(true));
        }
        Self::queue(sem)
    }

    #[inline(always)] // into the stackful method, as when it was written there
    fn resume(&mut self, sem: &Semaphore, fut: Future<()>, waited: Result<()>) -> Step<bool> {
        let inner = &sem.0;
        remove_waiter(&inner.waiters, &fut);
        match waited {
            Ok(()) => {
                // `_wake_up_next` already took this waiter's unit; pass any surplus on.
                if inner.value.get() > 0 {
                    sem.wake_up_next();
                }
                Step::Done(Ok(true))
            }
            Err(e) => {
                if e.isinstance::<CancelledError>() && !fut.cancelled() {
                    // Woken, then cancelled before running: the unit goes to the next one.
                    inner.value.set(inner.value.get() + 1);
                    sem.wake_up_next();
                }
                Step::Done(Err(e))
            }
        }
    }
}

impl Scoped for Semaphore {
    #[track_caller]
    fn enter(&self, co: &TaskCo) -> Result<()> {
        self.acquire(co).map(drop)
    }
    fn exit(&self) -> Result<()> {
        self.release();
        Ok(())
    }
}

/// Python's repr: `<tulip.locks.Semaphore object at 0x... [unlocked, value:2]>`.
impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.locked() {
            "locked".to_string()
        } else {
            format!("unlocked, value:{}", self.value())
        };
        write!(
            f,
            "<{} [{state}{}]>",
            repr_head(self.0.kind, &self.0),
            waiters_suffix(&self.0.waiters)
        )
    }
}

/// asyncio's `BoundedSemaphore`: a [`Semaphore`] whose `release` refuses to go above the
/// initial value. Clones are handles to the same semaphore.
#[derive(Clone)]
pub struct BoundedSemaphore(Semaphore);

impl BoundedSemaphore {
    /// `asyncio.BoundedSemaphore(value)`.
    ///
    /// # Errors
    ///
    /// `ValueError("Semaphore initial value must be >= 0")` for a negative value.
    pub fn new(value: i64) -> Result<Self> {
        Semaphore::make(value, true, "BoundedSemaphore").map(BoundedSemaphore)
    }

    /// The counter.
    pub fn value(&self) -> usize {
        self.0.value()
    }

    /// Whether `acquire` would block.
    pub fn locked(&self) -> bool {
        self.0.locked()
    }

    /// `await sem.acquire()` (see [`Semaphore::acquire`]).
    ///
    /// # Errors
    ///
    /// As [`Semaphore::acquire`].
    #[track_caller]
    pub fn acquire(&self, co: &TaskCo) -> Result<bool> {
        self.0.acquire(co)
    }

    /// `sem.release()`.
    ///
    /// # Errors
    ///
    /// `ValueError("BoundedSemaphore released too many times")` at the initial value.
    pub fn release(&self) -> Result<()> {
        if self.0.0.bound.is_some_and(|bound| self.0.value() >= bound) {
            return Err(ValueError::new("BoundedSemaphore released too many times").into());
        }
        self.0.release();
        Ok(())
    }

    /// `async with sem: body`: acquired around `body`, released on every way out.
    #[track_caller]
    pub fn with<R>(&self, co: &TaskCo, body: impl FnOnce(&TaskCo) -> Result<R>) -> Result<R> {
        scoped(self, co, body)
    }

    /// The same semaphore without the bound check on `release`.
    pub fn as_semaphore(&self) -> &Semaphore {
        &self.0
    }
}

impl Scoped for BoundedSemaphore {
    #[track_caller]
    fn enter(&self, co: &TaskCo) -> Result<()> {
        self.acquire(co).map(drop)
    }
    fn exit(&self) -> Result<()> {
        self.release()
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}
