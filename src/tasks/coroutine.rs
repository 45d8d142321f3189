//! Coroutine objects: what an `async def` returns, as distinct from a generator.

use std::fmt;
use std::ops::Deref;

use anyhow::Result;

use crate::futures::Suspend;
use crate::generator::{Co, DEFAULT_STACK_SIZE, Generator, GeneratorKind};

/// Python's coroutine object: the body of a task, or a sub-coroutine awaited with
/// [`Co::await_`] (`await coro`).
///
/// It is a [`Generator`] that yields what a task waits for (it derefs to one, for `send`,
/// `throw`, `close` and the state queries), but Python's errors name it a coroutine:
/// `ValueError("coroutine already executing")`, `RuntimeError("coroutine ignored
/// GeneratorExit")`, `RuntimeError("coroutine raised StopIteration")`, and resuming it once
/// it finished is `RuntimeError("cannot reuse already awaited coroutine")` (a finished
/// generator raises `StopIteration` instead).
///
/// # Examples
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use std::rc::Rc;
///
/// use tulip::{Coroutine, ErrorExt, RuntimeError, py_repr};
///
/// tulip::run(|co| {
///     // async def sub(): return 1
///     let sub = Rc::new(Coroutine::new(|_co| Ok(1)));
///     assert_eq!(co.await_ref(&sub)?, 1); // await c
///     let err = co.await_ref(&sub).unwrap_err(); // await c, again
///     assert!(err.isinstance::<RuntimeError>());
///     assert_eq!(py_repr(&err), "RuntimeError('cannot reuse already awaited coroutine')");
///     Ok(())
/// })?;
/// # Ok(()) }
/// ```
pub struct Coroutine<T: 'static>(Generator<Suspend, (), T>);

impl<T: 'static> Coroutine<T> {
    /// `sub()` for an `async def sub()`: nothing runs and no stack is taken until it is
    /// first resumed (awaited, or its task's first step).
    pub fn new(body: impl FnOnce(&Co<Suspend, ()>) -> Result<T> + 'static) -> Self {
        Self::with_stack_size(DEFAULT_STACK_SIZE, body)
    }

    /// A coroutine whose stack holds at least `size` bytes (see
    /// [`Generator::with_stack_size`]).
    pub fn with_stack_size(
        size: usize,
        body: impl FnOnce(&Co<Suspend, ()>) -> Result<T> + 'static,
    ) -> Self {
        Coroutine(Generator::with_kind(GeneratorKind::Coroutine, size, body))
    }
}

impl<T: 'static> Deref for Coroutine<T> {
    type Target = Generator<Suspend, (), T>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<T: 'static> fmt::Debug for Coroutine<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Coroutine").field(&self.0).finish()
    }
}

impl Co<Suspend, ()> {
    /// Python's `await coro` for a coroutine object: runs it to its end in this task (what
    /// it waits for, this task waits for; a cancellation reaches it where it waits) and
    /// returns its result. A coroutine that has not started runs inline on this task's
    /// stack when there is room, as [`Co::yield_from`] does.
    ///
    /// # Errors
    ///
    /// The error the coroutine raises; `CancelledError` when this task is cancelled while
    /// it waits.
    #[inline]
    pub fn await_<T: 'static>(&self, coro: Coroutine<T>) -> Result<T> {
        self.yield_from(coro.0)
    }

    /// `await coro` for a coroutine object shared with others (e.g. through `Rc`); it runs
    /// on its own stack.
    ///
    /// # Errors
    ///
    /// As [`Co::await_`]; also `RuntimeError("cannot reuse already awaited coroutine")` once
    /// it has finished, and `ValueError("coroutine already executing")` when it is the
    /// coroutine awaiting (or one up its chain).
    pub fn await_ref<T: 'static>(&self, coro: &Coroutine<T>) -> Result<T> {
        self.yield_from_ref(&coro.0)
    }
}
