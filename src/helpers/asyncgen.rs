//! Async generators (PEP 525, layer 8): a body that yields values to its consumer and waits
//! on futures in between, driven from the consumer's task.
//!
//! The body runs as a coroutine of its own (its handle derefs to the task handle, so
//! `sleep`, locks, queues and streams work in it). `anext`/`asend`/`athrow`/`aclose` resume
//! it from the consumer's task: what it waits for, the consumer's task waits for (a
//! cancellation reaches the body where it waits, as in asyncio); a value it yields ends the
//! call. No extra task and no loop iteration per value, as `await agen.__anext__()`.
//!
//! Python's checks before each call, what each call returns or raises, and the registry
//! `shutdown_asyncgens` closes are [`Core`]'s, shared with the stackless backend's async
//! generator (`asyncgen_stackless.rs`), whose body is a nightly coroutine.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::ops::Deref;
use std::rc::{Rc, Weak};

use anyhow::Result;

use crate::errors::{
    Exception, GeneratorExit, PyException, RuntimeError, StopIteration, TypeError,
    register_py_exception,
};
use crate::event_loop::{EventLoop, ExceptionContext, get_running_loop};
use crate::futures::Suspend;
use crate::generator::{Generator, GeneratorState};
use crate::helpers::gather::gather_settled;
use crate::tasks::{Task, TaskCo};

/// Python's `StopAsyncIteration`: `anext` on an async generator that is finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StopAsyncIteration;

impl StopAsyncIteration {
    /// The error, with its Python name known to `py_repr`.
    pub(crate) fn error() -> anyhow::Error {
        register_py_exception::<StopAsyncIteration>();
        StopAsyncIteration.into()
    }
}

impl fmt::Display for StopAsyncIteration {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

impl std::error::Error for StopAsyncIteration {}

impl PyException for StopAsyncIteration {
    fn py_name(&self) -> &str {
        "StopAsyncIteration"
    }
    fn py_arg(&self) -> Option<&str> {
        None
    }
}

/// The value slot between the body's yield and the call that resumed it, the same for both
/// backends: a yield puts its value here and suspends with a bare [`Suspend`], which the
/// call recognises by the value it finds.
pub(crate) struct Shared<Y, S> {
    value: Cell<Option<Y>>,
    sent: Cell<Option<S>>,
}

impl<Y, S: Default> Shared<Y, S> {
    pub(crate) fn new() -> Self {
        Shared {
            value: Cell::new(None),
            sent: Cell::new(None),
        }
    }

    /// Before the body's yield: what the call will return.
    pub(crate) fn put(&self, value: Y) -> Suspend {
        self.value.set(Some(value));
        Suspend::bare()
    }

    /// What the body's yield evaluates to once resumed with `resumed`: the sent value
    /// (`S::default()` for `anext`), or the error thrown in.
    pub(crate) fn received(&self, resumed: Result<()>) -> Result<S> {
        resumed.map(|()| self.sent.take().unwrap_or_default())
    }
}

/// The handle an async generator's body receives: [`AsyncCo::yield_`] hands a value to the
/// consumer; everything a task can do (`co.wait`, `sleep(co, ..)`, `lock.acquire(co)`) works
/// through it, as it derefs to the task handle.
pub struct AsyncCo<Y, S = ()> {
    /// The body's coroutine handle; valid while the body runs (this handle lives in its
    /// frame and is only lent out by reference).
    co: *const TaskCo,
    shared: Rc<Shared<Y, S>>,
}

impl<Y, S> fmt::Debug for AsyncCo<Y, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AsyncCo")
    }
}

impl<Y, S> Deref for AsyncCo<Y, S> {
    type Target = TaskCo;
    fn deref(&self) -> &TaskCo {
        // SAFETY: an `AsyncCo` is made in the body's first frame from the body's own handle
        // and only lent by reference to the body, so it never outlives that handle.
        unsafe { &*self.co }
    }
}

