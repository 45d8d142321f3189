//! The helpers that wait, for stackless task bodies (feature `nightly`): `wait_for`,
//! `timeout`, `wait`, `as_completed`'s waits and `TaskGroup`, each a small [`Delegate`]
//! for [`yield_from!`](crate::yield_from) that holds no stack while the task waits.
//!
//! They run the very code the stackful forms run: each helper is cut at its waits
//! ([`Steps`]); a stackful task drives the cut with `co.wait`, the delegates here with a
//! yield of the waiter's [`Suspend`] (what `await_!` does). A scope's body (`async with
//! ...: body`) is a stackless coroutine the delegate forwards to.

use std::cell::{Cell, RefCell};
use std::ops::{Coroutine as NightlyCoroutine, CoroutineState};
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::errors::RuntimeError;
use crate::event_loop::get_running_loop;
use crate::futures::{Awaitable, Future, Suspend};
use crate::generator::stackless::{Delegate, Generator, Sent};
use crate::generator::{GeneratorState, Kind};
use crate::helpers::taskgroups::{GroupExit, TaskGroup};
use crate::helpers::timeouts::{OnUnwind, Timeout, WaitForSteps};
use crate::helpers::wait::{NextDone, NextDoneSteps, ReturnWhen, Step, Steps, WaitSteps, distinct};
use crate::tasks::Task;
use crate::tasks::stackless::{AwaitStep, StacklessCoroutine};

type Body<T> = Generator<Suspend, (), T>;

/// Makes a scope's body once the scope is entered, watched with the flag it is given.
type MakeBody<C, T> = Box<dyn FnOnce(&C, Rc<Cell<bool>>) -> Body<T>>;

fn reused() -> anyhow::Error {
    RuntimeError::new("cannot reuse already awaited coroutine").into()
}

/// The [`Delegate`] of a public newtype over a [`Stepped`] or [`Scoped`] returning `$ret`:
/// each step forwarded to it.
macro_rules! forward_delegate {
    ([$($generics:tt)*] $ty:ty => $ret:ty) => {
        impl<$($generics)*> Delegate for $ty {
            type Yield = Suspend;
            type Send = ();
            type Return = $ret;

            fn prime(&self) -> Result<GeneratorState<Suspend, $ret>> {
                self.0.prime()
            }

            fn forward(&self, sent: Sent<()>) -> Result<GeneratorState<Suspend, $ret>> {
                self.0.forward(sent)
            }
        }
    };
}

/// Where a stepped helper stopped: at a wait that suspends, or done.
enum Advanced<T> {
    Suspended(Future<()>),
    Done(Result<T>),
}

/// Runs `step` on to the next wait that suspends: a waiter already done is read at once,
/// as `co.wait` and `await_!` do.
fn advance<S: Steps>(steps: &mut S, mut step: Step<S::Output>) -> Advanced<S::Output> {
    loop {
        match step {
            Step::Done(outcome) => return Advanced::Done(outcome),
            Step::Wait(waiter) if waiter.done() => step = steps.resume(waiter.result()),
            Step::Wait(waiter) => return Advanced::Suspended(waiter),
        }
    }
}

/// What the task sent back into a wait on `waiter`: `await_!`'s reading of it.
fn waited(sent: Sent<()>, waiter: &Future<()>) -> Result<()> {
    Sent::into_result(sent).and_then(|()| AwaitStep::end(waiter))
}

/// A [`Steps`] run as a delegate.
struct Stepped<S> {
    steps: RefCell<S>,
    /// The future waited for while suspended.
    waiter: RefCell<Option<Future<()>>>,
    started: Cell<bool>,
}

impl<S: Steps> Stepped<S> {
    fn new(steps: S) -> Self {
        Stepped {
            steps: RefCell::new(steps),
            waiter: RefCell::new(None),
            started: Cell::new(false),
        }
    }

