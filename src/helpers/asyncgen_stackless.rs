//! Async generators (PEP 525) on the stackless backend (feature `nightly`):
//! `tulip::stackless::AsyncGenerator`.
//!
//! The body is a nightly coroutine yielding [`Suspend`], as a stackless task body does, so
//! [`await_!`](crate::await_), [`yield_now!`](crate::yield_now) and
//! [`yield_from!`](crate::yield_from) of a stackless sleep or coroutine work in it as they
//! do in a task. [`ayield!`](crate::ayield) is `yield value`: it puts the value in the
//! generator's slot and yields a bare `Suspend`, which the call that resumed the body
//! recognises by the value it finds (as the stackful `AsyncCo::yield_` does). Each call
//! (`anext()`, `asend(v)`, `athrow(e)`, `aclose()`) is an awaitable the consumer's stackless
//! body delegates to with `yield_from!`; the checks, the errors, the bookkeeping and the
//! shutdown registry are the stackful [`AsyncGenerator`](crate::AsyncGenerator)'s own code
//! (`asyncgen.rs`).

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Coroutine, CoroutineState};
use std::pin::Pin;
use std::rc::Rc;

use anyhow::Result;

use super::asyncgen::{
    Advance, AgenBody, Begin, Call, CallKind, Core, Shared, closed, next_value, pep525, sent_value,
};
use crate::errors::RuntimeError;
use crate::event_loop::EventLoop;
use crate::futures::Suspend;
use crate::generator::GeneratorState;
use crate::generator::stackless::{Delegate, Generator, Sent};
use crate::tasks::Task;

/// The handle a stackless async generator's body yields values with:
/// [`ayield!(co, value)`](crate::ayield). A cheap clone: a sub-coroutine the body delegates
/// to may yield through it too.
pub struct AsyncCo<Y, S = ()> {
    shared: Rc<Shared<Y, S>>,
}

impl<Y, S> Clone for AsyncCo<Y, S> {
    fn clone(&self) -> Self {
        AsyncCo {
            shared: self.shared.clone(),
        }
    }
}

impl<Y, S> fmt::Debug for AsyncCo<Y, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("stackless::AsyncCo")
    }
}

impl<Y, S: Default> AsyncCo<Y, S> {
    /// What `ayield!` yields: the value is left for the call, the body suspends bare.
    #[doc(hidden)]
    pub fn yield_value(&self, value: Y) -> Suspend {
        self.shared.put(value)
    }

    /// What `ayield!` evaluates to, from what its yield received.
    ///
    /// # Errors
    ///
    /// The error thrown in.
    #[doc(hidden)]
    pub fn resumed(&self, resumed: Result<()>) -> Result<S> {
        self.shared.received(resumed)
    }
}

/// The body as the generator resumes it.
type Body = Generator<Suspend, (), ()>;

impl AgenBody for Body {
    fn is_started(&self) -> bool {
        Generator::is_started(self)
    }
    fn is_finished(&self) -> bool {
        Generator::is_finished(self)
    }
    fn resume(&self, input: Result<()>) -> Result<GeneratorState<Suspend, ()>> {
        match input {
            Ok(()) => self.send(()),
            Err(e) => self.throw(e),
        }
    }
    fn close(&self) -> Result<()> {
        Generator::close(self)
    }
    fn spawn_aclose<Y: 'static, S: Default + PartialEq + 'static>(
        core: Rc<Core<Y, S, Self>>,
        lp: &EventLoop,
    ) -> Result<Task<()>> {
        lp.create_task_stackless(Awaiting {
            op: AsyncGenerator { core }.aclose(),
            primed: false,
        })
    }
}

