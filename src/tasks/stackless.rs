//! Tasks over the stackless backend (feature `nightly`): `create_task_stackless`, and what a
//! stackless body awaits with (`await_!`, `yield_now!`, `sleep`).
//!
//! A stackless task body is a nightly coroutine that yields [`Suspend`], exactly what a
//! stackful body's `co.wait` yields: the task steps both through one interface
//! ([`TaskBody`](super::body::TaskBody)), so the loop, futures, cancellation and asyncio's
//! ordering are the same code for both.

use std::cell::Cell;
use std::ops::Coroutine as NightlyCoroutine;
use std::ops::Deref;
use std::panic::Location;
use std::time::Duration;

use anyhow::Result;

use super::body::TaskBody;
use super::{Coroutine, Task, TaskCo, WaitKind};
use crate::contextvars::Context;
use crate::errors::RuntimeError;
use crate::event_loop::{EventLoop, TimerHandle, get_running_loop};
use crate::futures::{Awaitable, Future, Suspend};
use crate::generator::stackless::{Delegate, Generator, Sent};
use crate::generator::{GeneratorState, Kind};

/// Python's coroutine object on the stackless backend (`tulip::stackless::Coroutine`): what
/// an `async def` returns, a body a task can drive or a stackless body can await with
/// [`yield_from!`](crate::yield_from). It yields [`Suspend`] and returns `T`.
///
/// It is a stackless [`Generator`] (it derefs to one, for `send`, `throw`, `close` and the
/// state queries) whose errors name it a coroutine, as the stackful
/// [`Coroutine`](crate::Coroutine)'s do: `ValueError("coroutine already executing")`,
/// `RuntimeError("coroutine ignored GeneratorExit")`, `RuntimeError("coroutine raised
/// StopIteration")`, and resuming it once finished is `RuntimeError("cannot reuse already
/// awaited coroutine")`.
///
/// ```
/// #![feature(coroutines)]
/// # fn main() -> anyhow::Result<()> {
/// use std::rc::Rc;
///
/// use tulip::stackless::{self, Coroutine};
/// use tulip::{py_repr, yield_from};
///
/// stackless::run(
///     #[coroutine]
///     static |_| {
///         // async def sub(): return 1
///         let sub = Rc::new(Coroutine::new(
///             #[coroutine]
///             static |_| Ok(1),
///         ));
///         assert_eq!(yield_from!(&sub)?, 1); // await c
///         let err = yield_from!(&sub).unwrap_err(); // await c, again
///         assert_eq!(py_repr(&err), "RuntimeError('cannot reuse already awaited coroutine')");
///         Ok(())
///     },
/// )?;
/// # Ok(()) }
/// ```
pub struct StacklessCoroutine<T: 'static>(Generator<Suspend, (), T>);

impl<T: 'static> StacklessCoroutine<T> {
    /// `sub()` for an `async def sub()`: `#[coroutine] static |_| { ...; Ok(r) }`, whose
    /// awaits are [`await_!`](crate::await_) and [`yield_from!`](crate::yield_from). Nothing
    /// runs until it is first resumed (awaited, or its task's first step).
    pub fn new(
        body: impl NightlyCoroutine<Sent<()>, Yield = Suspend, Return = Result<T>> + 'static,
    ) -> Self {
        StacklessCoroutine(Generator::with_kind(Kind::Coroutine, body))
    }
}

impl<T: 'static> Deref for StacklessCoroutine<T> {
    type Target = Generator<Suspend, (), T>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<T: 'static> std::fmt::Debug for StacklessCoroutine<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("stackless::Coroutine")
            .field(&self.0)
            .finish()
    }
}

/// `await coro` in a stackless body: the coroutine is delegated to as the generator it is.
impl<T: 'static> Delegate for StacklessCoroutine<T> {
    type Yield = Suspend;
    type Send = ();
    type Return = T;

    fn prime(&self) -> Result<GeneratorState<Suspend, T>> {
        self.0.prime()
    }

    #[inline]
    fn forward(&self, sent: Sent<()>) -> Result<GeneratorState<Suspend, T>> {
        self.0.forward(sent)
    }
}

