//! Python generators on Rust's nightly coroutines (feature `nightly`): the stackless backend.
//!
//! A [`Generator`] here owns a boxed nightly coroutine (`#[coroutine] static |_| { ... }`)
//! instead of a stack: the state machine keeps only the locals live across a `yield`, a few
//! dozen bytes. Inside the body, [`yield_!`](crate::yield_) is Python's `yield` (its value is
//! what the caller sends, its `Err` what the caller throws) and
//! [`yield_from!`](crate::yield_from) is PEP 380's `yield from`, to a stackless or a stackful
//! generator alike. The methods, their errors and their messages are those of the stackful
//! [`crate::Generator`]: `send`, `next`, `throw`, `close`, `StopIteration`, "generator already
//! executing", "generator ignored GeneratorExit", PEP 479; dropping a suspended generator
//! closes it.
//!
//! What differs, as in Python: a yield can only appear in the body itself, not in a function
//! it calls (delegation is explicit, `yield_from!`), and a resume goes through every level of
//! a `yield from` chain (CPython's frames do the same), so a chain thousands of levels deep
//! uses the native stack in proportion: about 1.3 KB per level in a debug build and 150 to 210
//! bytes in a release build (the guide's generators page has the depths that fit a stack).
//!
//! The crate that writes the bodies needs `#![feature(coroutines)]` (for `#[coroutine]`).

use std::any::TypeId;
use std::cell::{Cell, RefCell, UnsafeCell};
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Coroutine, CoroutineState};
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;

use super::{
    GeneratorState, Kind, Resume, Status, closed, none_value, panic_error, pep479, resume_finished,
    value_error_executing,
};
use crate::errors::{Delivered, GeneratorExit, RuntimeError, TypeError};

/// What a suspended body's yield receives: a sent value, or an error thrown in. The body
/// turns it into a `Result` with [`Sent::into_result`] (which [`yield_!`](crate::yield_) does).
pub struct Sent<S>(Input<S>);

enum Input<S> {
    /// The first resume: it binds the body's parameter, which no yield receives.
    Start,
    Value(S),
    Throw(anyhow::Error),
}

impl<S> Sent<S> {
    /// What the yield evaluates to: `Ok(value)` for `send(value)`/`next()`, `Err(e)` for
    /// `throw(e)`, `Err(GeneratorExit)` for `close()`. An associated function, not a method,
    /// so that `Sent::into_result(yield v)` also tells the compiler the body's resume type.
    ///
    /// # Errors
    ///
    /// The error thrown in.
    #[inline(always)]
    pub fn into_result(sent: Self) -> anyhow::Result<S> {
        match sent.0 {
            Input::Value(s) => Ok(s),
            Input::Throw(e) => Err(e),
            Input::Start => Err(started_twice()),
        }
    }
}

impl<S> fmt::Debug for Sent<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Input::Start => "Sent::Start",
            Input::Value(_) => "Sent::Value(..)",
            Input::Throw(_) => "Sent::Throw(..)",
        })
    }
}

#[cold]
fn started_twice() -> anyhow::Error {
    RuntimeError::new("generator started twice").into()
}

/// A boxed, pinned body.
type Body<Y, S, R> = Pin<Box<dyn Coroutine<Sent<S>, Yield = Y, Return = anyhow::Result<R>>>>;

/// A Python generator on a nightly coroutine: a body that yields `Y`, receives `S` from
/// `send`, and returns `R` (Python's `StopIteration.value`). The same methods and errors
/// as the stackful [`crate::Generator`]; see the [module](self) for what differs.
///
/// # Examples
///
/// ```
/// #![feature(coroutines)]
/// # fn main() -> anyhow::Result<()> {
/// use tulip::stackless::Generator;
/// use tulip::{ErrorExt, ValueError, yield_};
///
/// // def summer():
/// //     total = 0
/// //     while True:
/// //         try:
/// //             x = yield total
/// //         except ValueError:
/// //             return total
/// //         total += x
/// let g = Generator::<i32, i32, i32>::new(
///     #[coroutine]
///     static |_| {
///         let mut total = 0;
///         loop {
///             match yield_!(total) {
///                 Ok(x) => total += x,
///                 Err(e) if e.isinstance::<ValueError>() => return Ok(total),
///                 Err(e) => return Err(e), // e.g. GeneratorExit from close()
///             }
///         }
///     },
/// );
/// assert_eq!(g.next()?.as_yielded(), Some(0));
/// assert_eq!(g.send(5)?.as_yielded(), Some(5));
/// assert_eq!(g.send(10)?.as_yielded(), Some(15));
/// let state = g.throw(ValueError::new("enough").into())?;
/// assert_eq!(state.as_returned(), Some(15)); // StopIteration(15)
/// # Ok(()) }
/// ```
pub struct Generator<Y, S = (), R = ()> {
    /// Read by every method before `body` is touched: `Running` keeps re-entry out.
    status: Cell<Status>,
    /// `None` once finished: the state machine and its locals are dropped then.
    body: UnsafeCell<Option<Body<Y, S, R>>>,
    /// Read only on error paths: a task's body or a [`Coroutine`](crate::stackless::Coroutine)
    /// is a coroutine.
    kind: Kind,
}

