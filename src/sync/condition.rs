//! asyncio's `Condition`.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use anyhow::Result;

use super::lock::{self, Lock};
use crate::errors::{CancelledError, ErrorExt, GeneratorExit, RuntimeError};
use crate::futures::Future;
use crate::sync::{
    LoopBinding, Step, WaitOp, Waiters, queue_waiter, remove_waiter, repr_head, scoped,
    wait_stackful, waiters_suffix,
};
use crate::tasks::{TaskCo, WaitKind};

struct ConditionInner {
    lock: Lock,
    waiters: Waiters,
    binding: LoopBinding,
}

/// asyncio's `Condition`: tasks wait, with its lock held, until another task notifies them.
/// Clones are handles to the same condition.
#[derive(Clone)]
pub struct Condition(Rc<ConditionInner>);

impl Default for Condition {
    fn default() -> Self {
        Self::new()
    }
}

impl Condition {
    /// `asyncio.Condition()`: with a new lock of its own.
    pub fn new() -> Self {
        Self::with_lock(Lock::new())
    }

    /// `asyncio.Condition(lock)`: shares `lock` (e.g. with other conditions).
    pub fn with_lock(lock: Lock) -> Self {
        Condition(Rc::new(ConditionInner {
            lock,
            waiters: RefCell::default(),
            binding: LoopBinding::default(),
        }))
    }

    /// The underlying lock.
    pub fn lock(&self) -> &Lock {
        &self.0.lock
    }

    /// Whether the underlying lock is held.
    pub fn locked(&self) -> bool {
        self.0.lock.locked()
    }

    /// `await cond.acquire()`: acquires the underlying lock.
    #[track_caller]
    pub fn acquire(&self, co: &TaskCo) -> Result<bool> {
        self.0.lock.acquire(co)
    }

    /// `cond.release()`: releases the underlying lock.
    pub fn release(&self) -> Result<()> {
        self.0.lock.release()
    }

    /// `async with cond: body`: the underlying lock held around `body` (see [`Lock::with`]).
    #[track_caller]
    pub fn with<R>(&self, co: &TaskCo, body: impl FnOnce(&TaskCo) -> Result<R>) -> Result<R> {
        scoped(&self.0.lock, co, body)
    }

    /// `await cond.wait()`: releases the lock, waits for a notify, re-acquires the lock and
    /// returns `true`. The lock is re-acquired however the wait ends; a `CancelledError` that
    /// arrives while re-acquiring is raised only after the lock is held again.
    /// `RuntimeError("cannot wait on un-acquired lock")` without the lock.
    ///
    /// One difference: when the coroutine is being closed (`GeneratorExit`, e.g. its loop is
    /// closing), it cannot suspend to re-acquire; it takes the lock only if it is free.
    #[track_caller]
    pub fn wait(&self, co: &TaskCo) -> Result<bool> {
        wait_stackful(co, self, Wait::new())
    }

    /// `await cond.wait_for(predicate)`: waits until `predicate()` is true (checked first, then
    /// after each wake-up, with the lock held); returns `true`.
    #[track_caller]
    pub fn wait_for(&self, co: &TaskCo, predicate: impl FnMut() -> bool) -> Result<bool> {
        wait_stackful(co, self, WaitFor::new(predicate))
    }

    /// `cond.notify(n)`: wakes up to `n` waiters, oldest first (a waiter already woken does not
    /// count). They return from `wait` only once they re-acquire the lock, which the caller
    /// still holds. `RuntimeError("cannot notify on un-acquired lock")` without the lock.
    pub fn notify(&self, n: usize) -> Result<()> {
        if !self.locked() {
            return Err(RuntimeError::new("cannot notify on un-acquired lock").into());
        }
        let waiters: Vec<Future<()>> = self.0.waiters.borrow().iter().cloned().collect();
        let mut woken = 0;
        for fut in waiters {
            if woken >= n {
                break;
            }
            if !fut.done() {
                woken += 1;
                let _ = fut.set_result(());
            }
        }
        Ok(())
    }

    /// `cond.notify_all()`: wakes every waiter.
    pub fn notify_all(&self) -> Result<()> {
        let n = self.0.waiters.borrow().len();
        self.notify(n)
    }
}

/// `cond.wait()`, shared by [`Condition::wait`] and its stackless form: queued on the
/// condition until notified, then re-acquiring the lock (a [`lock::Acquire`] in turn).
pub(crate) struct Wait(Phase);

enum Phase {
    Start,
    Notified,
    /// CPython's `finally`: re-acquiring the lock, with the wait's outcome to return after.
    Reacquire {
        waited: Result<bool>,
        cancelled: bool,
    },
}

impl Wait {
    pub(crate) fn new() -> Self {
        Wait(Phase::Start)
    }

