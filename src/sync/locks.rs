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

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;

use anyhow::Result;

use crate::BrokenBarrierError;
use crate::errors::{CancelledError, ErrorExt, GeneratorExit, RuntimeError, ValueError};
use crate::event_loop::{EventLoop, get_running_loop};
use crate::futures::Future;
use crate::tasks::TaskCo;

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
fn wait_in_line(
    co: &TaskCo,
    binding: &LoopBinding,
    waiters: &Waiters,
    repr: impl FnOnce() -> String,
) -> Result<()> {
    let fut = binding.get_loop(repr)?.create_future::<()>();
    waiters.borrow_mut().push_back(fut.clone());
    let waited = co.wait(&fut);
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

// ---------------------------------------------------------------------------------------------
// Lock

struct LockInner {
    locked: Cell<bool>,
    waiters: Waiters,
    binding: LoopBinding,
}

/// asyncio's `Lock`: a primitive lock, owned by no particular task, granted in FIFO order.
///
/// `acquire` succeeds at once only when the lock is unlocked and no un-cancelled waiter is
/// queued (so a newcomer cannot overtake a waiter that was just woken); otherwise the caller
/// queues. `release` wakes the first waiter. Clones are handles to the same lock.
#[derive(Clone)]
pub struct Lock(Rc<LockInner>);

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
    /// Blocking from another loop than the bound one: `RuntimeError("<Lock ...> is bound to a
    /// different event loop")`.
    pub fn acquire(&self, co: &TaskCo) -> Result<bool> {
        let inner = &self.0;
        if !inner.locked.get() && inner.waiters.borrow().iter().all(Future::cancelled) {
            inner.locked.set(true);
            return Ok(true);
        }
        // CPython removes the waiter before handling a CancelledError, so that the wake-up
        // passed on below cannot pick this waiter again.
        let waited = wait_in_line(co, &inner.binding, &inner.waiters, || format!("{self:?}"));
        match waited {
            Ok(()) => {
                inner.locked.set(true);
                Ok(true)
            }
            Err(e) => {
                if e.isinstance::<CancelledError>() && !inner.locked.get() {
                    self.wake_up_first();
                }
                Err(e)
            }
        }
    }

    /// `lock.release()`: unlocks and wakes the first waiter.
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

impl Scoped for Lock {
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

// ---------------------------------------------------------------------------------------------
// Event

struct EventInner {
    value: Cell<bool>,
    waiters: Waiters,
    binding: LoopBinding,
}

/// asyncio's `Event`: a flag that tasks wait for. `set()` wakes every waiter; waiting on a set
/// event returns at once. Clones are handles to the same event.
#[derive(Clone)]
pub struct Event(Rc<EventInner>);

impl Default for Event {
    fn default() -> Self {
        Self::new()
    }
}

impl Event {
    /// `asyncio.Event()`: not set.
    pub fn new() -> Self {
        Event(Rc::new(EventInner {
            value: Cell::new(false),
            waiters: RefCell::default(),
            binding: LoopBinding::default(),
        }))
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        self.0.value.get()
    }

    /// Sets the flag and wakes every waiter (each one's task runs in registration order).
    pub fn set(&self) {
        if self.0.value.replace(true) {
            return;
        }
        let waiters: Vec<Future<()>> = self.0.waiters.borrow().iter().cloned().collect();
        for fut in waiters {
            if !fut.done() {
                let _ = fut.set_result(());
            }
        }
    }

    /// Clears the flag: later `wait`s block until the next `set`. A waiter already woken
    /// still returns `true` (as in asyncio).
    pub fn clear(&self) {
        self.0.value.set(false);
    }

    /// `await event.wait()`: returns `true` once the flag is set (at once if it is).
    pub fn wait(&self, co: &TaskCo) -> Result<bool> {
        if self.0.value.get() {
            return Ok(true);
        }
        let waited = wait_in_line(co, &self.0.binding, &self.0.waiters, || format!("{self:?}"));
        waited.map(|()| true)
    }
}

/// Python's repr: `<tulip.locks.Event object at 0x... [unset, waiters:2]>`.
impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.is_set() { "set" } else { "unset" };
        write!(
            f,
            "<{} [{state}{}]>",
            repr_head("Event", &self.0),
            waiters_suffix(&self.0.waiters)
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Condition

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
        let waited = wait_in_line(co, &self.0.binding, &self.0.waiters, || format!("{self:?}"));
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

// ---------------------------------------------------------------------------------------------
// Semaphore, BoundedSemaphore

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
#[derive(Clone)]
pub struct Semaphore(Rc<SemaphoreInner>);

impl Semaphore {
    /// `asyncio.Semaphore(value)`.
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
    pub fn acquire(&self, co: &TaskCo) -> Result<bool> {
        let inner = &self.0;
        if !self.locked() {
            inner.value.set(inner.value.get() - 1);
            return Ok(true);
        }
        let fut = inner
            .binding
            .get_loop(|| format!("{self:?}"))?
            .create_future::<()>();
        inner.waiters.borrow_mut().push_back(fut.clone());
        let waited = co.wait(&fut);
        remove_waiter(&inner.waiters, &fut);
        match waited {
            Ok(()) => {
                // `_wake_up_next` already took this waiter's unit; pass any surplus on.
                if inner.value.get() > 0 {
                    self.wake_up_next();
                }
                Ok(true)
            }
            Err(e) => {
                if e.isinstance::<CancelledError>() && !fut.cancelled() {
                    // Woken, then cancelled before running: the unit goes to the next one.
                    inner.value.set(inner.value.get() + 1);
                    self.wake_up_next();
                }
                Err(e)
            }
        }
    }

    /// `sem.release()`: increments the counter and wakes the first waiter not yet woken.
    pub fn release(&self) {
        self.0.value.set(self.0.value.get() + 1);
        self.wake_up_next();
    }

    /// `async with sem: body`: acquired around `body`, released on every way out.
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

impl Scoped for Semaphore {
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
    pub fn acquire(&self, co: &TaskCo) -> Result<bool> {
        self.0.acquire(co)
    }

    /// `sem.release()`.
    /// `ValueError("BoundedSemaphore released too many times")` at the initial value.
    pub fn release(&self) -> Result<()> {
        if self.0.0.bound.is_some_and(|bound| self.0.value() >= bound) {
            return Err(ValueError::new("BoundedSemaphore released too many times").into());
        }
        self.0.release();
        Ok(())
    }

    /// `async with sem: body`: acquired around `body`, released on every way out.
    pub fn with<R>(&self, co: &TaskCo, body: impl FnOnce(&TaskCo) -> Result<R>) -> Result<R> {
        scoped(self, co, body)
    }

    /// The same semaphore without the bound check on `release`.
    pub fn as_semaphore(&self) -> &Semaphore {
        &self.0
    }
}

impl Scoped for BoundedSemaphore {
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

// ---------------------------------------------------------------------------------------------
// Barrier

/// A barrier's state (asyncio's `_BarrierState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarrierState {
    /// Tasks are arriving.
    Filling,
    /// The last party arrived; the others are leaving `wait`.
    Draining,
    /// `reset()` was called while tasks waited; they leave with `BrokenBarrierError`.
    Resetting,
    /// `abort()` was called; every `wait` fails until `reset()`.
    Broken,
}

impl BarrierState {
    /// Python's value: `"filling"`, `"draining"`, `"resetting"`, `"broken"`.
    pub fn as_str(self) -> &'static str {
        match self {
            BarrierState::Filling => "filling",
            BarrierState::Draining => "draining",
            BarrierState::Resetting => "resetting",
            BarrierState::Broken => "broken",
        }
    }
}

struct BarrierInner {
    /// Wakes every task when the state changes.
    cond: Condition,
    parties: usize,
    state: Cell<BarrierState>,
    /// Tasks inside `wait` (arrived and not yet left).
    count: Cell<usize>,
}

/// asyncio's `Barrier`: `parties` tasks block in `wait` until the last one arrives, then all
/// leave together, each with a distinct index. Reusable; built on a [`Condition`] exactly as
/// CPython's. Clones are handles to the same barrier.
#[derive(Clone)]
pub struct Barrier(Rc<BarrierInner>);

impl Barrier {
    /// `asyncio.Barrier(parties)`. `ValueError("parties must be > 0")` below 1.
    pub fn new(parties: i64) -> Result<Self> {
        let parties = match usize::try_from(parties) {
            Ok(p) if p > 0 => p,
            _ => return Err(ValueError::new("parties must be > 0").into()),
        };
        Ok(Barrier(Rc::new(BarrierInner {
            cond: Condition::new(),
            parties,
            state: Cell::new(BarrierState::Filling),
            count: Cell::new(0),
        })))
    }

    /// `await barrier.wait()`: blocks until `parties` tasks wait, then returns this task's
    /// arrival index, `0..parties`. Waits first while the previous round drains or resets.
    /// `BrokenBarrierError("Barrier aborted")` on a broken barrier; `BrokenBarrierError("Abort
    /// or reset of barrier")` when it is aborted or reset while waiting.
    pub fn wait(&self, co: &TaskCo) -> Result<usize> {
        let b = &self.0;
        b.cond.with(co, |co| {
            self.block(co)?;
            let index = b.count.get();
            b.count.set(index + 1);
            let waited = if index + 1 == b.parties {
                // The last party releases everyone: the round starts draining.
                b.state.set(BarrierState::Draining);
                b.cond.notify_all()
            } else {
                self.wait_released(co)
            };
            // CPython's `finally`: leave, whatever happened.
            b.count.set(b.count.get() - 1);
            self.exit();
            waited.map(|()| index)
        })
    }

    /// `_block`: waits while the barrier drains or resets; fails if it is broken.
    fn block(&self, co: &TaskCo) -> Result<()> {
        let b = &self.0;
        b.cond.wait_for(co, || {
            !matches!(
                b.state.get(),
                BarrierState::Draining | BarrierState::Resetting
            )
        })?;
        if b.state.get() == BarrierState::Broken {
            return Err(BrokenBarrierError::with_message("Barrier aborted"));
        }
        Ok(())
    }

    /// `_wait`: waits for the end of filling; fails if the barrier was reset or broken.
    fn wait_released(&self, co: &TaskCo) -> Result<()> {
        let b = &self.0;
        b.cond
            .wait_for(co, || b.state.get() != BarrierState::Filling)?;
        if matches!(
            b.state.get(),
            BarrierState::Broken | BarrierState::Resetting
        ) {
            return Err(BrokenBarrierError::with_message(
                "Abort or reset of barrier",
            ));
        }
        Ok(())
    }

    /// `_exit`: the last task out of a draining or resetting round refills the barrier.
    fn exit(&self) {
        let b = &self.0;
        if b.count.get() == 0 {
            if matches!(
                b.state.get(),
                BarrierState::Resetting | BarrierState::Draining
            ) {
                b.state.set(BarrierState::Filling);
            }
            // Only fails without the lock, i.e. while the coroutine is being closed.
            let _ = b.cond.notify_all();
        }
    }

    /// `await barrier.reset()`: back to filling; tasks waiting now get `BrokenBarrierError`.
    pub fn reset(&self, co: &TaskCo) -> Result<()> {
        let b = &self.0;
        b.cond.with(co, |_| {
            if b.count.get() > 0 {
                b.state.set(BarrierState::Resetting);
            } else {
                b.state.set(BarrierState::Filling);
            }
            b.cond.notify_all()
        })
    }

    /// `await barrier.abort()`: breaks the barrier; waiting and later `wait`s fail with
    /// `BrokenBarrierError` until `reset`.
    pub fn abort(&self, co: &TaskCo) -> Result<()> {
        let b = &self.0;
        b.cond.with(co, |_| {
            b.state.set(BarrierState::Broken);
            b.cond.notify_all()
        })
    }

    /// The number of tasks required to trip the barrier.
    pub fn parties(&self) -> usize {
        self.0.parties
    }

    /// The number of tasks waiting while it fills (0 otherwise).
    pub fn n_waiting(&self) -> usize {
        if self.0.state.get() == BarrierState::Filling {
            self.0.count.get()
        } else {
            0
        }
    }

    /// Whether the barrier is broken.
    pub fn broken(&self) -> bool {
        self.0.state.get() == BarrierState::Broken
    }

    /// The current state.
    pub fn state(&self) -> BarrierState {
        self.0.state.get()
    }
}

/// Python's repr: `<tulip.locks.Barrier object at 0x... [filling, waiters:1/3]>`.
impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut extra = self.state().as_str().to_string();
        if !self.broken() {
            extra.push_str(&format!(
                ", waiters:{}/{}",
                self.n_waiting(),
                self.parties()
            ));
        }
        write!(f, "<{} [{extra}]>", repr_head("Barrier", &self.0))
    }
}