    fn settle(&self, step: Step<S::Output>) -> Result<GeneratorState<Suspend, S::Output>> {
        match advance(&mut *self.steps.borrow_mut(), step) {
            Advanced::Done(outcome) => outcome.map(GeneratorState::Returned),
            Advanced::Suspended(waiter) => {
                let suspend = waiter.suspend();
                *self.waiter.borrow_mut() = Some(waiter);
                Ok(GeneratorState::Yielded(suspend))
            }
        }
    }

    fn prime(&self) -> Result<GeneratorState<Suspend, S::Output>> {
        if self.started.replace(true) {
            return Err(reused());
        }
        let step = self.steps.borrow_mut().start();
        self.settle(step)
    }

    fn forward(&self, sent: Sent<()>) -> Result<GeneratorState<Suspend, S::Output>> {
        let Some(waiter) = self.waiter.borrow_mut().take() else {
            return Err(reused());
        };
        let step = self.steps.borrow_mut().resume(waited(sent, &waiter));
        self.settle(step)
    }
}

/// An `async with` scope: entered, then a body, then an exit that may wait.
pub(crate) trait Scope<T> {
    type Exit: Steps<Output = T>;
    /// `__aenter__`.
    fn enter(&self) -> Result<()>;
    /// `__aexit__` with the body's outcome.
    fn exit(&self, outcome: Result<T>) -> Self::Exit;
    /// The body was left without an outcome (a panic, or the task dropped mid-body): what
    /// the stackful `run`'s unwind guard does.
    fn unwound(&self);
}

enum ScopeState<C: Scope<T>, T: 'static> {
    Unstarted(MakeBody<C, T>),
    InBody(Body<T>),
    Exiting(Stepped<C::Exit>),
    Finished,
}

/// A [`Scope`] run as a delegate, its body forwarded to.
struct Scoped<C: Scope<T>, T: 'static> {
    scope: C,
    /// An error of making the scope (`asyncio.timeout(d)` outside a loop), raised when
    /// awaited.
    failed: RefCell<Option<anyhow::Error>>,
    state: RefCell<ScopeState<C, T>>,
    /// Set when the body itself panicked (see [`Watch`]).
    panicked: Rc<Cell<bool>>,
}

impl<C: Scope<T>, T: 'static> Scoped<C, T> {
    fn new(scope: C, body: MakeBody<C, T>) -> Self {
        Scoped {
            scope,
            failed: RefCell::new(None),
            state: RefCell::new(ScopeState::Unstarted(body)),
            panicked: Rc::default(),
        }
    }

    /// One step of the body (`None`: its first), then the exit once it is over.
    fn run_body(
        &self,
        body: Body<T>,
        sent: Option<Sent<()>>,
    ) -> Result<GeneratorState<Suspend, T>> {
        let step = match sent {
            None => Delegate::prime(&body),
            Some(sent) => Delegate::forward(&body, sent),
        };
        let outcome = match step {
            Ok(GeneratorState::Yielded(suspend)) => {
                *self.state.borrow_mut() = ScopeState::InBody(body);
                return Ok(GeneratorState::Yielded(suspend));
            }
            Ok(GeneratorState::Returned(value)) => Ok(value),
            Err(e) if self.panicked.get() => {
                // The body panicked (its generator made the panic an error): as in the
                // stackful `run`, the scope is left without its exit.
                self.scope.unwound();
                return Err(e);
            }
            Err(e) => Err(e),
        };
        drop(body);
        let exit = Stepped::new(self.scope.exit(outcome));
        let state = exit.prime();
        if matches!(state, Ok(GeneratorState::Yielded(_))) {
            *self.state.borrow_mut() = ScopeState::Exiting(exit);
        }
        state
    }
}