impl<Y, S, R> fmt::Debug for Generator<Y, S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("stackless::Generator")
            .field("status", &self.status.get())
            .finish()
    }
}

/// Methods that never resume the body (so they need no `'static`, which `Drop` cannot ask).
impl<Y, S, R> Generator<Y, S, R> {
    /// Whether the generator has begun (it ran, or it was closed or thrown into before).
    pub fn is_started(&self) -> bool {
        self.status.get() != Status::Unstarted
    }

    /// Whether the generator has finished: it returned, raised, or was closed.
    pub fn is_finished(&self) -> bool {
        self.status.get() == Status::Finished
    }

    /// Whether the body is running right now (Python's `gi_running`), also while it
    /// delegates to a sub-generator with `yield_from!`.
    pub fn is_running(&self) -> bool {
        self.status.get() == Status::Running
    }

    /// Resumes the body with `input` (status `Unstarted` or `Suspended`, checked here). An
    /// error thrown in is noted first: another error the body raises instead gets it as its
    /// `__context__` ([`errors::context`](crate::errors::context)).
    ///
    /// Each level of a `yield_from!` chain holds one inlined copy of this on the stack while
    /// the levels below run, so only the yield path is here: everything else is out of line.
    #[inline(always)]
    fn resume(&self, input: Input<S>) -> anyhow::Result<GeneratorState<Y, R>> {
        if !matches!(self.status.get(), Status::Suspended | Status::Unstarted) {
            return Err(self.refuse(input));
        }
        let delivered = match &input {
            Input::Throw(e) => Some(Delivered::note(e)),
            _ => None,
        };
        self.status.set(Status::Running);
        // SAFETY: the status was not Running, so no other borrow of `body` exists; calls the
        // body makes on this generator see `Running` and return before touching it.
        let body = unsafe { &mut *self.body.get() };
        let Some(body) = body.as_mut() else {
            unreachable!("an unfinished generator has a body")
        };
        // A panic in the body is its error; the poisoned state machine is dropped in `ended`.
        match panic::catch_unwind(AssertUnwindSafe(|| body.as_mut().resume(Sent(input)))) {
            Ok(CoroutineState::Yielded(y)) => {
                self.status.set(Status::Suspended);
                Ok(GeneratorState::Yielded(y))
            }
            // An optimised build ends on arms that moved all they matched (a catch-all arm
            // leaves a drop to check after every yield); a debug build calls `ended` once
            // (each call has slots of its own in the frame).
            #[cfg(not(debug_assertions))]
            Ok(CoroutineState::Complete(r)) => {
                self.ended(Ok(CoroutineState::Complete(r)), delivered)
            }
            #[cfg(not(debug_assertions))]
            Err(payload) => self.ended(Err(payload), delivered),
            #[cfg(debug_assertions)]
            end => self.ended(end, delivered),
        }
    }

    /// Why a generator that is running or finished cannot be resumed.
    #[cold]
    #[inline(never)]
    fn refuse(&self, input: Input<S>) -> anyhow::Error {
        if self.status.get() == Status::Running {
            return value_error_executing(self.kind);
        }
        let input = match input {
            Input::Throw(e) => Resume::Throw(e),
            _ => Resume::Send(()),
        };
        resume_finished(self.kind, input)
    }

