//! `asyncio.timeout`, `asyncio.timeout_at` and `asyncio.wait_for` (layer 8).
//!
//! A [`Timeout`] scope cancels the task that entered it when its deadline passes, and turns
//! the resulting `CancelledError` into `TimeoutError` on the way out, only when that
//! cancellation was its own: it compares `task.cancelling()` at exit, after its own
//! `uncancel()`, with the value at entry (R10). So with nested scopes that both expired only
//! the outer one converts, and a cancel from outside keeps propagating as `CancelledError`.
//!
//! Python's `async with` becomes a closure that receives the coroutine handle and the scope:
//!
//! ```text
//! async with asyncio.timeout(0.5) as cm:      timeout(co, Some(Duration::from_millis(500)), |co, cm| {
//!     await work()                                work(co)
//!                                             })?;
//! ```
//!
//! [`wait_for`] is the 3.11 version: its own waiter future and `call_later`, and it waits for
//! the inner task to finish after cancelling it.

use std::borrow::Borrow;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::errors::{CancelledError, ErrorExt, RuntimeError, TimeoutError, raise_from};
use crate::event_loop::{EventLoop, TimerHandle, get_running_loop};
use crate::futures::{Awaitable, CallbackId, Future};
use crate::helpers::wait::{Step, Steps, drive};
use crate::tasks::{AnyTask, Task, TaskCo, current_task};

/// Where a [`Timeout`] is in its life (Python's `_State`; the names are its repr words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutState {
    /// Made, not entered yet.
    Created,
    /// Entered; the deadline has not passed.
    Active,
    /// The deadline passed and the task was cancelled; the scope has not exited yet.
    Expiring,
    /// Exited after the deadline passed.
    Expired,
    /// Exited before the deadline.
    Finished,
}

impl TimeoutState {
    /// The word Python's repr and error messages use: `created`, `active`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            TimeoutState::Created => "created",
            TimeoutState::Active => "active",
            TimeoutState::Expiring => "expiring",
            TimeoutState::Expired => "expired",
            TimeoutState::Finished => "finished",
        }
    }
}

struct Inner {
    state: Cell<TimeoutState>,
    when: Cell<Option<Instant>>,
    /// The task that entered the scope: the one the deadline cancels.
    task: RefCell<Option<AnyTask>>,
    /// `task.cancelling()` at entry: more than this at exit means someone else cancelled too.
    cancelling: Cell<u32>,
    lp: RefCell<Option<EventLoop>>,
    /// The armed deadline timer (none for a `call_soon` past deadline, or no deadline).
    timer: RefCell<Option<TimerHandle>>,
    /// Bumped whenever the deadline is re-armed or disarmed: a callback of an older
    /// generation (a `call_soon` that cannot be cancelled here) does nothing.
    generation: Cell<u64>,
}

/// asyncio's `Timeout`: a deadline for a block of code in a task. A cheap clonable handle,
/// so it can be kept after the scope (`cm.expired()`) or handed to another task
/// (`cm.reschedule(...)`). Made by [`Timeout::new`] / [`Timeout::after`], entered by
/// [`Timeout::run`]; [`timeout`] and [`timeout_at`] do both.
#[derive(Clone)]
pub struct Timeout(Rc<Inner>);

impl Timeout {
    /// `Timeout(when)` / the object `asyncio.timeout_at(when)` returns: a deadline on the
    /// loop's clock, `None` for none. A deadline already past fires in the next iteration.
    pub fn new(when: Option<Instant>) -> Self {
        Timeout(Rc::new(Inner {
            state: Cell::new(TimeoutState::Created),
            when: Cell::new(when),
            task: RefCell::new(None),
            cancelling: Cell::new(0),
            lp: RefCell::new(None),
            timer: RefCell::new(None),
            generation: Cell::new(0),
        }))
    }

    /// The object `asyncio.timeout(delay)` returns: the deadline is the running loop's
    /// `time() + delay`, computed now, as in Python (not at entry). `None` for no deadline.
    ///
    /// # Errors
    ///
    /// `RuntimeError("no running event loop")` outside a running loop.
    pub fn after(delay: Option<Duration>) -> Result<Self> {
        let lp = get_running_loop()?;
        Ok(Self::new(delay.map(|d| deadline_after(&lp, d))))
    }