impl<C: Scope<T>, T: 'static> Delegate for Scoped<C, T> {
    type Yield = Suspend;
    type Send = ();
    type Return = T;

    fn prime(&self) -> Result<GeneratorState<Suspend, T>> {
        let ScopeState::Unstarted(make) =
            std::mem::replace(&mut *self.state.borrow_mut(), ScopeState::Finished)
        else {
            return Err(reused());
        };
        if let Some(e) = self.failed.borrow_mut().take() {
            return Err(e);
        }
        self.scope.enter()?;
        let body = make(&self.scope, self.panicked.clone());
        self.run_body(body, None)
    }

    fn forward(&self, sent: Sent<()>) -> Result<GeneratorState<Suspend, T>> {
        let state = std::mem::replace(&mut *self.state.borrow_mut(), ScopeState::Finished);
        match state {
            ScopeState::InBody(body) => self.run_body(body, Some(sent)),
            ScopeState::Exiting(exit) => {
                let state = exit.forward(sent);
                if matches!(state, Ok(GeneratorState::Yielded(_))) {
                    *self.state.borrow_mut() = ScopeState::Exiting(exit);
                }
                state
            }
            ScopeState::Unstarted(_) | ScopeState::Finished => Err(reused()),
        }
    }
}

impl<C: Scope<T>, T: 'static> Drop for Scoped<C, T> {
    fn drop(&mut self) {
        // Dropped mid-body (its task dropped): as a stackful body unwound.
        if matches!(*self.state.borrow(), ScopeState::InBody(_)) {
            self.scope.unwound();
        }
    }
}

/// A scope's exit that does not wait (a timeout's).
pub(crate) struct Ready<T>(Option<Result<T>>);

impl<T> Steps for Ready<T> {
    type Output = T;
    fn start(&mut self) -> Step<T> {
        Step::Done(self.0.take().unwrap_or_else(|| Err(reused())))
    }
    fn resume(&mut self, _waited: Result<()>) -> Step<T> {
        self.start()
    }
}

impl<T> Scope<T> for Timeout {
    type Exit = Ready<T>;
    fn enter(&self) -> Result<()> {
        Timeout::enter(self)
    }
    fn exit(&self, outcome: Result<T>) -> Ready<T> {
        Ready(Some(Timeout::exit(self, outcome)))
    }
    fn unwound(&self) {
        self.disarm();
    }
}

impl<T> Scope<T> for TaskGroup {
    type Exit = GroupExit<T>;
    fn enter(&self) -> Result<()> {
        TaskGroup::enter(self)
    }
    fn exit(&self, outcome: Result<T>) -> GroupExit<T> {
        GroupExit::new(self.clone(), outcome)
    }
    fn unwound(&self) {
        self.abort();
    }
}

/// A scope's body: a stackless coroutine, watched for a panic of its own.
fn body<T: 'static>(
    body: impl NightlyCoroutine<Sent<()>, Yield = Suspend, Return = Result<T>> + 'static,
    panicked: Rc<Cell<bool>>,
) -> Body<T> {
    let watched = Watch {
        inner: Box::pin(body),
        panicked,
    };
    Generator::with_kind(Kind::Coroutine, watched)
}

/// A coroutine that records whether it panicked: the generator around a scope's body turns
/// a panic into an error, and the scope must tell that from an error the body returns.
struct Watch<C> {
    inner: Pin<Box<C>>,
    panicked: Rc<Cell<bool>>,
}

impl<C: NightlyCoroutine<Sent<()>>> NightlyCoroutine<Sent<()>> for Watch<C> {
    type Yield = C::Yield;
    type Return = C::Return;

    fn resume(self: Pin<&mut Self>, arg: Sent<()>) -> CoroutineState<C::Yield, C::Return> {
        let this = self.get_mut();
        let panicked = &this.panicked;
        let guard = OnUnwind(|| panicked.set(true));
        let state = this.inner.as_mut().resume(arg);
        std::mem::forget(guard);
        state
    }
}

/// What [`wait_for`] returns, for [`yield_from!`](crate::yield_from).
pub struct WaitFor<A: Awaitable + 'static>(WaitForInner<A>);

enum WaitForInner<A: Awaitable + 'static> {
    /// No timeout: `await aw`.
    Plain(A, RefCell<Option<Future<A::Output>>>),
    Timed(Stepped<WaitForSteps<A, A>>),
}