/// Python's async generator object on the stackless backend (`async def` with `yield`): a
/// cheap clonable handle, with the stackful [`AsyncGenerator`](crate::AsyncGenerator)'s
/// methods and errors. Its body is a nightly coroutine that awaits as a stackless task body
/// does (`await_!`, `yield_now!`, `yield_from!(sleep(..))`) and yields values with
/// [`ayield!`](crate::ayield); a stackless body awaits its calls with `yield_from!`.
///
/// # Examples
///
/// ```
/// #![feature(coroutines)]
/// # fn main() -> anyhow::Result<()> {
/// use std::time::Duration;
///
/// use tulip::stackless::{self, AsyncGenerator, sleep};
/// use tulip::{ayield, yield_from};
///
/// // async def ticker(n):
/// //     for i in range(n):
/// //         await asyncio.sleep(0.001)
/// //         x = yield i
/// //         if x is not None:
/// //             print("got", x)
/// fn ticker(n: u32) -> AsyncGenerator<u32, Option<&'static str>> {
///     AsyncGenerator::new(move |co| {
///         #[coroutine]
///         static move |_| {
///             for i in 0..n {
///                 yield_from!(sleep(Duration::from_millis(1)))?;
///                 if let Some(x) = ayield!(co, i)? {
///                     println!("got {x}");
///                 }
///             }
///             Ok(())
///         }
///     })
/// }
///
/// let seen = stackless::run(
///     #[coroutine]
///     static |_| {
///         let mut seen = Vec::new();
///         let ticks = ticker(3);
///         while let Some(i) = yield_from!(ticks.try_next())? {
///             // async for i in ticker(3)
///             seen.push(i);
///         }
///         let t = ticker(3);
///         seen.push(yield_from!(t.anext())?); // await anext(t)
///         seen.push(yield_from!(t.asend(Some("hi")))?); // await t.asend("hi")
///         yield_from!(t.aclose())?; // await t.aclose()
///         assert!(yield_from!(t.anext()).is_err()); // StopAsyncIteration
///         Ok(seen)
///     },
/// )?;
/// assert_eq!(seen, [0, 1, 2, 0, 1]);
/// # Ok(()) }
/// ```
pub struct AsyncGenerator<Y: 'static, S: 'static = ()> {
    core: Rc<Core<Y, S, Body>>,
}

impl<Y, S> Clone for AsyncGenerator<Y, S> {
    fn clone(&self) -> Self {
        AsyncGenerator {
            core: self.core.clone(),
        }
    }
}

impl<Y, S> fmt::Debug for AsyncGenerator<Y, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("stackless::AsyncGenerator")
            .field("started", &self.core.is_started())
            .field("finished", &self.core.is_finished())
            .field("running", &self.core.is_running())
            .finish()
    }
}

impl<Y: 'static, S: Default + PartialEq + 'static> AsyncGenerator<Y, S> {
    /// `agen()` for an `async def agen()` with `yield`: `body` receives the handle to yield
    /// with and returns the coroutine, `move |co| #[coroutine] static move |_| { ...; Ok(())
    /// }`. Nothing of the coroutine runs until the first `anext`/`asend`/`athrow`.
    pub fn new<C>(body: impl FnOnce(AsyncCo<Y, S>) -> C) -> Self
    where
        C: Coroutine<Sent<()>, Yield = Suspend, Return = Result<()>> + 'static,
    {
        let shared = Rc::new(Shared::new());
        let coro = body(AsyncCo {
            shared: shared.clone(),
        });
        AsyncGenerator {
            core: Rc::new(Core::new(Generator::new(Pep525(coro)), shared)),
        }
    }

    fn call<R>(
        &self,
        call: Call<S>,
        output: fn(Result<Option<Y>>) -> Result<R>,
    ) -> AsyncGenOp<Y, S, R> {
        AsyncGenOp {
            core: self.core.clone(),
            kind: call.kind(),
            call: Cell::new(Some(call)),
            running: Cell::new(false),
            output,
            _r: PhantomData,
        }
    }

    /// `agen.asend(value)`, awaited with `yield_from!`: resumes the body with `value` as
    /// the result of the `ayield!` it is suspended at, and evaluates to the next value it
    /// yields.
    ///
    /// Errors (out of the `yield_from!`): as the stackful
    /// [`AsyncGenerator::asend`](crate::AsyncGenerator::asend): `StopAsyncIteration` at the
    /// end, "anext(): asynchronous generator is already running", the `TypeError` of a
    /// non-None value before the first `anext`, what the body raises.
    pub fn asend(&self, value: S) -> AsyncGenOp<Y, S, Y> {
        self.call(Call::Send(value), sent_value)
    }

    /// `anext(agen)`, awaited with `yield_from!`: `asend(None)`.
    pub fn anext(&self) -> AsyncGenOp<Y, S, Y> {
        self.asend(S::default())
    }