impl<Y, S: Default> AsyncCo<Y, S> {
    /// Python's `yield value` in an `async def`: the `anext`/`asend` that resumed the body
    /// returns `value`. `Ok(s)` is what the next `asend` sends (`S::default()` for `anext`);
    /// `Err(e)` is what `athrow` throws in, or `GeneratorExit` from `aclose` (let it out).
    ///
    /// # Errors
    ///
    /// The error thrown in by `athrow`, `GeneratorExit` from `aclose`.
    pub fn yield_(&self, value: Y) -> Result<S> {
        let bare = self.shared.put(value);
        self.shared.received((**self).yield_(bare))
    }
}

/// An async generator's body, of either backend: a generator yielding what its task waits
/// for ([`Suspend`]), the values going through [`Shared`].
pub(crate) trait AgenBody: Sized + 'static {
    fn is_started(&self) -> bool;
    fn is_finished(&self) -> bool;
    /// Resumes the body: `Ok` sends, `Err` throws in.
    fn resume(&self, input: Result<()>) -> Result<GeneratorState<Suspend, ()>>;
    fn close(&self) -> Result<()>;
    /// `aclose()` in a task of its own, for `shutdown_asyncgens`.
    fn spawn_aclose<Y: 'static, S: Default + PartialEq + 'static>(
        core: Rc<Core<Y, S, Self>>,
        lp: &EventLoop,
    ) -> Result<Task<()>>;
}

impl AgenBody for Generator<Suspend, (), ()> {
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
        lp.create_task(move |co| AsyncGenerator { core }.aclose(co))
    }
}

/// PEP 479 and PEP 525 on what the body returns: these would look like the end to the
/// consumer.
pub(crate) fn pep525(r: Result<()>) -> Result<()> {
    match r {
        Err(e) if e.is::<StopIteration>() || is_named(&e, "StopIteration") => {
            Err(RuntimeError::new("async generator raised StopIteration").into())
        }
        Err(e) if e.is::<StopAsyncIteration>() || is_named(&e, "StopAsyncIteration") => {
            Err(RuntimeError::new("async generator raised StopAsyncIteration").into())
        }
        r => r,
    }
}

/// What a call passes in: `asend`'s value (`anext` sends `S::default()`), `athrow`'s error,
/// or `aclose`.
pub(crate) enum Call<S> {
    Send(S),
    Throw(anyhow::Error),
    Close,
}

/// Which call, once it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallKind {
    Send,
    Throw,
    Close,
}

/// A call's first move: resume the body with this, or the call is over without it.
pub(crate) enum Begin<Y> {
    Resume(Result<()>),
    Ended(Result<Option<Y>>),
}

/// Where the body stopped: at a wait of the consumer's task, or the call's outcome
/// (`Some` value yielded, `None` returned).
pub(crate) enum Advance<Y> {
    Wait(Suspend),
    Done(Result<Option<Y>>),
}

/// The state of one async generator, whatever its backend's body `B`.
pub(crate) struct Core<Y, S, B> {
    body: B,
    shared: Rc<Shared<Y, S>>,
    /// An `anext`/`asend`/`athrow`/`aclose` is in progress (Python's `ag_running_async`).
    running: Cell<bool>,
}

impl<Y, S, B> Core<Y, S, B> {
    /// The call is over (it ended, or was abandoned).
    pub(crate) fn leave(&self) {
        self.running.set(false);
    }
}

impl<Y, S, B: AgenBody> Core<Y, S, B> {
    pub(crate) fn is_started(&self) -> bool {
        self.body.is_started()
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.body.is_finished()
    }

    pub(crate) fn is_running(&self) -> bool {
        self.running.get()
    }
}

impl<Y: 'static, S: Default + PartialEq + 'static, B: AgenBody> Core<Y, S, B> {
    pub(crate) fn new(body: B, shared: Rc<Shared<Y, S>>) -> Self {
        Core {
            body,
            shared,
            running: Cell::new(false),
        }
    }