impl<A: Awaitable + 'static> std::fmt::Debug for WaitFor<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitFor").finish_non_exhaustive()
    }
}

impl<A> Delegate for WaitFor<A>
where
    A: Awaitable + 'static,
    A::Output: Clone,
{
    type Yield = Suspend;
    type Send = ();
    type Return = A::Output;

    fn prime(&self) -> Result<GeneratorState<Suspend, A::Output>> {
        match &self.0 {
            WaitForInner::Plain(aw, waiting) => match AwaitStep::begin(aw) {
                AwaitStep::Ready(outcome) => outcome.map(GeneratorState::Returned),
                AwaitStep::Suspend(fut, suspend) => {
                    *waiting.borrow_mut() = Some(fut);
                    Ok(GeneratorState::Yielded(suspend))
                }
            },
            WaitForInner::Timed(stepped) => stepped.prime(),
        }
    }

    fn forward(&self, sent: Sent<()>) -> Result<GeneratorState<Suspend, A::Output>> {
        match &self.0 {
            WaitForInner::Plain(_, waiting) => {
                let Some(fut) = waiting.borrow_mut().take() else {
                    return Err(reused());
                };
                Sent::into_result(sent)
                    .and_then(|()| AwaitStep::end(&fut))
                    .map(GeneratorState::Returned)
            }
            WaitForInner::Timed(stepped) => stepped.forward(sent),
        }
    }
}

/// `await asyncio.wait_for(aw, timeout)` in a stackless body:
/// `yield_from!(stackless::wait_for(&task, Some(d)))?`. The stackful
/// [`wait_for`](crate::wait_for)'s semantics (Python 3.11's): on the timeout `aw` is
/// cancelled and waited for, and its `CancelledError` becomes `TimeoutError`; cancelling the
/// waiting task cancels `aw` too. No stack is held while the task waits.
///
/// ```
/// #![feature(coroutines)]
/// # fn main() -> anyhow::Result<()> {
/// use std::time::Duration;
///
/// use tulip::stackless::{self, sleep};
/// use tulip::{ErrorExt, TimeoutError, get_running_loop, yield_from};
///
/// stackless::run(
///     #[coroutine]
///     static |_| {
///         let slow = get_running_loop()?.create_task_stackless(
///             #[coroutine]
///             static |_| {
///                 yield_from!(sleep(Duration::from_secs(3600)))?;
///                 Ok(1)
///             },
///         )?;
///         // await asyncio.wait_for(slow, timeout=0.01)
///         let err = yield_from!(stackless::wait_for(&slow, Some(Duration::from_millis(10))));
///         assert!(err.unwrap_err().isinstance::<TimeoutError>());
///         assert!(slow.cancelled()); // cancelled, and waited for
///         Ok(())
///     },
/// )?;
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// As [`wait_for`](crate::wait_for).
pub fn wait_for<A>(aw: &A, timeout: Option<Duration>) -> WaitFor<A>
where
    A: Awaitable + Clone + 'static,
    A::Output: Clone,
{
    WaitFor(match timeout {
        None => WaitForInner::Plain(aw.clone(), RefCell::new(None)),
        Some(timeout) => WaitForInner::Timed(Stepped::new(WaitForSteps::new(aw.clone(), timeout))),
    })
}

/// What [`wait_for_coro`] returns, for [`yield_from!`](crate::yield_from).
pub struct WaitForCoro<T: Clone + 'static>(RefCell<WaitForCoroState<T>>);

enum WaitForCoroState<T: Clone + 'static> {
    Unstarted(Option<Duration>, StacklessCoroutine<T>),
    /// No timeout: the coroutine is awaited in place.
    Inline(StacklessCoroutine<T>),
    /// Its task, waited for with the timeout.
    Waiting(WaitFor<Task<T>>),
    Finished,
}

impl<T: Clone + 'static> std::fmt::Debug for WaitForCoro<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitForCoro").finish_non_exhaustive()
    }
}