    /// One step of `async for`: `None` at the end, so `while let Some(v) =
    /// yield_from!(agen.try_next())? { ... }` is `async for v in agen:`.
    pub fn try_next(&self) -> AsyncGenOp<Y, S, Option<Y>> {
        self.call(Call::Send(S::default()), next_value)
    }

    /// `agen.athrow(err)`, awaited with `yield_from!`: raises `err` where the body is
    /// suspended and evaluates to the next value it yields; `None` on a finished async
    /// generator (Python 3.11 returns None); on one that has not started, `err` comes
    /// straight back and it is finished. Errors as the stackful
    /// [`AsyncGenerator::athrow`](crate::AsyncGenerator::athrow).
    pub fn athrow(&self, err: anyhow::Error) -> AsyncGenOp<Y, S, Option<Y>> {
        self.call(Call::Throw(err), std::convert::identity)
    }

    /// `agen.aclose()`, awaited with `yield_from!`: raises `GeneratorExit` where the body is
    /// suspended, so its clean-up runs (and may await); nothing happens if it has not
    /// started or has finished. Errors as the stackful
    /// [`AsyncGenerator::aclose`](crate::AsyncGenerator::aclose), notably
    /// `RuntimeError("async generator ignored GeneratorExit")`.
    pub fn aclose(&self) -> AsyncGenOp<Y, S, ()> {
        self.call(Call::Close, closed)
    }

    /// Whether the body has finished (returned, raised, or was closed).
    pub fn is_finished(&self) -> bool {
        self.core.is_finished()
    }

    /// Whether an `anext`/`asend`/`athrow`/`aclose` is in progress (`ag_running`).
    pub fn is_running(&self) -> bool {
        self.core.is_running()
    }
}

/// The body, with PEP 479/525's rewriting of what it raises.
struct Pep525<C>(C);

impl<C: Coroutine<Sent<()>, Yield = Suspend, Return = Result<()>>> Coroutine<Sent<()>>
    for Pep525<C>
{
    type Yield = Suspend;
    type Return = Result<()>;

    fn resume(self: Pin<&mut Self>, arg: Sent<()>) -> CoroutineState<Suspend, Result<()>> {
        // SAFETY: structural pinning: the body is pinned with its wrapper and never moved
        // out of it.
        let body = unsafe { self.map_unchecked_mut(|w| &mut w.0) };
        match body.resume(arg) {
            CoroutineState::Complete(r) => CoroutineState::Complete(pep525(r)),
            yielded => yielded,
        }
    }
}

/// One `anext()`, `asend(v)`, `athrow(e)` or `aclose()` of a stackless
/// [`AsyncGenerator`]: Python's `async_generator_asend`/`_athrow` awaitable, for
/// [`yield_from!`](crate::yield_from). It evaluates to `R`; awaited twice, it is
/// `RuntimeError("cannot reuse already awaited __anext__()/asend()")` (or `aclose()/athrow()`).
pub struct AsyncGenOp<Y: 'static, S: 'static, R> {
    core: Rc<Core<Y, S, Body>>,
    kind: CallKind,
    /// Taken when it is first awaited.
    call: Cell<Option<Call<S>>>,
    /// This call is the one in progress: it ends it if dropped half-way.
    running: Cell<bool>,
    output: fn(Result<Option<Y>>) -> Result<R>,
    _r: PhantomData<fn() -> R>,
}

impl<Y, S, R> fmt::Debug for AsyncGenOp<Y, S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncGenOp")
            .field("kind", &self.kind)
            .field("running", &self.running.get())
            .finish()
    }
}

impl<Y: 'static, S: Default + PartialEq + 'static, R> AsyncGenOp<Y, S, R> {
    fn advance(&self, input: Result<()>) -> Result<GeneratorState<Suspend, R>> {
        match self.core.advance(input) {
            Advance::Wait(s) => Ok(GeneratorState::Yielded(s)),
            Advance::Done(outcome) => {
                self.running.set(false);
                self.core.leave();
                (self.output)(self.kind.end(outcome)).map(GeneratorState::Returned)
            }
        }
    }

    #[cold]
    fn reused(&self) -> anyhow::Error {
        RuntimeError::new(match self.kind {
            CallKind::Send => "cannot reuse already awaited __anext__()/asend()",
            CallKind::Throw | CallKind::Close => "cannot reuse already awaited aclose()/athrow()",
        })
        .into()
    }
}