    /// The body returned, raised or panicked: the generator is finished, and what it raised
    /// gets the error thrown in (`delivered`) as its context.
    // Out of `resume` in a debug build, which gives every local a slot of its own in the
    // frames a chain nests; inside it in an optimised build: every task's last step ends here.
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn ended(
        &self,
        end: std::thread::Result<CoroutineState<Y, anyhow::Result<R>>>,
        delivered: Option<Delivered>,
    ) -> anyhow::Result<GeneratorState<Y, R>> {
        self.finish();
        let raised = match end {
            Ok(CoroutineState::Complete(r)) => match pep479(self.kind, r) {
                Ok(r) => return Ok(GeneratorState::Returned(r)),
                Err(e) => e,
            },
            Err(payload) => panic_error(payload),
            Ok(CoroutineState::Yielded(_)) => unreachable!("a yield does not end the body"),
        };
        Err(match delivered {
            Some(delivered) => delivered.raised(raised),
            None => raised,
        })
    }

    /// Marks the generator finished and drops its state machine (its live locals).
    fn finish(&self) {
        // SAFETY: not running (callers hold the only access); the body is taken out before
        // its destructors (user code that may look at the generator) run.
        let body = unsafe { &mut *self.body.get() }.take();
        self.status.set(Status::Finished);
        drop(body);
    }

    /// Python's `throw(err)`: raises `err` at the yield point, where the body sees it as the
    /// `Err` of `yield_!` and may handle it. Returns what the body yields or returns next;
    /// an error it lets out finishes it. Thrown into a generator that has not started (or
    /// has finished), `err` comes straight back and the generator is finished without
    /// running.
    ///
    /// # Errors
    ///
    /// - `err` itself, or whatever other error the body raises; the generator is then finished.
    /// - `ValueError("generator already executing")` from inside the generator itself.
    pub fn throw(&self, err: anyhow::Error) -> anyhow::Result<GeneratorState<Y, R>> {
        if self.status.get() == Status::Unstarted {
            self.finish();
            return Err(err);
        }
        self.resume(Input::Throw(err))
    }

    /// Python's `close()`: delivers `GeneratorExit` at the yield point. `Ok` when the body
    /// returns or lets `GeneratorExit` out; closing a finished or unstarted generator does
    /// nothing but finish it.
    ///
    /// # Errors
    ///
    /// - `RuntimeError("generator ignored GeneratorExit")` when the body yields again (it
    ///   stays suspended).
    /// - Any other error the body raises while closing.
    /// - `ValueError("generator already executing")` from inside the generator itself.
    pub fn close(&self) -> anyhow::Result<()> {
        match self.status.get() {
            Status::Unstarted => {
                self.finish();
                Ok(())
            }
            Status::Finished => Ok(()),
            Status::Running => Err(value_error_executing(self.kind)),
            Status::Suspended => closed(self.kind, self.resume(Input::Throw(GeneratorExit.into()))),
        }
    }
}

impl<Y, S, R> Drop for Generator<Y, S, R> {
    fn drop(&mut self) {
        if self.status.get() != Status::Suspended {
            return; // unstarted or finished: the body (if any) drops with the field
        }
        if let Err(e) = self.close() {
            // Python prints these as "Exception ignored in: <generator ...>".
            log::warn!(
                "error closing a dropped generator: {}",
                crate::errors::py_repr(&e)
            );
        }
        // A body that ignored GeneratorExit is dropped where it yielded: its live locals'
        // destructors run, as they would at a forced unwind.
        self.finish();
    }
}