impl<T: Clone + 'static> WaitForCoro<T> {
    /// Keeps `state` while the wait goes on.
    fn keep(
        &self,
        step: Result<GeneratorState<Suspend, T>>,
        state: WaitForCoroState<T>,
    ) -> Result<GeneratorState<Suspend, T>> {
        if matches!(step, Ok(GeneratorState::Yielded(_))) {
            *self.0.borrow_mut() = state;
        }
        step
    }
}

impl<T: Clone + 'static> Delegate for WaitForCoro<T> {
    type Yield = Suspend;
    type Send = ();
    type Return = T;

    fn prime(&self) -> Result<GeneratorState<Suspend, T>> {
        let state = std::mem::replace(&mut *self.0.borrow_mut(), WaitForCoroState::Finished);
        let WaitForCoroState::Unstarted(timeout, coro) = state else {
            return Err(reused());
        };
        match timeout {
            None => {
                let step = Delegate::prime(&coro);
                self.keep(step, WaitForCoroState::Inline(coro))
            }
            Some(timeout) => {
                let task = get_running_loop()?.create_task_from_stackless(coro)?;
                let waiting = wait_for(&task, Some(timeout));
                let step = waiting.prime();
                self.keep(step, WaitForCoroState::Waiting(waiting))
            }
        }
    }

    fn forward(&self, sent: Sent<()>) -> Result<GeneratorState<Suspend, T>> {
        let state = std::mem::replace(&mut *self.0.borrow_mut(), WaitForCoroState::Finished);
        match state {
            WaitForCoroState::Inline(coro) => {
                let step = Delegate::forward(&coro, sent);
                self.keep(step, WaitForCoroState::Inline(coro))
            }
            WaitForCoroState::Waiting(waiting) => {
                let step = waiting.forward(sent);
                self.keep(step, WaitForCoroState::Waiting(waiting))
            }
            WaitForCoroState::Unstarted(..) | WaitForCoroState::Finished => Err(reused()),
        }
    }
}

/// `await asyncio.wait_for(coro(), timeout)` in a stackless body, `body` the coroutine: as
/// the stackful [`wait_for_fn`](crate::wait_for_fn), it runs as a new task of the running
/// loop, [`wait_for`]ed (with a zero timeout it is cancelled before its first step, so it
/// never runs); with `None` it is awaited in place, as Python's `await coro()`.
///
/// # Errors
///
/// As [`wait_for`]; also `RuntimeError("no running event loop")` outside a running loop.
pub fn wait_for_coro<T: Clone + 'static>(
    timeout: Option<Duration>,
    body: impl NightlyCoroutine<Sent<()>, Yield = Suspend, Return = Result<T>> + 'static,
) -> WaitForCoro<T> {
    WaitForCoro(RefCell::new(WaitForCoroState::Unstarted(
        timeout,
        StacklessCoroutine::new(body),
    )))
}

/// What [`wait`] returns, for [`yield_from!`](crate::yield_from).
pub struct Wait<A: Awaitable + Clone + 'static>(Stepped<WaitSteps<A, A>>);

impl<A: Awaitable + Clone + 'static> std::fmt::Debug for Wait<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wait").finish_non_exhaustive()
    }
}