    /// `when()`: the current deadline, `None` if there is none.
    pub fn when(&self) -> Option<Instant> {
        self.0.when.get()
    }

    /// `expired()`: whether the deadline passed while the scope was entered.
    pub fn expired(&self) -> bool {
        matches!(
            self.0.state.get(),
            TimeoutState::Expiring | TimeoutState::Expired
        )
    }

    /// The scope's state (Python shows it only in the repr).
    pub fn state(&self) -> TimeoutState {
        self.0.state.get()
    }

    /// `reschedule(when)`: moves the deadline (`None` disarms it; a past one fires in the
    /// next iteration). Only while active.
    ///
    /// # Errors
    ///
    /// - `RuntimeError("Timeout has not been entered")` before entry.
    /// - `RuntimeError("Cannot change state of <state> Timeout")` once expiring or exited.
    pub fn reschedule(&self, when: Option<Instant>) -> Result<()> {
        match self.0.state.get() {
            TimeoutState::Active => {}
            TimeoutState::Created => {
                return Err(RuntimeError::new("Timeout has not been entered").into());
            }
            state => {
                return Err(RuntimeError::new(format!(
                    "Cannot change state of {} Timeout",
                    state.as_str()
                ))
                .into());
            }
        }
        self.0.when.set(when);
        self.disarm();
        let Some(when) = when else {
            return Ok(());
        };
        let lp = self
            .0
            .lp
            .borrow()
            .clone()
            .expect("an active Timeout knows its loop");
        let generation = self.0.generation.get();
        let me = self.clone();
        let fire = move || me.on_timeout(generation);
        if when <= lp.time() {
            lp.call_soon(fire)?;
        } else {
            let timer = lp.call_at(when, fire)?;
            *self.0.timer.borrow_mut() = Some(timer);
        }
        Ok(())
    }

    /// `async with cm:` around `body`: enters, runs `body(co, self)`, exits. If the deadline
    /// passed, the `CancelledError` the body ends with becomes `TimeoutError` (its [`cause`]
    /// the cancellation) unless another cancellation is pending; any other outcome passes
    /// through.
    ///
    /// # Errors
    ///
    /// - `TimeoutError` when the deadline passed (see above); else `body`'s own error.
    /// - `RuntimeError("Timeout has already been entered")` when entered twice.
    /// - `RuntimeError("Timeout should be used inside a task")` outside a task.
    ///
    /// [`cause`]: crate::errors::cause
    pub fn run<T>(
        &self,
        co: &TaskCo,
        body: impl FnOnce(&TaskCo, &Timeout) -> Result<T>,
    ) -> Result<T> {
        self.enter()?;
        // A panicking body skips `exit`: its deadline must not cancel the task later.
        let guard = OnUnwind(|| self.disarm());
        let outcome = body(co, self);
        std::mem::forget(guard);
        self.exit(outcome)
    }

    /// `__aenter__`.
    pub(crate) fn enter(&self) -> Result<()> {
        if self.0.state.get() != TimeoutState::Created {
            return Err(RuntimeError::new("Timeout has already been entered").into());
        }
        let Some(task) = current_task(None)? else {
            return Err(RuntimeError::new("Timeout should be used inside a task").into());
        };
        *self.0.lp.borrow_mut() = Some(get_running_loop()?);
        self.0.state.set(TimeoutState::Active);
        self.0.cancelling.set(task.cancelling());
        *self.0.task.borrow_mut() = Some(task);
        self.reschedule(self.0.when.get())
    }

    /// `__aexit__`: converts our own cancellation into `TimeoutError`.
    pub(crate) fn exit<T>(&self, outcome: Result<T>) -> Result<T> {
        self.disarm();
        match self.0.state.get() {
            TimeoutState::Expiring => {
                self.0.state.set(TimeoutState::Expired);
                let task = self
                    .0
                    .task
                    .borrow()
                    .clone()
                    .expect("an entered Timeout has a task");
                // uncancel() first, always: it undoes our own cancel() whatever happens next.
                let own_only = task.uncancel() <= self.0.cancelling.get();
                match outcome {
                    Err(e) if own_only && e.isinstance::<CancelledError>() => {
                        Err(raise_from(TimeoutError, e))
                    }
                    other => other,
                }
            }
            TimeoutState::Active => {
                self.0.state.set(TimeoutState::Finished);
                outcome
            }
            // Only `run` calls this, after a successful `enter`.
            _ => outcome,
        }
    }