impl EventLoop {
    /// `loop.create_task(coro)` for a stackless body: a nightly coroutine that awaits with
    /// [`await_!`](crate::await_) (and [`yield_from!`](crate::yield_from) of other stackless
    /// coroutines, or of stackful ones through [`stackful`](crate::stackless::stackful)).
    /// The first step is scheduled with `call_soon`, as for [`EventLoop::create_task`].
    ///
    /// ```
    /// #![feature(coroutines)]
    /// # fn main() -> anyhow::Result<()> {
    /// use tulip::{EventLoop, await_};
    ///
    /// let lp = EventLoop::new()?;
    /// let fut = lp.create_future::<i32>();
    /// let waited = fut.clone();
    /// let task = lp.create_task_stackless(
    ///     #[coroutine]
    ///     static move |_| {
    ///         let x = await_!(waited)?; // x = await fut
    ///         Ok(x * 2)
    ///     },
    /// )?;
    /// lp.call_soon(move || fut.set_result(21).unwrap())?;
    /// assert_eq!(lp.run_until_complete(&task)?, 42);
    /// lp.close()?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// `RuntimeError("Event loop is closed")` on a closed loop.
    #[track_caller]
    pub fn create_task_stackless<T: 'static>(
        &self,
        body: impl NightlyCoroutine<Sent<()>, Yield = Suspend, Return = Result<T>> + 'static,
    ) -> Result<Task<T>> {
        self.create_task_body(TaskBody::Stackless(StacklessCoroutine::new(body).0))
    }

    /// `loop.create_task(coro, context=ctx)` for a stackless body: as
    /// [`EventLoop::create_task_in`], the task's steps run in `ctx` itself (not a copy), so
    /// what the body sets stays in `ctx`.
    ///
    /// ```
    /// #![feature(coroutines)]
    /// # fn main() -> anyhow::Result<()> {
    /// use tulip::{Context, ContextVar, EventLoop};
    ///
    /// let var = ContextVar::<i32>::new("var");
    /// let ctx = Context::new();
    /// let lp = EventLoop::new()?;
    /// let v = var.clone();
    /// let task = lp.create_task_stackless_in(
    ///     &ctx,
    ///     #[coroutine]
    ///     static move |_| {
    ///         v.set(7);
    ///         Ok(())
    ///     },
    /// )?;
    /// lp.run_until_complete(&task)?;
    /// assert_eq!(ctx.get(&var), Some(7));
    /// lp.close()?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// `RuntimeError("Event loop is closed")` on a closed loop.
    #[track_caller]
    pub fn create_task_stackless_in<T: 'static>(
        &self,
        ctx: &Context,
        body: impl NightlyCoroutine<Sent<()>, Yield = Suspend, Return = Result<T>> + 'static,
    ) -> Result<Task<T>> {
        self.create_task_with(
            TaskBody::Stackless(StacklessCoroutine::new(body).0),
            Some(ctx.clone()),
        )
    }

    /// `create_task` for a stackless coroutine made beforehand.
    ///
    /// # Errors
    ///
    /// `RuntimeError("Event loop is closed")` on a closed loop.
    #[track_caller]
    pub fn create_task_from_stackless<T: 'static>(
        &self,
        coro: StacklessCoroutine<T>,
    ) -> Result<Task<T>> {
        self.create_task_body(TaskBody::Stackless(coro.0))
    }
}

/// Records where a stackless helper suspends the task (`at`, captured when the helper was
/// called) and which helper, as `co.wait_as` does for a stackful body: the task tree shows
/// it the same way.
pub(crate) fn set_wait_site_at(at: &'static Location<'static>, what: WaitKind) {
    super::awaiting::WAIT_SITE.set(Some(super::WaitSite { at, what }));
}

/// One `await_!`: done at once, or suspended on a future. Used by the macro only.
#[doc(hidden)]
pub enum AwaitStep<T: 'static> {
    /// The awaitable was done: its outcome, without suspending.
    Ready(Result<T>),
    /// Yield this, then read the future.
    Suspend(Future<T>, Suspend),
}

impl<T: 'static> std::fmt::Debug for AwaitStep<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AwaitStep::Ready(_) => "AwaitStep::Ready(..)",
            AwaitStep::Suspend(..) => "AwaitStep::Suspend(..)",
        })
    }
}

impl<T: Clone + 'static> AwaitStep<T> {
    /// What `await aw` does before suspending.
    #[inline]
    pub fn begin<A: Awaitable<Output = T>>(aw: &A) -> Self {
        let fut = aw.future();
        if fut.done() {
            return AwaitStep::Ready(fut.result());
        }
        AwaitStep::Suspend(fut.clone(), aw.suspend())
    }

    /// What `await aw` does when the task is woken.
    ///
    /// # Errors
    ///
    /// The future's error, or a `RuntimeError` when it is still pending.
    #[inline]
    pub fn end(fut: &Future<T>) -> Result<T> {
        if !fut.done() {
            return Err(RuntimeError::new("await wasn't used with future").into());
        }
        fut.result()
    }
}

/// Python's `await aw` in a stackless task body: suspends the task until `aw` (a
/// [`Future`], a [`Task`], what `gather` or `shield` returns: any
/// [`Awaitable`]) is done, and evaluates to its result or error. A done awaitable
/// does not suspend. Cancelling the task cancels `aw` and the `CancelledError` comes out
/// here, as with [`Co::wait`](crate::Co::wait).
///
/// Only in a `#[coroutine]` body given to
/// [`create_task_stackless`](crate::EventLoop::create_task_stackless) (or in a stackless
/// generator yielding [`Suspend`] that such a body delegates to).
#[macro_export]
macro_rules! await_ {
    ($aw:expr) => {{
        let __tulip_step = $crate::stackless::AwaitStep::begin(&$aw);
        match __tulip_step {
            $crate::stackless::AwaitStep::Ready(__tulip_r) => __tulip_r,
            $crate::stackless::AwaitStep::Suspend(__tulip_fut, __tulip_suspend) => {
                match $crate::stackless::Sent::into_result(yield __tulip_suspend) {
                    ::core::result::Result::Ok(()) => {
                        $crate::stackless::AwaitStep::end(&__tulip_fut)
                    }
                    ::core::result::Result::Err(__tulip_e) => {
                        ::core::result::Result::Err(__tulip_e)
                    }
                }
            }
        }
    }};
}