forward_delegate!([A: Awaitable + Clone + 'static] Wait<A> => (Vec<A>, Vec<A>));

/// `await asyncio.wait(children, timeout=..., return_when=...)` in a stackless body:
/// `let (done, pending) = yield_from!(stackless::wait(&tasks, None,
/// ReturnWhen::FirstCompleted))?`. As the stackful [`wait`](crate::wait): clones of the
/// distinct children, done and pending, in argument order; the timeout raises nothing and
/// cancels nothing. No stack is held while the task waits.
///
/// # Errors
///
/// As [`wait`](crate::wait): `ValueError("Set of Tasks/Futures is empty.")` for no children,
/// `CancelledError` when the waiting task is cancelled (the children are left alone).
pub fn wait<'a, A>(
    children: impl IntoIterator<Item = &'a A>,
    timeout: Option<Duration>,
    return_when: ReturnWhen,
) -> Wait<A>
where
    A: Awaitable + Clone + 'static,
{
    let fs: Vec<A> = distinct(children).into_iter().cloned().collect();
    Wait(Stepped::new(WaitSteps::new(fs, timeout, return_when)))
}

/// What [`NextDone::wait_stackless`] returns, for [`yield_from!`](crate::yield_from).
pub struct NextDoneWait<T: Clone + 'static>(Stepped<NextDoneSteps<T>>);

impl<T: Clone + 'static> std::fmt::Debug for NextDoneWait<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NextDoneWait").finish_non_exhaustive()
    }
}