    /// Takes the lock back, retrying after a cancellation (raised once it is held).
    fn reacquire(&mut self, cond: &Condition) -> Step<bool> {
        loop {
            match lock::Acquire.begin(&cond.0.lock) {
                Step::Done(Ok(_)) => return self.finish(),
                Step::Done(Err(e)) if e.isinstance::<CancelledError>() => self.note_cancelled(),
                Step::Done(Err(e)) => return Step::Done(Err(e)),
                wait => return wait,
            }
        }
    }

    fn note_cancelled(&mut self) {
        if let Phase::Reacquire { cancelled, .. } = &mut self.0 {
            *cancelled = true;
        }
    }

    fn finish(&mut self) -> Step<bool> {
        match std::mem::replace(&mut self.0, Phase::Start) {
            Phase::Reacquire {
                cancelled: true, ..
            } => Step::Done(Err(CancelledError::new(None).into())),
            Phase::Reacquire { waited, .. } => Step::Done(waited),
            _ => unreachable!("finished while re-acquiring"),
        }
    }
}

impl WaitOp<Condition> for Wait {
    type Output = bool;

    fn begin(&mut self, cond: &Condition) -> Step<bool> {
        if !cond.locked() {
            return Step::Done(Err(
                RuntimeError::new("cannot wait on un-acquired lock").into()
            ));
        }
        if let Err(e) = cond.release() {
            return Step::Done(Err(e));
        }
        let inner = &cond.0;
        match queue_waiter(&inner.binding, &inner.waiters, || format!("{cond:?}")) {
            Ok(fut) => {
                self.0 = Phase::Notified;
                Step::Wait(fut, WaitKind::ConditionWait)
            }
            Err(e) => {
                self.0 = Phase::Reacquire {
                    waited: Err(e),
                    cancelled: false,
                };
                self.reacquire(cond)
            }
        }
    }

    fn resume(&mut self, cond: &Condition, fut: Future<()>, waited: Result<()>) -> Step<bool> {
        if let Phase::Notified = self.0 {
            remove_waiter(&cond.0.waiters, &fut);
            let waited = waited.map(|()| true);
            if let Err(e) = &waited
                && e.isinstance::<GeneratorExit>()
            {
                // A closing coroutine cannot suspend to re-acquire: it takes the lock only
                // if it is free.
                if !cond.0.lock.locked() {
                    cond.0.lock.0.locked.set(true);
                }
                self.0 = Phase::Start;
                return Step::Done(waited);
            }
            self.0 = Phase::Reacquire {
                waited,
                cancelled: false,
            };
            return self.reacquire(cond);
        }
        match lock::Acquire.resume(&cond.0.lock, fut, waited) {
            Step::Done(Ok(_)) => self.finish(),
            Step::Done(Err(e)) if e.isinstance::<CancelledError>() => {
                self.note_cancelled();
                self.reacquire(cond)
            }
            other => other,
        }
    }
}

/// `while not predicate(): await cond.wait()`, for `wait_for` and the barrier.
pub(crate) struct WaitUntil(Wait);

impl WaitUntil {
    pub(crate) fn new() -> Self {
        WaitUntil(Wait::new())
    }

    pub(crate) fn begin(&mut self, cond: &Condition, pred: &mut dyn FnMut() -> bool) -> Step<()> {
        loop {
            if pred() {
                return Step::Done(Ok(()));
            }
            self.0 = Wait::new();
            match self.0.begin(cond) {
                Step::Done(Ok(_)) => {}
                other => return other.map(drop),
            }
        }
    }

    pub(crate) fn resume(
        &mut self,
        cond: &Condition,
        fut: Future<()>,
        waited: Result<()>,
        pred: &mut dyn FnMut() -> bool,
    ) -> Step<()> {
        match self.0.resume(cond, fut, waited) {
            Step::Done(Ok(_)) => self.begin(cond, pred),
            other => other.map(drop),
        }
    }
}

/// `cond.wait_for(predicate)`, shared by [`Condition::wait_for`] and its stackless form.
pub(crate) struct WaitFor<F> {
    pred: F,
    until: WaitUntil,
}

impl<F: FnMut() -> bool> WaitFor<F> {
    pub(crate) fn new(pred: F) -> Self {
        WaitFor {
            pred,
            until: WaitUntil::new(),
        }
    }
}

impl<F: FnMut() -> bool> WaitOp<Condition> for WaitFor<F> {
    type Output = bool;

    fn begin(&mut self, cond: &Condition) -> Step<bool> {
        self.until.begin(cond, &mut self.pred).map(|()| true)
    }

    fn resume(&mut self, cond: &Condition, fut: Future<()>, waited: Result<()>) -> Step<bool> {
        self.until
            .resume(cond, fut, waited, &mut self.pred)
            .map(|()| true)
    }
}

/// Python's repr: `<tulip.locks.Condition object at 0x... [locked, waiters:1]>`.
impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.locked() { "locked" } else { "unlocked" };
        write!(
            f,
            "<{} [{state}{}]>",
            repr_head("Condition", &self.0),
            waiters_suffix(&self.0.waiters)
        )
    }
}
