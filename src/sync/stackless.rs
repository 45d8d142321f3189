//! The stackless forms of the waiting methods (feature `nightly`): `lock.acquire_stackless()`,
//! `queue.get_stackless()`, ..., each a small state machine a stackless body delegates to with
//! [`yield_from!`](crate::yield_from), holding no stack while it waits.
//!
//! Each one drives the same [`WaitOp`] as its stackful twin: the decision, the waiter's
//! registration and the clean-up after the wait are one code, so the wake order, fairness,
//! errors and cancellation are the stackful method's. Where the stackful form suspends with
//! `co.wait_as`, this one yields the waiter's future, recording the same wait site (the
//! caller of `*_stackless()`, named as the stackful helper).

use std::cell::Cell;
use std::panic::Location;

use anyhow::Result;

use super::barrier::{self, Action};
use super::condition::{self, Condition};
use super::{Barrier, BoundedSemaphore, Event, Lock, Semaphore, Step, WaitOp, event, lock};
use crate::errors::{GeneratorExit, RuntimeError};
use crate::futures::{Awaitable, Future, Suspend};
use crate::generator::GeneratorState;
use crate::generator::stackless::Sent;
use crate::tasks::stackless::{AwaitStep, set_wait_site_at};

/// Where a stackless wait stands.
#[derive(Default)]
enum State<O> {
    Unstarted(O),
    /// Suspended on this waiter's future.
    Waiting(O, Future<()>),
    /// Inside `begin`/`resume`, or finished.
    #[default]
    Finished,
}

/// The stackless driver of a [`WaitOp`] on primitive `P`: what the public types below wrap.
/// No allocation of its own: a wait that need not suspend returns from `prime`.
pub(crate) struct Waiting<P, O: WaitOp<P>> {
    prim: P,
    state: Cell<State<O>>,
    /// The caller of `*_stackless()`, for the task tree.
    at: &'static Location<'static>,
}

impl<P, O: WaitOp<P>> Waiting<P, O> {
    pub(crate) fn new(prim: P, op: O, at: &'static Location<'static>) -> Self {
        Waiting {
            prim,
            state: Cell::new(State::Unstarted(op)),
            at,
        }
    }

    /// Finishes, or suspends on the waiter's future as `co.wait_as` would.
    fn settle(&self, op: O, step: Step<O::Output>) -> Result<GeneratorState<Suspend, O::Output>> {
        match step {
            Step::Done(r) => r.map(GeneratorState::Returned),
            Step::Wait(fut, what) => {
                set_wait_site_at(self.at, what);
                let suspend = fut.suspend();
                self.state.set(State::Waiting(op, fut));
                Ok(GeneratorState::Yielded(suspend))
            }
        }
    }

    pub(crate) fn prime(&self) -> Result<GeneratorState<Suspend, O::Output>> {
        let mut op = match self.state.take() {
            State::Unstarted(op) => op,
            other => {
                self.state.set(other); // a suspended wait stays as it is
                return Err(reused());
            }
        };
        let step = op.begin(&self.prim);
        self.settle(op, step)
    }

    pub(crate) fn forward(&self, sent: Sent<()>) -> Result<GeneratorState<Suspend, O::Output>> {
        let (mut op, fut) = match self.state.take() {
            State::Waiting(op, fut) => (op, fut),
            other => {
                self.state.set(other);
                return Err(reused());
            }
        };
        // What `co.wait_as` returns: the error thrown in, or the future's outcome.
        let waited = Sent::into_result(sent).and_then(|()| AwaitStep::end(&fut));
        let step = op.resume(&self.prim, fut, waited);
        self.settle(op, step)
    }
}

/// Dropped while suspended (never resumed nor closed): cleaned up as a closed wait, so the
/// primitive keeps no waiter of a dead task.
impl<P, O: WaitOp<P>> Drop for Waiting<P, O> {
    fn drop(&mut self) {
        if let State::Waiting(mut op, fut) = self.state.take() {
            let _ = op.resume(&self.prim, fut, Err(GeneratorExit.into()));
        }
    }
}