impl<Y: 'static, S: 'static, R: 'static> Generator<Y, S, R> {
    /// A generator running `body`, a nightly coroutine taking [`Sent<S>`] at each resume:
    /// `#[coroutine] static |_| { ...; Ok(r) }` (`static` lets the body hold borrows of its
    /// own locals across a yield). Nothing runs until the first resume.
    pub fn new(
        body: impl Coroutine<Sent<S>, Yield = Y, Return = anyhow::Result<R>> + 'static,
    ) -> Self {
        Self::with_kind(Kind::Generator, body)
    }

    /// A generator whose errors name `kind` ("coroutine already executing").
    pub(crate) fn with_kind(
        kind: Kind,
        body: impl Coroutine<Sent<S>, Yield = Y, Return = anyhow::Result<R>> + 'static,
    ) -> Self {
        Generator {
            status: Cell::new(Status::Unstarted),
            body: UnsafeCell::new(Some(Box::pin(body))),
            kind,
        }
    }

    /// Python's `send(value)`: resumes the generator; `value` becomes the result of the
    /// `yield_!` it is paused at. On a generator that has not started: starts it if `S = ()`,
    /// else `TypeError` (Python's `send(non-None)`).
    ///
    /// # Errors
    ///
    /// - The error the body raises (a panic as [`crate::Panic`]); the generator is then
    ///   finished. A `StopIteration` raised by the body becomes `RuntimeError("generator
    ///   raised StopIteration")` (PEP 479).
    /// - `StopIteration` on a finished generator.
    /// - `TypeError("can't send non-None value to a just-started generator")`.
    /// - `ValueError("generator already executing")` from inside the generator itself.
    #[inline(always)]
    pub fn send(&self, value: S) -> anyhow::Result<GeneratorState<Y, R>> {
        if self.status.get() == Status::Unstarted {
            if TypeId::of::<S>() != TypeId::of::<()>() {
                return Err(TypeError::new(
                    "can't send non-None value to a just-started generator",
                )
                .into());
            }
            return self.resume(Input::Start);
        }
        self.resume(Input::Value(value))
    }

    /// Python's `next(g)`, i.e. `send(None)`: sends `S::default()`.
    ///
    /// # Errors
    ///
    /// As [`Generator::send`] (without its `TypeError`): notably `StopIteration` once finished.
    #[inline(always)]
    pub fn next(&self) -> anyhow::Result<GeneratorState<Y, R>>
    where
        S: Default,
    {
        if self.status.get() == Status::Unstarted {
            return self.resume(Input::Start);
        }
        self.resume(Input::Value(S::default()))
    }

    /// Iterates by reference (`for x in gen.iter()`), like Python's `for x in gen`.
    pub fn iter(&self) -> Iter<'_, Y, S, R> {
        Iter {
            generator: self,
            done: false,
        }
    }
}

/// Iteration over a stackless generator that takes no sent value (`for x in gen`): each
/// item is a yielded value; it ends when the generator returns or after the one `Err` it
/// raises.
pub struct Iter<'a, Y, S, R> {
    generator: &'a Generator<Y, S, R>,
    done: bool,
}

impl<Y, S, R> fmt::Debug for Iter<'_, Y, S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("generator", self.generator)
            .field("done", &self.done)
            .finish()
    }
}

impl<Y: 'static, R: 'static> Iterator for Iter<'_, Y, (), R> {
    type Item = anyhow::Result<Y>;

    fn next(&mut self) -> Option<Self::Item> {
        iter_step(self.generator, &mut self.done)
    }
}

/// Owning iteration over a stackless generator; see [`Iter`].
pub struct IntoIter<Y, S, R> {
    generator: Generator<Y, S, R>,
    done: bool,
}

impl<Y, S, R> fmt::Debug for IntoIter<Y, S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter")
            .field("generator", &self.generator)
            .field("done", &self.done)
            .finish()
    }
}

impl<Y: 'static, R: 'static> Iterator for IntoIter<Y, (), R> {
    type Item = anyhow::Result<Y>;

    fn next(&mut self) -> Option<Self::Item> {
        iter_step(&self.generator, &mut self.done)
    }
}

fn iter_step<Y: 'static, R: 'static>(
    generator: &Generator<Y, (), R>,
    done: &mut bool,
) -> Option<anyhow::Result<Y>> {
    if *done || generator.is_finished() {
        return None;
    }
    match generator.send(()) {
        Ok(GeneratorState::Yielded(y)) => Some(Ok(y)),
        Ok(GeneratorState::Returned(_)) => None,
        Err(e) => {
            *done = true;
            Some(Err(e))
        }
    }
}

impl<Y: 'static, R: 'static> IntoIterator for Generator<Y, (), R> {
    type Item = anyhow::Result<Y>;
    type IntoIter = IntoIter<Y, (), R>;

    fn into_iter(self) -> Self::IntoIter {
        IntoIter {
            generator: self,
            done: false,
        }
    }
}

impl<'a, Y: 'static, R: 'static> IntoIterator for &'a Generator<Y, (), R> {
    type Item = anyhow::Result<Y>;
    type IntoIter = Iter<'a, Y, (), R>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// What [`yield_from!`](crate::yield_from) can delegate to: a stackless or a stackful
/// generator, owned, borrowed, boxed or in an `Rc`. A stackful sub runs on its own stack
/// (taken from the pool for as long as it runs), so any function written against the
/// stackful `Co` can be called from a stackless body.
pub trait Delegate {
    /// What the sub yields (and so the delegator).
    type Yield;
    /// What the sub receives.
    type Send;
    /// What the sub returns: the value of `yield_from!`.
    type Return;

