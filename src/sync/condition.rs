//! asyncio's `Condition`.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use anyhow::Result;

use super::lock::Lock;
use crate::errors::{CancelledError, ErrorExt, GeneratorExit, RuntimeError};
use crate::futures::Future;
use crate::sync::{LoopBinding, Waiters, repr_head, scoped, wait_in_line, waiters_suffix};
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
    pub fn acquire(&self, co: &TaskCo) -> Result<bool> {
        self.0.lock.acquire(co)
    }

    /// `cond.release()`: releases the underlying lock.
    pub fn release(&self) -> Result<()> {
        self.0.lock.release()
    }

    /// `async with cond: body`: the underlying lock held around `body` (see [`Lock::with`]).
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
    pub fn wait(&self, co: &TaskCo) -> Result<bool> {
        if !self.locked() {
            return Err(RuntimeError::new("cannot wait on un-acquired lock").into());
        }
        self.release()?;
        let waited = self.wait_notified(co);
        if let Err(e) = &waited
            && e.isinstance::<GeneratorExit>()
        {
            if !self.0.lock.locked() {
                self.0.lock.0.locked.set(true);
            }
            return waited;
        }
        // CPython's `finally`: must re-acquire, even if the wait was cancelled.
        let mut cancelled = false;
        loop {
            match self.0.lock.acquire(co) {
                Ok(_) => break,
                Err(e) if e.isinstance::<CancelledError>() => cancelled = true,
                Err(e) => return Err(e),
            }
        }
        if cancelled {
            return Err(CancelledError::new(None).into());
        }
        waited
    }

    /// The part of `wait` between release and re-acquire.
    fn wait_notified(&self, co: &TaskCo) -> Result<bool> {
        let waited = wait_in_line(
            co,
            &self.0.binding,
            &self.0.waiters,
            || format!("{self:?}"),
            WaitKind::ConditionWait,
        );
        waited.map(|()| true)
    }

    /// `await cond.wait_for(predicate)`: waits until `predicate()` is true (checked first, then
    /// after each wake-up, with the lock held); returns `true`.
    pub fn wait_for(&self, co: &TaskCo, mut predicate: impl FnMut() -> bool) -> Result<bool> {
        while !predicate() {
            self.wait(co)?;
        }
        Ok(true)
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