impl<Y: 'static, S: Default + PartialEq + 'static, R> Delegate for AsyncGenOp<Y, S, R> {
    type Yield = Suspend;
    type Send = ();
    type Return = R;

    fn prime(&self) -> Result<GeneratorState<Suspend, R>> {
        let Some(call) = self.call.take() else {
            return Err(self.reused());
        };
        match self.core.begin(call) {
            Begin::Ended(outcome) => (self.output)(outcome).map(GeneratorState::Returned),
            Begin::Resume(input) => {
                self.running.set(true);
                self.advance(input)
            }
        }
    }

    fn forward(&self, sent: Sent<()>) -> Result<GeneratorState<Suspend, R>> {
        if !self.running.get() {
            return Err(self.reused());
        }
        // A thrown error, GeneratorExit too, goes to the body where it waits, as the
        // stackful call passes on what its task's yield received.
        self.advance(Sent::into_result(sent))
    }
}

impl<Y, S, R> Drop for AsyncGenOp<Y, S, R> {
    fn drop(&mut self) {
        if self.running.get() {
            // Abandoned half-way (its awaiter was dropped): the generator is free again.
            self.core.leave();
        }
    }
}

/// A call awaited as a task's whole body (`shutdown_asyncgens`'s `aclose()` tasks).
struct Awaiting<D> {
    op: D,
    primed: bool,
}

// Never pinned structurally: the call is used by reference only.
impl<D> Unpin for Awaiting<D> {}

impl<D: Delegate<Yield = Suspend, Send = ()>> Coroutine<Sent<()>> for Awaiting<D> {
    type Yield = Suspend;
    type Return = Result<D::Return>;

    fn resume(self: Pin<&mut Self>, arg: Sent<()>) -> CoroutineState<Suspend, Self::Return> {
        let this = self.get_mut();
        let step = if this.primed {
            this.op.forward(arg)
        } else {
            this.primed = true;
            this.op.prime()
        };
        match step {
            Ok(GeneratorState::Yielded(s)) => CoroutineState::Yielded(s),
            Ok(GeneratorState::Returned(r)) => CoroutineState::Complete(Ok(r)),
            Err(e) => CoroutineState::Complete(Err(e)),
        }
    }
}

/// Python's `yield value` in a stackless async generator's body: `ayield!(co, value)`, `co`
/// being the [`AsyncCo`](crate::stackless::AsyncCo) the body was given. The
/// `anext`/`asend` that resumed the body evaluates to `value`; the macro evaluates to
/// `Ok(s)`, what the next `asend` sends (`S::default()` for `anext`), or `Err(e)`, what
/// `athrow` throws in (`GeneratorExit` from `aclose`: let it out). Only in a `#[coroutine]`
/// body given to [`stackless::AsyncGenerator::new`](crate::stackless::AsyncGenerator::new)
/// (or a stackless coroutine it delegates to).
///
/// ```
/// #![feature(coroutines)]
/// # fn main() -> anyhow::Result<()> {
/// use tulip::stackless::{self, AsyncGenerator};
/// use tulip::{ayield, yield_from};
///
/// // async def echo():
/// //     x = yield "ready"
/// //     yield f"got {x}"
/// let echo = AsyncGenerator::<String, i32>::new(|co| {
///     #[coroutine]
///     static move |_| {
///         let x = ayield!(co, "ready".to_string())?;
///         ayield!(co, format!("got {x}"))?;
///         Ok(())
///     }
/// });
/// let said = stackless::run(
///     #[coroutine]
///     static move |_| {
///         let first = yield_from!(echo.anext())?;
///         let second = yield_from!(echo.asend(7))?;
///         Ok([first, second])
///     },
/// )?;
/// assert_eq!(said, ["ready", "got 7"]);
/// # Ok(()) }
/// ```
#[macro_export]
macro_rules! ayield {
    ($co:expr, $value:expr) => {{
        let __tulip_suspend = $crate::stackless::AsyncCo::yield_value(&$co, $value);
        $crate::stackless::AsyncCo::resumed(
            &$co,
            $crate::stackless::Sent::into_result(yield __tulip_suspend),
        )
    }};
}

// A file of its own: coroutine syntax is gated even where `cfg` strips it.
#[cfg(test)]
mod tests;