    /// PEP 380's first `next(sub)`: starts an unstarted sub, or sends None to a started one
    /// (which needs `Send = ()`).
    ///
    /// # Errors
    ///
    /// What the sub raises; a `TypeError` for a started sub whose `Send` is not `()`.
    fn prime(&self) -> anyhow::Result<GeneratorState<Self::Yield, Self::Return>>;

    /// Passes on what the delegator's yield received: a value is sent, an error thrown in,
    /// and `GeneratorExit` closes the sub (PEP 380), coming back as the error to raise.
    ///
    /// # Errors
    ///
    /// What the sub raises; for `GeneratorExit`, the error closing the sub raised, or
    /// `GeneratorExit` itself.
    fn forward(
        &self,
        sent: Sent<Self::Send>,
    ) -> anyhow::Result<GeneratorState<Self::Yield, Self::Return>>;
}

/// PEP 380's handling of a GeneratorExit thrown into the delegator: close the sub; its
/// error, if any, replaces the GeneratorExit.
fn close_sub(close: anyhow::Result<()>, exit: anyhow::Error) -> anyhow::Error {
    match close {
        Ok(()) => exit,
        Err(e) => e,
    }
}

/// [`close_sub`] of what the GeneratorExit a delegator's `forward` threw in made of the sub.
#[cold]
#[inline(never)]
fn closed_sub<Y, R>(
    kind: Kind,
    result: anyhow::Result<GeneratorState<Y, R>>,
    exit: anyhow::Error,
) -> anyhow::Error {
    close_sub(closed(kind, result), exit)
}

fn started_sub_needs_unit() -> anyhow::Error {
    TypeError::new(
        "yield_from of a generator that already started needs S = () \
         (Python primes it with send(None))",
    )
    .into()
}

impl<Y: 'static, S: 'static, R: 'static> Delegate for Generator<Y, S, R> {
    type Yield = Y;
    type Send = S;
    type Return = R;

    fn prime(&self) -> anyhow::Result<GeneratorState<Y, R>> {
        match self.status.get() {
            Status::Unstarted => self.resume(Input::Start),
            _ => match none_value::<S>() {
                Some(none) => self.resume(Input::Value(none)),
                None => Err(started_sub_needs_unit()),
            },
        }
    }

    // A chain nests this frame once per level (see `forward_input`).
    #[inline]
    fn forward(&self, sent: Sent<S>) -> anyhow::Result<GeneratorState<Y, R>> {
        // An optimised build keeps the frame a send nests to what a send needs.
        #[cfg(not(debug_assertions))]
        if let Input::Value(s) = sent.0 {
            return self.resume(Input::Value(s));
        }
        self.forward_input(sent)
    }
}

/// `forward`'s paths.
impl<Y: 'static, S: 'static, R: 'static> Generator<Y, S, R> {
    /// `send`, `throw` and `close` around one `resume`. Part of `forward` in a debug build,
    /// whose frames give every local a slot of its own: one frame per level for all three.
    /// Out of it in an optimised build, where only a throw or close nests this frame too.
    #[cfg_attr(debug_assertions, inline(always))]
    #[cfg_attr(not(debug_assertions), inline(never))]
    fn forward_input(&self, sent: Sent<S>) -> anyhow::Result<GeneratorState<Y, R>> {
        let mut exit = None;
        let input = match sent.0 {
            Input::Value(s) => Input::Value(s),
            thrown => match self.forward_thrown(thrown, &mut exit) {
                Ok(input) => input,
                Err(done) => return done,
            },
        };
        let result = self.resume(input);
        if let Some(exit) = exit {
            return Err(closed_sub(self.kind, result, exit));
        }
        result
    }

    /// What `forward_input` resumes the sub with for an error thrown in (`Ok`), or what the
    /// sub made of it without resuming (`Err`). A GeneratorExit closes the sub: a
    /// GeneratorExit of its own goes in, and `exit` keeps the delegator's for [`closed_sub`].
    // Out of the frame a chain nests per level in a debug build, whose frames give every
    // local a slot of its own; inlined in an optimised build, whose frames share slots.
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[allow(clippy::type_complexity)]
    fn forward_thrown(
        &self,
        thrown: Input<S>,
        exit: &mut Option<anyhow::Error>,
    ) -> Result<Input<S>, anyhow::Result<GeneratorState<Y, R>>> {
        match thrown {
            Input::Throw(e) if e.is::<GeneratorExit>() => {
                if self.status.get() != Status::Suspended {
                    return Err(Err(close_sub(self.close(), e)));
                }
                *exit = Some(e);
                Ok(Input::Throw(GeneratorExit.into()))
            }
            Input::Throw(e) if self.status.get() == Status::Unstarted => Err(self.throw(e)),
            Input::Start => Err(Err(started_twice())),
            input => Ok(input),
        }
    }
}