    /// Python's checks before a call: either what to resume the body with (the call is
    /// then in progress until [`Core::leave`]), or the call's outcome without running it.
    pub(crate) fn begin(self: &Rc<Self>, call: Call<S>) -> Begin<Y> {
        let finished = self.body.is_finished() && !self.running.get();
        let (op, input) = match call {
            Call::Send(_) if finished => return Begin::Ended(Err(StopAsyncIteration::error())),
            Call::Send(v) if !self.body.is_started() && v != S::default() => {
                return Begin::Ended(Err(TypeError::new(
                    "can't send non-None value to a just-started async generator",
                )
                .into()));
            }
            Call::Send(v) => ("anext", Ok(v)),
            Call::Throw(_) if finished => return Begin::Ended(Ok(None)),
            Call::Throw(e) => ("athrow", Err(e)),
            Call::Close if !self.running.get() && (!self.body.is_started() || finished) => {
                return Begin::Ended(self.body.close().map(|()| None));
            }
            Call::Close => ("aclose", Err(GeneratorExit.into())),
        };
        if self.running.get() {
            return Begin::Ended(Err(RuntimeError::new(format!(
                "{op}(): asynchronous generator is already running"
            ))
            .into()));
        }
        if !self.body.is_started() {
            self.first_iter();
        }
        self.running.set(true);
        Begin::Resume(input.map(|v| self.shared.sent.set(Some(v))))
    }

    /// asyncio's firstiter hook: the loop finalizes it at shutdown if left unfinished.
    fn first_iter(self: &Rc<Self>) {
        if let Ok(lp) = get_running_loop() {
            let weak: Weak<dyn Finalize> = Rc::downgrade(self) as Weak<dyn Finalize>;
            let gens = lp.extension::<AsyncGens>();
            let mut live = gens.live.borrow_mut();
            if live.len() >= 64 && live.len().is_power_of_two() {
                // Amortized: the ones dropped meanwhile leave, so the list stays bounded.
                live.retain(|g| g.strong_count() > 0);
            }
            live.push(weak);
        }
    }

    /// Resumes the body with `input` and says where it stopped.
    pub(crate) fn advance(&self, input: Result<()>) -> Advance<Y> {
        match self.body.resume(input) {
            Err(e) => Advance::Done(Err(e)),
            Ok(GeneratorState::Returned(())) => Advance::Done(Ok(None)),
            Ok(GeneratorState::Yielded(s)) => match self.shared.value.take() {
                Some(v) => Advance::Done(Ok(Some(v))),
                None => Advance::Wait(s),
            },
        }
    }
}

impl CallKind {
    /// What the call raises or returns when the body stopped with `outcome`.
    pub(crate) fn end<Y>(self, outcome: Result<Option<Y>>) -> Result<Option<Y>> {
        match (self, outcome) {
            (CallKind::Send | CallKind::Throw, Ok(None)) => Err(StopAsyncIteration::error()),
            (CallKind::Close, Ok(Some(_))) => {
                Err(RuntimeError::new("async generator ignored GeneratorExit").into())
            }
            (CallKind::Close, Err(e))
                if e.is::<GeneratorExit>() || e.is::<StopAsyncIteration>() =>
            {
                Ok(None)
            }
            (_, outcome) => outcome,
        }
    }
}

impl<S> Call<S> {
    pub(crate) fn kind(&self) -> CallKind {
        match self {
            Call::Send(_) => CallKind::Send,
            Call::Throw(_) => CallKind::Throw,
            Call::Close => CallKind::Close,
        }
    }
}

/// `asend`'s result: the value yielded (the end is `StopAsyncIteration`).
pub(crate) fn sent_value<Y>(outcome: Result<Option<Y>>) -> Result<Y> {
    outcome?.ok_or_else(StopAsyncIteration::error)
}

/// A step of `async for`: `None` at the end.
pub(crate) fn next_value<Y>(outcome: Result<Option<Y>>) -> Result<Option<Y>> {
    match outcome {
        Err(e) if e.is::<StopAsyncIteration>() => Ok(None),
        outcome => outcome,
    }
}

/// `aclose`'s result.
pub(crate) fn closed<Y>(outcome: Result<Option<Y>>) -> Result<()> {
    outcome.map(drop)
}