#[cold]
fn reused() -> anyhow::Error {
    RuntimeError::new("cannot reuse already awaited coroutine").into()
}

/// A public stackless wait: a [`Delegate`](crate::stackless::Delegate) for `yield_from!`
/// over a private [`Waiting`].
macro_rules! stackless_wait {
    (
        $(#[$doc:meta])*
        $name:ident [$($gen:tt)*] [$($arg:tt)*] ($prim:ty, $op:ty) -> $out:ty
    ) => {
        $(#[$doc])*
        #[must_use = "a stackless wait does nothing unless a stackless body yield_from!s it"]
        pub struct $name<$($gen)*>(
            pub(crate) $crate::sync::stackless::Waiting<$prim, $op>,
        );

        impl<$($gen)*> $crate::stackless::Delegate for $name<$($arg)*> {
            type Yield = $crate::Suspend;
            type Send = ();
            type Return = $out;

            #[inline]
            fn prime(
                &self,
            ) -> ::anyhow::Result<$crate::GeneratorState<$crate::Suspend, $out>> {
                self.0.prime()
            }

            #[inline]
            fn forward(
                &self,
                sent: $crate::stackless::Sent<()>,
            ) -> ::anyhow::Result<$crate::GeneratorState<$crate::Suspend, $out>> {
                self.0.forward(sent)
            }
        }

        impl<$($gen)*> ::std::fmt::Debug for $name<$($arg)*> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("at", &self.0.at())
                    .finish_non_exhaustive()
            }
        }
    };
}
pub(crate) use stackless_wait;

impl<P, O: WaitOp<P>> Waiting<P, O> {
    /// Where the wait was made, for `Debug`.
    pub(crate) fn at(&self) -> &'static Location<'static> {
        self.at
    }
}

stackless_wait!(
    /// What [`Lock::acquire_stackless`] (and [`Condition::acquire_stackless`]) return:
    /// `await lock.acquire()` for [`yield_from!`](crate::yield_from), evaluating to `true`.
    LockAcquire [] [] (Lock, lock::Acquire) -> bool
);

stackless_wait!(
    /// What [`Event::wait_stackless`] returns: `await event.wait()`, evaluating to `true`.
    EventWait [] [] (Event, event::Wait) -> bool
);

stackless_wait!(
    /// What [`Semaphore::acquire_stackless`] and [`BoundedSemaphore::acquire_stackless`]
    /// return: `await sem.acquire()`, evaluating to `true`.
    SemaphoreAcquire [] [] (Semaphore, super::semaphore::Acquire) -> bool
);

stackless_wait!(
    /// What [`Condition::wait_stackless`] returns: `await cond.wait()`, evaluating to `true`.
    ConditionWait [] [] (Condition, condition::Wait) -> bool
);

stackless_wait!(
    /// What [`Condition::wait_for_stackless`] returns: `await cond.wait_for(predicate)`,
    /// evaluating to `true`.
    ConditionWaitFor [F: FnMut() -> bool] [F] (Condition, condition::WaitFor<F>) -> bool
);

stackless_wait!(
    /// What [`Barrier::wait_stackless`] returns: `await barrier.wait()`, evaluating to this
    /// task's arrival index.
    BarrierWait [] [] (Barrier, barrier::Wait) -> usize
);

stackless_wait!(
    /// What [`Barrier::reset_stackless`] and [`Barrier::abort_stackless`] return: `await
    /// barrier.reset()` / `await barrier.abort()`.
    BarrierUpdate [] [] (Barrier, barrier::Update) -> ()
);

stackless_wait!(
    /// What a queue's `join_stackless` returns: `await queue.join()`.
    QueueJoin [] [] (Event, super::queues::Join) -> ()
);