forward_delegate!([T: Clone + 'static] NextDoneWait<T> => T);

impl<T: Clone + 'static> NextDone<T> {
    /// `await f` of an [`as_completed`](crate::as_completed) wait in a stackless body:
    /// `yield_from!(next.wait_stackless())`. As [`NextDone::wait`]: the next child's result
    /// or error, or `TimeoutError`; no stack is held while the task waits.
    pub fn wait_stackless(self) -> NextDoneWait<T> {
        NextDoneWait(Stepped::new(NextDoneSteps::new(self)))
    }
}

/// A public scope type: a [`Scoped`] of `$scope` for [`yield_from!`](crate::yield_from),
/// with its Debug and its [`Delegate`], and `$scope`'s `run_stackless`, which returns it.
macro_rules! scope_type {
    ($(#[$doc:meta])* $name:ident, $(#[$run_doc:meta])* $scope:ty) => {
        $(#[$doc])*
        pub struct $name<T: 'static>(Scoped<$scope, T>);

        impl<T: 'static> std::fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.0.scope).finish()
            }
        }

        forward_delegate!([T: 'static] $name<T> => T);

        impl $scope {
            $(#[$run_doc])*
            pub fn run_stackless<T: 'static>(
                &self,
                body: impl NightlyCoroutine<Sent<()>, Yield = Suspend, Return = Result<T>> + 'static,
            ) -> $name<T> {
                $name(Scoped::new(
                    self.clone(),
                    Box::new(move |_, panicked| self::body(body, panicked)),
                ))
            }
        }
    };
}

scope_type!(
    /// What [`timeout`], [`timeout_at`] and [`Timeout::run_stackless`] return, for
    /// [`yield_from!`](crate::yield_from).
    TimeoutScope,
    /// `async with cm: body` in a stackless body: `yield_from!(cm.run_stackless(#[coroutine]
    /// static move |_| { ... }))`. As [`Timeout::run`], the body a stackless coroutine (it
    /// reaches `cm` through a clone it owns); no stack is held while the task waits in it.
    ///
    /// # Errors
    ///
    /// As [`Timeout::run`].
    Timeout
);

/// `async with asyncio.timeout(delay): body` in a stackless body:
/// `yield_from!(stackless::timeout(Some(d), #[coroutine] static move |_| { ... }))`. As the
/// stackful [`timeout`](crate::timeout): when the deadline passes the task is cancelled and
/// the scope raises `TimeoutError` (caused by the `CancelledError`) instead; the deadline is
/// computed now. For `cm.expired()` or `cm.reschedule(...)`, make the [`Timeout`] first and
/// use [`Timeout::run_stackless`].
///
/// ```
/// #![feature(coroutines)]
/// # fn main() -> anyhow::Result<()> {
/// use std::time::Duration;
///
/// use tulip::stackless::{self, sleep};
/// use tulip::{ErrorExt, TimeoutError, yield_from};
///
/// stackless::run(
///     #[coroutine]
///     static |_| {
///         // async with asyncio.timeout(0.01): await asyncio.sleep(3600)
///         let late = yield_from!(stackless::timeout(
///             Some(Duration::from_millis(10)),
///             #[coroutine]
///             static |_| yield_from!(sleep(Duration::from_secs(3600))),
///         ));
///         assert!(late.unwrap_err().isinstance::<TimeoutError>());
///         Ok(())
///     },
/// )?;
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// As [`timeout`](crate::timeout). Made outside a running loop, the scope's
/// `RuntimeError("no running event loop")` comes out of the `yield_from!` that awaits it, not
/// out of this call (Python raises it at `asyncio.timeout(d)`): the call only builds the scope.
pub fn timeout<T: 'static>(
    delay: Option<Duration>,
    body: impl NightlyCoroutine<Sent<()>, Yield = Suspend, Return = Result<T>> + 'static,
) -> TimeoutScope<T> {
    match Timeout::after(delay) {
        Ok(cm) => cm.run_stackless(body),
        Err(e) => {
            // Raised when awaited, where Python's `asyncio.timeout(d)` call is.
            let scope = Timeout::new(None).run_stackless(body);
            *scope.0.failed.borrow_mut() = Some(e);
            scope
        }
    }
}

/// `async with asyncio.timeout_at(when): body` in a stackless body: [`timeout`] with a
/// deadline on the loop's clock.
///
/// # Errors
///
/// As [`timeout`].
pub fn timeout_at<T: 'static>(
    when: Option<Instant>,
    body: impl NightlyCoroutine<Sent<()>, Yield = Suspend, Return = Result<T>> + 'static,
) -> TimeoutScope<T> {
    Timeout::new(when).run_stackless(body)
}

scope_type!(
    /// What [`task_group`] and [`TaskGroup::run_stackless`] return, for
    /// [`yield_from!`](crate::yield_from).
    TaskGroupScope,
    /// `async with tg: body` in a stackless body: `yield_from!(tg.run_stackless(#[coroutine]
    /// static move |_| { ... }))`, the body reaching the group through a clone it owns. As
    /// [`TaskGroup::run`]; no stack is held while the task waits in the body or for the
    /// children.
    ///
    /// # Errors
    ///
    /// As [`TaskGroup::run`].
    TaskGroup
);

/// `async with asyncio.TaskGroup() as tg: body` in a stackless body: `make(tg)` returns the
/// body, a stackless coroutine (it is called once the group is entered), whose
/// `tg.create_task_stackless(...)` (or `tg.create_task(...)`) starts children. As the
/// stackful [`task_group`](crate::task_group): the scope ends once every child is done, and
/// the children's errors come out as an `ExceptionGroup`.
///
/// ```
/// #![feature(coroutines)]
/// # fn main() -> anyhow::Result<()> {
/// use std::time::Duration;
///
/// use tulip::stackless::{self, sleep};
/// use tulip::yield_from;
///
/// stackless::run(
///     #[coroutine]
///     static |_| {
///         let (a, b) = yield_from!(stackless::task_group(|tg| {
///             #[coroutine]
///             static move |_| {
///                 let a = tg.create_task_stackless(
///                     #[coroutine]
///                     static |_| {
///                         yield_from!(sleep(Duration::from_millis(5)))?;
///                         Ok(1)
///                     },
///                 )?;
///                 let b = tg.create_task_stackless(
///                     #[coroutine]
///                     static |_| Ok(2),
///                 )?;
///                 Ok((a, b))
///             }
///         }))?;
///         // the block exits once every child is done
///         assert_eq!(a.result()? + b.result()?, 3);
///         Ok(())
///     },
/// )?;
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// As [`task_group`](crate::task_group).
pub fn task_group<T: 'static, C>(make: impl FnOnce(TaskGroup) -> C + 'static) -> TaskGroupScope<T>
where
    C: NightlyCoroutine<Sent<()>, Yield = Suspend, Return = Result<T>> + 'static,
{
    TaskGroupScope(Scoped::new(
        TaskGroup::new(),
        Box::new(move |tg: &TaskGroup, panicked| body(make(tg.clone()), panicked)),
    ))
}