/// Python's async generator object (`async def` with `yield`): a cheap clonable handle.
///
/// # Examples
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use std::time::Duration;
///
/// use tulip::{AsyncGenerator, sleep};
///
/// // async def ticker(n):
/// //     for i in range(n):
/// //         await asyncio.sleep(0.001)
/// //         yield i
/// fn ticker(n: u32) -> AsyncGenerator<u32> {
///     AsyncGenerator::new(move |co| {
///         for i in 0..n {
///             sleep(co, Duration::from_millis(1))?;
///             co.yield_(i)?;
///         }
///         Ok(())
///     })
/// }
///
/// let seen = tulip::run(|co| {
///     let mut seen = Vec::new();
///     let ticks = ticker(3);
///     while let Some(i) = ticks.try_next(co)? {
///         // async for i in ticker(3)
///         seen.push(i);
///     }
///     Ok(seen)
/// })?;
/// assert_eq!(seen, [0, 1, 2]);
/// # Ok(()) }
/// ```
pub struct AsyncGenerator<Y: 'static, S: 'static = ()> {
    core: Rc<Core<Y, S, Generator<Suspend, (), ()>>>,
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
        f.debug_struct("AsyncGenerator")
            .field("started", &self.core.is_started())
            .field("finished", &self.core.is_finished())
            .field("running", &self.core.is_running())
            .finish()
    }
}

/// Ends the call however it ends.
struct Running<'a, Y, S, B>(&'a Core<Y, S, B>);

impl<Y, S, B> Drop for Running<'_, Y, S, B> {
    fn drop(&mut self) {
        self.0.leave();
    }
}

fn is_named(e: &anyhow::Error, name: &str) -> bool {
    e.downcast_ref::<Exception>()
        .is_some_and(|x| x.name == name)
}

impl<Y: 'static, S: Default + PartialEq + 'static> AsyncGenerator<Y, S> {
    /// `agen()` for an `async def agen()` with `yield`: nothing runs until the first
    /// `anext`/`asend`/`athrow`.
    pub fn new(body: impl FnOnce(&AsyncCo<Y, S>) -> Result<()> + 'static) -> Self {
        let shared = Rc::new(Shared::new());
        let slot = shared.clone();
        let coro = Generator::new(move |co: &TaskCo| {
            let aco = AsyncCo {
                co: co as *const TaskCo,
                shared: slot,
            };
            pep525(body(&aco))
        });
        AsyncGenerator {
            core: Rc::new(Core::new(coro, shared)),
        }
    }

    /// Runs `call` from the consumer's task until the body yields a value or returns; its
    /// waits become the consumer's.
    fn drive(&self, co: &TaskCo, call: Call<S>) -> Result<Option<Y>> {
        let kind = call.kind();
        let mut input = match self.core.begin(call) {
            Begin::Resume(input) => input,
            Begin::Ended(outcome) => return outcome,
        };
        let _running = Running(&*self.core);
        loop {
            match self.core.advance(input) {
                Advance::Wait(s) => input = co.yield_(s),
                Advance::Done(outcome) => return kind.end(outcome),
            }
        }
    }

    /// `await agen.asend(value)`: resumes the body with `value` as the result of the
    /// `yield_` it is suspended at, and returns the next value it yields.
    ///
    /// # Errors
    ///
    /// - `StopAsyncIteration` when the body returns, or once it has finished.
    /// - The error the body raises (it is then finished).
    /// - `RuntimeError("anext(): asynchronous generator is already running")` while another
    ///   call on it is in progress; `TypeError("can't send non-None value to a just-started
    ///   async generator")` before the first `anext`.
    pub fn asend(&self, co: &TaskCo, value: S) -> Result<Y> {
        sent_value(self.drive(co, Call::Send(value)))
    }

    /// `await anext(agen)`: `asend(None)`.
    ///
    /// # Errors
    ///
    /// As [`asend`](AsyncGenerator::asend): notably `StopAsyncIteration` at the end.
    pub fn anext(&self, co: &TaskCo) -> Result<Y> {
        self.asend(co, S::default())
    }