impl Lock {
    /// `await lock.acquire()` for a stackless body: `yield_from!(lock.acquire_stackless())?`.
    /// Exactly [`Lock::acquire`] (FIFO, no overtaking, a woken waiter cancelled passes the
    /// wake-up on), holding no stack while it waits. `async with lock:` is the acquire, the
    /// body, and [`Lock::release`] on every way out of the body.
    ///
    /// ```
    /// #![feature(coroutines)]
    /// # fn main() -> anyhow::Result<()> {
    /// use tulip::{Lock, stackless, yield_from, yield_now};
    ///
    /// let lock = Lock::new();
    /// let held = stackless::run(
    ///     #[coroutine]
    ///     static move |_| {
    ///         yield_from!(lock.acquire_stackless())?; // await lock.acquire()
    ///         let body = yield_now!(); // the guarded body
    ///         let held = lock.locked();
    ///         lock.release()?; // finally: lock.release()
    ///         body.map(|()| held)
    ///     },
    /// )?;
    /// assert!(held);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Lock::acquire`].
    #[track_caller]
    pub fn acquire_stackless(&self) -> LockAcquire {
        LockAcquire(Waiting::new(
            self.clone(),
            lock::Acquire,
            Location::caller(),
        ))
    }
}

impl Event {
    /// `await event.wait()` for a stackless body: `yield_from!(event.wait_stackless())?`.
    /// Exactly [`Event::wait`], holding no stack while it waits.
    ///
    /// ```
    /// #![feature(coroutines)]
    /// # fn main() -> anyhow::Result<()> {
    /// use tulip::{Event, await_, get_running_loop, stackless, yield_from};
    ///
    /// let event = Event::new();
    /// let order = stackless::run(
    ///     #[coroutine]
    ///     static move |_| {
    ///         let waiter = event.clone();
    ///         let task = get_running_loop()?.create_task_stackless(
    ///             #[coroutine]
    ///             static move |_| yield_from!(waiter.wait_stackless()), // await event.wait()
    ///         )?;
    ///         tulip::yield_now!()?; // the task waits
    ///         event.set();
    ///         await_!(task)
    ///     },
    /// )?;
    /// assert!(order);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Event::wait`].
    #[track_caller]
    pub fn wait_stackless(&self) -> EventWait {
        EventWait(Waiting::new(self.clone(), event::Wait, Location::caller()))
    }
}

impl Semaphore {
    /// `await sem.acquire()` for a stackless body: `yield_from!(sem.acquire_stackless())?`.
    /// Exactly [`Semaphore::acquire`], holding no stack while it waits.
    ///
    /// ```
    /// #![feature(coroutines)]
    /// # fn main() -> anyhow::Result<()> {
    /// use tulip::{Semaphore, stackless, yield_from};
    ///
    /// let sem = Semaphore::new(1)?;
    /// let left = stackless::run(
    ///     #[coroutine]
    ///     static move |_| {
    ///         yield_from!(sem.acquire_stackless())?; // await sem.acquire()
    ///         let left = sem.value();
    ///         sem.release();
    ///         Ok(left)
    ///     },
    /// )?;
    /// assert_eq!(left, 0);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Semaphore::acquire`].
    #[track_caller]
    pub fn acquire_stackless(&self) -> SemaphoreAcquire {
        SemaphoreAcquire(Waiting::new(
            self.clone(),
            super::semaphore::Acquire,
            Location::caller(),
        ))
    }
}

impl BoundedSemaphore {
    /// `await sem.acquire()` for a stackless body (see [`Semaphore::acquire_stackless`]).
    ///
    /// # Errors
    ///
    /// As [`Semaphore::acquire`].
    #[track_caller]
    pub fn acquire_stackless(&self) -> SemaphoreAcquire {
        self.as_semaphore().acquire_stackless()
    }
}

impl Condition {
    /// `await cond.acquire()` for a stackless body: the underlying lock's
    /// [`Lock::acquire_stackless`].
    ///
    /// # Errors
    ///
    /// As [`Lock::acquire`].
    #[track_caller]
    pub fn acquire_stackless(&self) -> LockAcquire {
        self.lock().acquire_stackless()
    }