impl<Y: 'static, S: 'static, R: 'static> Delegate for super::Generator<Y, S, R> {
    type Yield = Y;
    type Send = S;
    type Return = R;

    fn prime(&self) -> anyhow::Result<GeneratorState<Y, R>> {
        match self.status.get() {
            Status::Unstarted => self.start(),
            _ => match none_value::<S>() {
                Some(none) => self.resume(Resume::Send(none)),
                None => Err(started_sub_needs_unit()),
            },
        }
    }

    fn forward(&self, sent: Sent<S>) -> anyhow::Result<GeneratorState<Y, R>> {
        match sent.0 {
            Input::Value(s) => self.resume(Resume::Send(s)),
            Input::Throw(e) if e.is::<GeneratorExit>() => Err(close_sub(self.close(), e)),
            Input::Throw(e) => self.throw_inner(e),
            Input::Start => Err(started_twice()),
        }
    }
}

macro_rules! delegate_through {
    ($($ptr:ty),*) => {$(
        impl<G: Delegate + ?Sized> Delegate for $ptr {
            type Yield = G::Yield;
            type Send = G::Send;
            type Return = G::Return;
            fn prime(&self) -> anyhow::Result<GeneratorState<G::Yield, G::Return>> {
                (**self).prime()
            }
            // No frame of its own in a chain, even in a debug build.
            #[inline(always)]
            fn forward(
                &self,
                sent: Sent<G::Send>,
            ) -> anyhow::Result<GeneratorState<G::Yield, G::Return>> {
                (**self).forward(sent)
            }
        }
    )*};
}

delegate_through!(&G, Box<G>, Rc<G>);

/// Python's `yield from iterable` for an iterable that is not a generator (PEP 380's other
/// path), for [`yield_from!`](crate::yield_from): `yield_from!(from_iter(vec![1, 2]))?`.
/// Each item is yielded in turn, and the result is Python's `None` (`()`) once the iterator
/// is exhausted. The iterator has only `next`, as with the stackful
/// [`Co::yield_from_iter`](crate::Co::yield_from_iter): a value sent in that is not "None"
/// (`S::default()`) is `AttributeError("'list_iterator' object has no attribute 'send'")`
/// (the iterator named as Python would name it), and an error thrown in (or `close`'s
/// `GeneratorExit`) comes out of the `yield_from!`, the iterator being dropped, not closed.
///
/// ```
/// #![feature(coroutines)]
/// use tulip::stackless::{Generator, from_iter};
/// use tulip::{yield_, yield_from};
///
/// // def g():
/// //     yield from [1, 2]
/// //     yield 3
/// let g = Generator::<i32>::new(
///     #[coroutine]
///     static |_| {
///         yield_from!(from_iter(vec![1, 2]))?;
///         yield_!(3)?;
///         Ok(())
///     },
/// );
/// let items: Vec<i32> = g.into_iter().collect::<anyhow::Result<_>>()?;
/// assert_eq!(items, [1, 2, 3]);
/// # Ok::<(), anyhow::Error>(())
/// ```
pub fn from_iter<I: IntoIterator, S>(iterable: I) -> FromIter<I::IntoIter, S> {
    FromIter {
        iter: RefCell::new(iterable.into_iter()),
        send: PhantomData,
    }
}

/// The iterator [`from_iter`] delegates to; `S` is what the delegating generator receives.
pub struct FromIter<I, S> {
    iter: RefCell<I>,
    send: PhantomData<fn(S)>,
}

impl<I, S> fmt::Debug for FromIter<I, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FromIter")
            .field("iter", &super::co::py_iter_name::<I>())
            .finish()
    }
}

impl<I: Iterator, S: Default + PartialEq> FromIter<I, S> {
    fn step(&self) -> GeneratorState<I::Item, ()> {
        match self.iter.borrow_mut().next() {
            Some(item) => GeneratorState::Yielded(item),
            None => GeneratorState::Returned(()),
        }
    }
}

