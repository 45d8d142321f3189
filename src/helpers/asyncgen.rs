//! Async generators (PEP 525, layer 8): a body that yields values to its consumer and waits
//! on futures in between, driven from the consumer's task.
//!
//! The body runs as a coroutine of its own (its handle derefs to the task handle, so
//! `sleep`, locks, queues and streams work in it). `anext`/`asend`/`athrow`/`aclose` resume
//! it from the consumer's task: what it waits for, the consumer's task waits for (a
//! cancellation reaches the body where it waits, as in asyncio); a value it yields ends the
//! call. No extra task and no loop iteration per value, as `await agen.__anext__()`.

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
use crate::tasks::TaskCo;

/// Python's `StopAsyncIteration`: `anext` on an async generator that is finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StopAsyncIteration;

impl StopAsyncIteration {
    /// The error, with its Python name known to `py_repr`.
    fn error() -> anyhow::Error {
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

/// The value slot between the body's `yield_` and the call that resumed it.
struct Shared<Y, S> {
    value: Cell<Option<Y>>,
    sent: Cell<Option<S>>,
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
        self.shared.value.set(Some(value));
        // A bare yield the driver recognises by the value it finds in the slot.
        (**self).yield_(Suspend(None))?;
        Ok(self.shared.sent.take().unwrap_or_default())
    }
}

struct Core<Y, S> {
    coro: Generator<Suspend, (), ()>,
    shared: Rc<Shared<Y, S>>,
    /// An `anext`/`asend`/`athrow`/`aclose` is in progress (Python's `ag_running_async`).
    running: Cell<bool>,
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
    core: Rc<Core<Y, S>>,
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
            .field("started", &self.core.coro.is_started())
            .field("finished", &self.core.coro.is_finished())
            .field("running", &self.core.running.get())
            .finish()
    }
}

/// Clears `running` however a call ends.
struct Running<'a>(&'a Cell<bool>);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.set(false);
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
        let shared = Rc::new(Shared {
            value: Cell::new(None),
            sent: Cell::new(None),
        });
        let slot = shared.clone();
        let coro = Generator::new(move |co: &TaskCo| {
            let aco = AsyncCo {
                co: co as *const TaskCo,
                shared: slot,
            };
            match body(&aco) {
                // PEP 479 and PEP 525: these would look like the end to the consumer.
                Err(e) if e.is::<StopIteration>() || is_named(&e, "StopIteration") => {
                    Err(RuntimeError::new("async generator raised StopIteration").into())
                }
                Err(e) if e.is::<StopAsyncIteration>() || is_named(&e, "StopAsyncIteration") => {
                    Err(RuntimeError::new("async generator raised StopAsyncIteration").into())
                }
                r => r,
            }
        });
        AsyncGenerator {
            core: Rc::new(Core {
                coro,
                shared,
                running: Cell::new(false),
            }),
        }
    }

    /// Resumes the body from the consumer's task until it yields a value (`Some`) or
    /// returns (`None`); its waits become the consumer's.
    fn drive(&self, co: &TaskCo, input: Result<S>, op: &str) -> Result<Option<Y>> {
        let core = &*self.core;
        if core.running.get() {
            return Err(RuntimeError::new(format!(
                "{op}(): asynchronous generator is already running"
            ))
            .into());
        }
        if !core.coro.is_started() {
            // asyncio's firstiter hook: the loop finalizes it at shutdown if left unfinished.
            if let Ok(lp) = get_running_loop() {
                let weak: Weak<dyn Finalize> = Rc::downgrade(&self.core) as Weak<dyn Finalize>;
                let gens = lp.extension::<AsyncGens>();
                let mut live = gens.live.borrow_mut();
                if live.len() >= 64 && live.len().is_power_of_two() {
                    // Amortized: the ones dropped meanwhile leave, so the list stays bounded.
                    live.retain(|g| g.strong_count() > 0);
                }
                live.push(weak);
            }
        }
        core.running.set(true);
        let _running = Running(&core.running);
        let mut step = match input {
            Ok(v) => {
                core.shared.sent.set(Some(v));
                core.coro.send(())
            }
            Err(e) => core.coro.throw(e),
        };
        loop {
            match step? {
                GeneratorState::Returned(()) => return Ok(None),
                GeneratorState::Yielded(s) => {
                    if let Some(v) = core.shared.value.take() {
                        return Ok(Some(v));
                    }
                    step = match co.yield_(s) {
                        Ok(()) => core.coro.send(()),
                        Err(e) => core.coro.throw(e),
                    };
                }
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
        if self.core.coro.is_finished() && !self.core.running.get() {
            return Err(StopAsyncIteration::error());
        }
        if !self.core.coro.is_started() && value != S::default() {
            return Err(TypeError::new(
                "can't send non-None value to a just-started async generator",
            )
            .into());
        }
        self.drive(co, Ok(value), "anext")?
            .ok_or_else(StopAsyncIteration::error)
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
        match self.anext(co) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is::<StopAsyncIteration>() => Ok(None),
            Err(e) => Err(e),
        }
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
        if self.core.coro.is_finished() && !self.core.running.get() {
            return Ok(None);
        }
        match self.drive(co, Err(err), "athrow")? {
            Some(v) => Ok(Some(v)),
            None => Err(StopAsyncIteration::error()),
        }
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
        let core = &*self.core;
        if !core.running.get() && (!core.coro.is_started() || core.coro.is_finished()) {
            return core.coro.close();
        }
        match self.drive(co, Err(GeneratorExit.into()), "aclose") {
            Ok(Some(_)) => Err(RuntimeError::new("async generator ignored GeneratorExit").into()),
            Ok(None) => Ok(()),
            Err(e) if e.is::<GeneratorExit>() || e.is::<StopAsyncIteration>() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Whether the body has finished (returned, raised, or was closed).
    pub fn is_finished(&self) -> bool {
        self.core.coro.is_finished()
    }

    /// Whether an `anext`/`asend`/`athrow`/`aclose` is in progress (`ag_running`).
    pub fn is_running(&self) -> bool {
        self.core.running.get()
    }
}

/// What the loop needs of an async generator of any type to finalize it.
trait Finalize {
    fn pending(&self) -> bool;
    fn aclose_erased(self: Rc<Self>, co: &TaskCo) -> Result<()>;
    fn describe(&self) -> String;
}

impl<Y: 'static, S: Default + PartialEq + 'static> Finalize for Core<Y, S> {
    fn pending(&self) -> bool {
        self.coro.is_started() && !self.coro.is_finished()
    }
    fn aclose_erased(self: Rc<Self>, co: &TaskCo) -> Result<()> {
        AsyncGenerator { core: self }.aclose(co)
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
            let g = g.clone();
            tasks.push(self.create_task(move |co| g.aclose_erased(co))?);
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