    /// `await cond.wait()` for a stackless body: `yield_from!(cond.wait_stackless())?`.
    /// Exactly [`Condition::wait`] (release, wait for a notify, re-acquire however the wait
    /// ends), holding no stack while it waits.
    ///
    /// ```
    /// #![feature(coroutines)]
    /// # fn main() -> anyhow::Result<()> {
    /// use tulip::{Condition, await_, get_running_loop, stackless, yield_from};
    ///
    /// let cond = Condition::new();
    /// let woken = stackless::run(
    ///     #[coroutine]
    ///     static move |_| {
    ///         let waiter = cond.clone();
    ///         let task = get_running_loop()?.create_task_stackless(
    ///             #[coroutine]
    ///             static move |_| {
    ///                 yield_from!(waiter.acquire_stackless())?; // async with cond:
    ///                 let woken = yield_from!(waiter.wait_stackless()); //  await cond.wait()
    ///                 waiter.release()?;
    ///                 woken
    ///             },
    ///         )?;
    ///         tulip::yield_now!()?; // the task waits
    ///         yield_from!(cond.acquire_stackless())?;
    ///         cond.notify(1)?;
    ///         cond.release()?;
    ///         await_!(task)
    ///     },
    /// )?;
    /// assert!(woken);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Condition::wait`].
    #[track_caller]
    pub fn wait_stackless(&self) -> ConditionWait {
        ConditionWait(Waiting::new(
            self.clone(),
            condition::Wait::new(),
            Location::caller(),
        ))
    }

    /// `await cond.wait_for(predicate)` for a stackless body:
    /// `yield_from!(cond.wait_for_stackless(|| ...))?`. Exactly [`Condition::wait_for`].
    ///
    /// # Errors
    ///
    /// As [`Condition::wait`].
    #[track_caller]
    pub fn wait_for_stackless<F: FnMut() -> bool>(&self, predicate: F) -> ConditionWaitFor<F> {
        ConditionWaitFor(Waiting::new(
            self.clone(),
            condition::WaitFor::new(predicate),
            Location::caller(),
        ))
    }
}

impl Barrier {
    /// `await barrier.wait()` for a stackless body: `yield_from!(barrier.wait_stackless())?`
    /// evaluates to the arrival index. Exactly [`Barrier::wait`], holding no stack while it
    /// waits.
    ///
    /// ```
    /// #![feature(coroutines)]
    /// # fn main() -> anyhow::Result<()> {
    /// use tulip::{Barrier, await_, get_running_loop, stackless, yield_from};
    ///
    /// let barrier = Barrier::new(2)?;
    /// let indices = stackless::run(
    ///     #[coroutine]
    ///     static move |_| {
    ///         let other = barrier.clone();
    ///         let task = get_running_loop()?.create_task_stackless(
    ///             #[coroutine]
    ///             static move |_| yield_from!(other.wait_stackless()), // await barrier.wait()
    ///         )?;
    ///         let mine = yield_from!(barrier.wait_stackless())?;
    ///         Ok((mine, await_!(task)?))
    ///     },
    /// )?;
    /// assert_eq!(indices, (0, 1));
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Barrier::wait`].
    #[track_caller]
    pub fn wait_stackless(&self) -> BarrierWait {
        BarrierWait(Waiting::new(
            self.clone(),
            barrier::Wait::new(),
            Location::caller(),
        ))
    }

    /// `await barrier.reset()` for a stackless body (see [`Barrier::reset`]).
    ///
    /// # Errors
    ///
    /// `CancelledError` when cancelled while waiting for the barrier's lock.
    #[track_caller]
    pub fn reset_stackless(&self) -> BarrierUpdate {
        BarrierUpdate(Waiting::new(
            self.clone(),
            barrier::Update::new(Action::Reset),
            Location::caller(),
        ))
    }

    /// `await barrier.abort()` for a stackless body (see [`Barrier::abort`]).
    ///
    /// # Errors
    ///
    /// `CancelledError` when cancelled while waiting for the barrier's lock.
    #[track_caller]
    pub fn abort_stackless(&self) -> BarrierUpdate {
        BarrierUpdate(Waiting::new(
            self.clone(),
            barrier::Update::new(Action::Abort),
            Location::caller(),
        ))
    }
}