impl<I: Iterator, S: Default + PartialEq> Delegate for FromIter<I, S> {
    type Yield = I::Item;
    type Send = S;
    type Return = ();

    fn prime(&self) -> anyhow::Result<GeneratorState<I::Item, ()>> {
        Ok(self.step())
    }

    fn forward(&self, sent: Sent<S>) -> anyhow::Result<GeneratorState<I::Item, ()>> {
        // A thrown error (GeneratorExit too) is raised in the delegator: no throw to call.
        if Sent::into_result(sent)? != S::default() {
            return Err(super::co::no_send(super::co::py_iter_name::<I>()));
        }
        Ok(self.step())
    }
}

/// Python's `yield value` in a stackless body: suspends the generator and hands `value` to
/// its resumer; evaluates to `Ok(sent)` or `Err(thrown)` (`GeneratorExit` from `close`).
/// Only in a `#[coroutine]` body given to [`stackless::Generator::new`](crate::stackless::Generator::new).
///
/// ```
/// #![feature(coroutines)]
/// use tulip::stackless::Generator;
/// use tulip::yield_;
///
/// let g = Generator::<i32, i32, i32>::new(
///     #[coroutine]
///     static |_| {
///         let x = yield_!(1)?; // x = yield 1
///         Ok(x * 2)
///     },
/// );
/// assert_eq!(g.next()?.as_yielded(), Some(1));
/// assert_eq!(g.send(21)?.as_returned(), Some(42));
/// # Ok::<(), anyhow::Error>(())
/// ```
#[macro_export]
macro_rules! yield_ {
    ($value:expr) => {
        $crate::stackless::Sent::into_result(yield $value)
    };
}

/// Python's `yield from sub` (PEP 380) in a stackless body: what `sub` yields goes to this
/// generator's resumer, sent values and thrown errors go to `sub`, `close` closes `sub` first
/// (an error from that replaces `GeneratorExit`), and the expression is `Ok(sub's return
/// value)` or `Err(what sub raised)`. `sub` is anything [`Delegate`]: a stackless or a
/// stackful generator, owned or borrowed (`&g`, `Rc`), so any depth of delegation works and
/// functions written for the stackful `Co` can be called too.
///
/// ```
/// #![feature(coroutines)]
/// use tulip::stackless::Generator;
/// use tulip::{yield_, yield_from};
///
/// // def inner():
/// //     x = yield "inner ready"
/// //     return x * 2
/// fn inner() -> Generator<String, i32, i32> {
///     Generator::new(
///         #[coroutine]
///         static |_| {
///             let x = yield_!("inner ready".to_string())?;
///             Ok(x * 2)
///         },
///     )
/// }
/// // def outer():
/// //     result = yield from inner()
/// //     yield f"inner returned {result}"
/// let outer = Generator::<String, i32>::new(
///     #[coroutine]
///     static |_| {
///         let result = yield_from!(inner())?;
///         yield_!(format!("inner returned {result}"))?;
///         Ok(())
///     },
/// );
/// assert_eq!(outer.next()?.as_yielded().as_deref(), Some("inner ready"));
/// assert_eq!(outer.send(21)?.as_yielded().as_deref(), Some("inner returned 42"));
/// assert!(outer.next()?.is_returned());
/// # Ok::<(), anyhow::Error>(())
/// ```
#[macro_export]
macro_rules! yield_from {
    ($sub:expr) => {{
        let __tulip_sub = $sub;
        // Re-borrowed at each call (no borrow lives across the yield), so a movable
        // coroutine may delegate to an owned sub too.
        let mut __tulip_step = $crate::stackless::Delegate::prime(&__tulip_sub);
        loop {
            match __tulip_step {
                ::core::result::Result::Ok($crate::GeneratorState::Yielded(__tulip_y)) => {
                    let __tulip_sent = yield __tulip_y;
                    __tulip_step = $crate::stackless::Delegate::forward(&__tulip_sub, __tulip_sent);
                }
                ::core::result::Result::Ok($crate::GeneratorState::Returned(__tulip_r)) => {
                    break ::core::result::Result::Ok(__tulip_r);
                }
                ::core::result::Result::Err(__tulip_e) => {
                    break ::core::result::Result::Err(__tulip_e);
                }
            }
        }
    }};
}

#[cfg(test)]
mod tests;