    /// The deadline's callback: cancel the task (once, and only for the current deadline).
    fn on_timeout(&self, generation: u64) {
        if generation != self.0.generation.get() || self.0.state.get() != TimeoutState::Active {
            return;
        }
        self.0.timer.borrow_mut().take();
        self.0.state.set(TimeoutState::Expiring);
        let task = self.0.task.borrow().clone();
        if let Some(task) = task {
            task.cancel(None);
        }
    }

    /// Cancels the armed deadline, if any, and makes older callbacks stale.
    pub(crate) fn disarm(&self) {
        self.0.generation.set(self.0.generation.get() + 1);
        let timer = self.0.timer.borrow_mut().take();
        if let Some(timer) = timer {
            timer.cancel();
        }
    }
}

impl fmt::Debug for Timeout {
    /// Python's repr: `<Timeout [active] when=…>`, `<Timeout [expired]>`. The deadline is
    /// shown as seconds from now (`when=+0.010`), since `Instant` has no printable epoch.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.0.state.get();
        write!(f, "<Timeout [{}]", state.as_str())?;
        if state == TimeoutState::Active {
            match self.0.when.get() {
                None => f.write_str(" when=None")?,
                Some(when) => {
                    let now = Instant::now();
                    if when >= now {
                        write!(f, " when=+{:.3}", (when - now).as_secs_f64())?;
                    } else {
                        write!(f, " when=-{:.3}", (now - when).as_secs_f64())?;
                    }
                }
            }
        }
        f.write_str(">")
    }
}

/// Runs its closure when dropped during an unwind (`mem::forget` it on the normal path).
pub(crate) struct OnUnwind<F: FnMut()>(pub(crate) F);

impl<F: FnMut()> Drop for OnUnwind<F> {
    fn drop(&mut self) {
        (self.0)()
    }
}

/// `lp.time() + delay`, with a delay too long for `Instant` taken as a century.
fn deadline_after(lp: &EventLoop, delay: Duration) -> Instant {
    let now = lp.time();
    now.checked_add(delay)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86400)))
        .unwrap_or(now)
}

/// `async with asyncio.timeout(delay) as cm: body`: runs `body(co, cm)` with a deadline
/// `delay` from now (`None`: no deadline, but `cm.reschedule` can set one). When the deadline
/// passes, the task is cancelled and the scope raises `TimeoutError` instead of the
/// `CancelledError`. See [`Timeout::run`].
///
/// # Examples
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use std::time::Duration;
///
/// use tulip::{ErrorExt, TimeoutError, sleep, timeout};
///
/// tulip::run(|co| {
///     // asyncio: async with asyncio.timeout(0.01): await asyncio.sleep(3600)
///     let late = timeout(co, Some(Duration::from_millis(10)), |co, _cm| {
///         sleep(co, Duration::from_secs(3600))
///     });
///     assert!(late.unwrap_err().isinstance::<TimeoutError>());
///
///     // a body that finishes in time returns its value
///     let value = timeout(co, Some(Duration::from_secs(60)), |_co, _cm| Ok(7))?;
///     assert_eq!(value, 7);
///     Ok(())
/// })?;
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// - `TimeoutError` when the deadline passes; `body`'s own error otherwise.
/// - [`Timeout::run`]'s `RuntimeError`s (e.g. outside a task), and
///   `RuntimeError("no running event loop")`.
pub fn timeout<T>(
    co: &TaskCo,
    delay: Option<Duration>,
    body: impl FnOnce(&TaskCo, &Timeout) -> Result<T>,
) -> Result<T> {
    Timeout::after(delay)?.run(co, body)
}

/// `async with asyncio.timeout_at(when) as cm: body`: [`timeout`] with a deadline on the
/// loop's clock (`EventLoop::time`).
///
/// # Errors
///
/// As [`timeout`].
pub fn timeout_at<T>(
    co: &TaskCo,
    when: Option<Instant>,
    body: impl FnOnce(&TaskCo, &Timeout) -> Result<T>,
) -> Result<T> {
    Timeout::new(when).run(co, body)
}