/// A bare `yield` in a stackless task body: gives up exactly one loop iteration
/// (`await asyncio.sleep(0)`); `Err(CancelledError)` when the task is cancelled meanwhile.
#[macro_export]
macro_rules! yield_now {
    () => {
        $crate::stackless::Sent::into_result(yield $crate::Suspend::bare())
    };
}

/// `asyncio.sleep(delay)` for a stackless body: `yield_from!(sleep(delay))?`. A zero delay
/// is one bare yield (one loop iteration); otherwise a timer resolves a future the task
/// waits for, and the timer is cancelled however the wait ends. Nothing is allocated for a
/// zero delay: [`Sleep`] is a small state machine of its own, not a boxed coroutine.
pub fn sleep(delay: Duration) -> Sleep {
    Sleep {
        delay,
        state: Cell::new(SleepState::Unstarted),
    }
}

/// The coroutine [`sleep`] returns, for [`yield_from!`](crate::yield_from).
pub struct Sleep {
    delay: Duration,
    state: Cell<SleepState>,
}

impl std::fmt::Debug for Sleep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sleep").field("delay", &self.delay).finish()
    }
}

#[derive(Default)]
enum SleepState {
    #[default]
    Unstarted,
    /// At its bare yield (a zero delay).
    Yielded,
    /// Waiting for the timer's future.
    Waiting(Future<()>, TimerHandle),
    Finished,
}

impl Delegate for Sleep {
    type Yield = Suspend;
    type Send = ();
    type Return = ();

    fn prime(&self) -> Result<GeneratorState<Suspend, ()>> {
        match self.state.take() {
            SleepState::Unstarted => {}
            _ => return Err(RuntimeError::new("cannot reuse already awaited coroutine").into()),
        }
        if self.delay.is_zero() {
            self.state.set(SleepState::Yielded);
            return Ok(GeneratorState::Yielded(Suspend::bare()));
        }
        let lp = get_running_loop()?;
        let fut = lp.create_future::<()>();
        let waker = fut.clone();
        let timer = lp.call_later(self.delay, move || {
            if !waker.done() {
                let _ = waker.set_result(());
            }
        })?;
        if fut.done() {
            timer.cancel();
            return Ok(GeneratorState::Returned(()));
        }
        let suspend = fut.suspend();
        self.state.set(SleepState::Waiting(fut, timer));
        Ok(GeneratorState::Yielded(suspend))
    }

    fn forward(&self, sent: Sent<()>) -> Result<GeneratorState<Suspend, ()>> {
        let received = Sent::into_result(sent);
        let outcome = match self.state.replace(SleepState::Finished) {
            SleepState::Yielded => received,
            SleepState::Waiting(fut, timer) => {
                // `try: await future finally: h.cancel()`
                timer.cancel();
                received.and_then(|()| AwaitStep::end(&fut))
            }
            SleepState::Unstarted | SleepState::Finished => {
                Err(RuntimeError::new("cannot reuse already awaited coroutine").into())
            }
        };
        outcome.map(GeneratorState::Returned)
    }
}

/// A stackful coroutine for a stackless body to delegate to: `yield_from!(stackful(move
/// |co| lock.acquire(co)))?`. Every helper written against the stackful handle (locks,
/// queues, streams, `wait_for`, `timeout`, `TaskGroup`, ...) works from a stackless task
/// this way, with the same ordering; the coroutine holds a pooled stack only while it runs.
pub fn stackful<T: 'static>(body: impl FnOnce(&TaskCo) -> Result<T> + 'static) -> Coroutine<T> {
    Coroutine::new(body)
}

/// `asyncio.run(main())` for a stackless main: as [`crate::run`], with the main task's body
/// a nightly coroutine.
///
/// # Errors
///
/// As [`crate::run`].
#[track_caller]
pub fn run<T: 'static>(
    main: impl NightlyCoroutine<Sent<()>, Yield = Suspend, Return = Result<T>> + 'static,
) -> Result<T> {
    let lp = crate::helpers::runners::new_run_loop()?;
    let task = lp.create_task_stackless(main);
    crate::helpers::runners::run_main_task(lp, task)
}

/// A stackless body awaits a stackful coroutine object (`yield_from!(stackful(...))`) as
/// the generator it is; its errors still say "coroutine".
impl<T: 'static> Delegate for Coroutine<T> {
    type Yield = Suspend;
    type Send = ();
    type Return = T;

    fn prime(&self) -> Result<GeneratorState<Suspend, T>> {
        Delegate::prime(&**self)
    }

    #[inline]
    fn forward(&self, sent: Sent<()>) -> Result<GeneratorState<Suspend, T>> {
        Delegate::forward(&**self, sent)
    }
}