    /// One step of `async for`: `Ok(None)` at the end (the `StopAsyncIteration` that ends
    /// Python's loop), so `while let Some(v) = agen.try_next(co)? { ... }` is `async for v
    /// in agen:`.
    ///
    /// # Errors
    ///
    /// As [`anext`](AsyncGenerator::anext), but for `StopAsyncIteration`.
    pub fn try_next(&self, co: &TaskCo) -> Result<Option<Y>> {
        next_value(self.drive(co, Call::Send(S::default())))
    }

    /// `await agen.athrow(err)`: raises `err` where the body is suspended and returns the
    /// next value it yields. On a finished async generator it does nothing and returns
    /// `Ok(None)` (Python 3.11 returns `None`); on one that has not started, `err` comes
    /// straight back and it is finished.
    ///
    /// # Errors
    ///
    /// - `err`, or whatever the body raises instead; `StopAsyncIteration` if it returns.
    /// - `RuntimeError("athrow(): asynchronous generator is already running")`.
    pub fn athrow(&self, co: &TaskCo, err: anyhow::Error) -> Result<Option<Y>> {
        self.drive(co, Call::Throw(err))
    }

    /// `await agen.aclose()`: raises `GeneratorExit` where the body is suspended, so its
    /// clean-up runs (and may wait); nothing happens if it has not started or has finished.
    ///
    /// # Errors
    ///
    /// - `RuntimeError("async generator ignored GeneratorExit")` when the body yields a
    ///   value instead of finishing.
    /// - Any other error the body raises while closing.
    /// - `RuntimeError("aclose(): asynchronous generator is already running")`.
    pub fn aclose(&self, co: &TaskCo) -> Result<()> {
        closed(self.drive(co, Call::Close))
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

/// What the loop needs of an async generator of any type to finalize it.
trait Finalize {
    fn pending(&self) -> bool;
    fn spawn_aclose(self: Rc<Self>, lp: &EventLoop) -> Result<Task<()>>;
    fn describe(&self) -> String;
}

impl<Y: 'static, S: Default + PartialEq + 'static, B: AgenBody> Finalize for Core<Y, S, B> {
    fn pending(&self) -> bool {
        self.body.is_started() && !self.body.is_finished()
    }
    fn spawn_aclose(self: Rc<Self>, lp: &EventLoop) -> Result<Task<()>> {
        B::spawn_aclose(self, lp)
    }
    fn describe(&self) -> String {
        format!("<async_generator object {}>", std::any::type_name::<Y>())
    }
}

/// The loop's async generators that were started (asyncio's `loop._asyncgens`), in the
/// order they started; weak, as asyncio's `WeakSet`.
#[derive(Default)]
struct AsyncGens {
    live: RefCell<Vec<Weak<dyn Finalize>>>,
}

impl EventLoop {
    /// `await loop.shutdown_asyncgens()`: closes every async generator that started on this
    /// loop and is not finished yet, each `aclose` in a task of its own, in the order they
    /// started (asyncio's is a set's order), and waits for them all. [`run`](crate::run)
    /// calls it after cancelling the tasks left. An error from a close goes to the
    /// exception handler: "an error occurred during closing of asynchronous generator ...".
    ///
    /// # Errors
    ///
    /// `CancelledError` if the task calling it is cancelled.
    pub fn shutdown_asyncgens(&self, co: &TaskCo) -> Result<()> {
        let live = std::mem::take(&mut *self.extension::<AsyncGens>().live.borrow_mut());
        let closing: Vec<Rc<dyn Finalize>> = live
            .iter()
            .filter_map(Weak::upgrade)
            .filter(|g| g.pending())
            .collect();
        if closing.is_empty() {
            return Ok(());
        }
        let mut tasks = Vec::with_capacity(closing.len());
        for g in &closing {
            tasks.push(g.clone().spawn_aclose(self)?);
        }
        let results = co.wait(&gather_settled(&tasks)?)?;
        for (result, g) in results.into_iter().zip(&closing) {
            if let Err(e) = result {
                self.call_exception_handler(ExceptionContext {
                    message: format!(
                        "an error occurred during closing of asynchronous generator {}",
                        g.describe()
                    ),
                    exception: Some(e.to_error()),
                    fields: vec![("asyncgen", g.describe())],
                });
            }
        }
        Ok(())
    }
}