/// Sets `waiter`'s result unless it is done: `_release_waiter`.
fn release(waiter: &Future<()>) {
    if !waiter.done() {
        let _ = waiter.set_result(());
    }
}

/// `await asyncio.wait_for(aw, timeout)` (Python 3.11): waits for `aw` at most `timeout`.
///
/// - `None`: a plain `co.wait(aw)`.
/// - zero: `aw`'s result if it is already done; otherwise cancel it, wait until it is done,
///   and return its result if it swallowed the cancel, else `TimeoutError` (caused by the
///   `CancelledError`).
/// - otherwise the same once `timeout` passes: `aw` is cancelled and **waited for**, so it is
///   never still running when `wait_for` returns.
///
/// If the calling task is cancelled meanwhile, `aw` is cancelled and waited for, and the
/// `CancelledError` is re-raised (unless `aw` finished first: then its outcome is returned).
///
/// # Examples
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use std::time::Duration;
///
/// use tulip::{ErrorExt, TimeoutError, get_running_loop, sleep, wait_for};
///
/// tulip::run(|co| {
///     let lp = get_running_loop()?;
///     let slow = lp.create_task(|co| {
///         sleep(co, Duration::from_secs(3600))?;
///         Ok(1)
///     })?;
///     // asyncio: await asyncio.wait_for(slow, timeout=0.01)
///     let err = wait_for(co, &slow, Some(Duration::from_millis(10))).unwrap_err();
///     assert!(err.isinstance::<TimeoutError>());
///     assert!(slow.cancelled()); // cancelled, and waited for
///
///     let fast = lp.create_task(|_co| Ok(2))?;
///     assert_eq!(wait_for(co, &fast, Some(Duration::from_secs(60)))?, 2);
///     Ok(())
/// })?;
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// - `aw`'s own error.
/// - `TimeoutError` (caused by the `CancelledError`) when `timeout` passes and `aw` ends
///   cancelled.
/// - `CancelledError` when the calling task is cancelled.
pub fn wait_for<A: Awaitable>(co: &TaskCo, aw: &A, timeout: Option<Duration>) -> Result<A::Output>
where
    A::Output: Clone,
{
    let Some(timeout) = timeout else {
        return co.wait(aw);
    };
    drive(co, WaitForSteps::<A, &A>::new(aw, timeout))
}

/// `wait_for`'s code around its waits (with a timeout), on the awaited `B` (a `&A` or an
/// owned `A`).
pub(crate) struct WaitForSteps<A, B> {
    aw: B,
    timeout: Duration,
    phase: WaitForPhase,
    timer: Option<TimerHandle>,
    /// The done callback that releases the waiter of the current wait.
    cb: Option<CallbackId>,
    _inner: PhantomData<fn() -> A>,
}

/// What `wait_for` waits for now.
enum WaitForPhase {
    /// For `aw` or the timeout, whichever comes first.
    Racing,
    /// For `aw` to finish after a zero timeout cancelled it.
    CancelledAtOnce,
    /// For `aw` to finish after the timeout cancelled it.
    CancelledByTimeout,
    /// For `aw` to finish after `wait_for` itself was cancelled: then this is re-raised.
    CancelledWithUs(anyhow::Error),
}

impl<A, B> WaitForSteps<A, B>
where
    A: Awaitable,
    A::Output: Clone,
    B: Borrow<A>,
{
    pub(crate) fn new(aw: B, timeout: Duration) -> Self {
        WaitForSteps {
            aw,
            timeout,
            phase: WaitForPhase::Racing,
            timer: None,
            cb: None,
            _inner: PhantomData,
        }
    }

    fn fut(&self) -> &Future<A::Output> {
        self.aw.borrow().future()
    }

    /// `_cancel_and_wait`: cancels `aw` and waits until it is done, on a separate waiter so
    /// that this wait itself stays cancellable (a cancel here is not forwarded to `aw`
    /// again).
    fn cancel_and_wait(&mut self, then: WaitForPhase) -> Step<A::Output> {
        let waiter = self.fut().get_loop().create_future::<()>();
        let w = waiter.clone();
        self.cb = Some(self.fut().add_done_callback(move |_| release(&w)));
        self.aw.borrow().request_cancel(None);
        self.phase = then;
        Step::Wait(waiter)
    }

    /// Returns `outcome`, the timer cancelled.
    fn finish(&mut self, outcome: Result<A::Output>) -> Step<A::Output> {
        if let Some(timer) = self.timer.take() {
            timer.cancel();
        }
        Step::Done(outcome)
    }

    /// Up to the first wait; `Err` for a loop that cannot take the timer.
    fn begin(&mut self) -> Result<Step<A::Output>> {
        if self.timeout.is_zero() {
            if self.fut().done() {
                return Ok(Step::Done(self.fut().result()));
            }
            return Ok(self.cancel_and_wait(WaitForPhase::CancelledAtOnce));
        }
        let lp = self.fut().get_loop().clone();
        let waiter = lp.create_future::<()>();
        let w = waiter.clone();
        self.timer = Some(lp.call_later(self.timeout, move || release(&w))?);
        let w = waiter.clone();
        self.cb = Some(self.fut().add_done_callback(move |_| release(&w)));
        Ok(Step::Wait(waiter))
    }
}

impl<A, B> Steps for WaitForSteps<A, B>
where
    A: Awaitable,
    A::Output: Clone,
    B: Borrow<A>,
{
    type Output = A::Output;

    fn start(&mut self) -> Step<A::Output> {
        self.begin().unwrap_or_else(|e| Step::Done(Err(e)))
    }

    fn resume(&mut self, waited: Result<()>) -> Step<A::Output> {
        let cb = self.cb.take().expect("resumed after a wait");
        match std::mem::replace(&mut self.phase, WaitForPhase::Racing) {
            WaitForPhase::Racing => {
                match waited {
                    Ok(()) => {}
                    Err(e) if e.isinstance::<CancelledError>() => {
                        // wait_for itself was cancelled: the inner one goes too, and is
                        // waited for.
                        if self.fut().done() {
                            let outcome = self.fut().result();
                            return self.finish(outcome);
                        }
                        self.fut().remove_done_callback(cb);
                        return self.cancel_and_wait(WaitForPhase::CancelledWithUs(e));
                    }
                    Err(e) => return self.finish(Err(e)),
                }
                if self.fut().done() {
                    let outcome = self.fut().result();
                    return self.finish(outcome);
                }
                self.fut().remove_done_callback(cb);
                // The timeout: make sure the inner one is not running once we return
                // (bpo-32751).
                self.cancel_and_wait(WaitForPhase::CancelledByTimeout)
            }
            then => {
                self.fut().remove_done_callback(cb);
                if let Err(e) = waited {
                    return self.finish(Err(e));
                }
                let outcome = match then {
                    WaitForPhase::CancelledWithUs(e) => Err(e),
                    // It may have swallowed the cancel and returned, or failed otherwise
                    // (bpo-40607).
                    _ => self.fut().result().map_err(timeout_from_cancel),
                };
                self.finish(outcome)
            }
        }
    }
}

/// `except CancelledError as exc: raise TimeoutError from exc`; other errors pass.
fn timeout_from_cancel(e: anyhow::Error) -> anyhow::Error {
    if e.isinstance::<CancelledError>() {
        raise_from(TimeoutError, e)
    } else {
        e
    }
}

/// `await asyncio.wait_for(coro(), timeout)`: runs `body` as a new task of the running loop
/// and [`wait_for`]s it. With a zero timeout the task is cancelled before its first step, so
/// the body never runs (as a coroutine is never started in Python). With `None` the body
/// runs inline in the calling task, as Python's `await coro()` does.
///
/// # Errors
///
/// As [`wait_for`]; also `RuntimeError("no running event loop")` outside a running loop.
pub fn wait_for_fn<T: Clone + 'static>(
    co: &TaskCo,
    timeout: Option<Duration>,
    body: impl FnOnce(&TaskCo) -> Result<T> + 'static,
) -> Result<T> {
    if timeout.is_none() {
        return body(co);
    }
    let task: Task<T> = get_running_loop()?.create_task(body)?;
    wait_for(co, &task, timeout)
}
