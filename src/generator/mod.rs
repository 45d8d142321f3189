//! Python generators on stackful coroutines (layer 6): `send`, `throw`, `close`, `yield from`.
//!
//! A [`Generator`] runs a closure on a stack of its own (a corosensei coroutine). The closure
//! receives a [`Co`] handle: [`Co::yield_`] suspends the generator and hands a value to the
//! caller; what the caller sends next is the value of the `yield_` call (or, for `throw` and
//! `close`, its `Err`). The closure's `Ok(v)` is Python's `StopIteration.value`; its `Err` is
//! an exception raised out of the generator. [`Co::yield_from`] is PEP 380's `yield from`.
//!
//! This is the only module that imports corosensei and switches stacks; it never touches an
//! event loop.
//!
//! Rules that are not obvious from Python:
//! - **None**: Python's `send(None)`/`next(g)` is [`Generator::next`], which sends
//!   `S::default()`. A generator that has not started accepts [`Generator::send`] only when
//!   `S = ()` (every `()` is "None"); for any other `S` it is Python's `send(non-None)` and
//!   raises `TypeError`, leaving the generator usable.
//! - **Panics** inside a body are caught where the generator is resumed and returned as
//!   `Err(`[`Panic`]`)`; the generator is finished (its locals were dropped by the unwinding).
//!   A panic in an inline `yield_from` sub reaches the delegator as that same error, at the
//!   `yield_from` call. The process never aborts because of a panic in a generator.
//! - **Stacks** are slots of large arenas shared by the process (see `stacks.rs`): a
//!   generator takes one at its first resume and gives it back when it finishes, to a
//!   per-thread cache of hot slots in front of the shared free lists. Each slot has a guard
//!   page below it: `MADV_GUARD_INSTALL` (Linux >= 6.13), which costs no memory mapping, so
//!   a million suspended tasks fit under the default `vm.max_map_count`; elsewhere (or with
//!   `TULIP_STACK_GUARD=mprotect`) an `mprotect` guard, two mappings per stack, and then
//!   tulip refuses a stack past (max_map_count - mappings in use - 1,000) / 2 with a
//!   `RuntimeError` naming the limit, before the kernel would fail every allocation.
//!   `TULIP_STACK_LIMIT=N` caps the stacks lower. [`DEFAULT_STACK_SIZE`] (64 KiB) fits a
//!   panic with `RUST_BACKTRACE=full` in a debug build; [`Generator::with_stack_size`] asks
//!   for more (a slot of another size class, guarded the same way). An overflow prints which
//!   generator overflowed and its stack size, then aborts.
//! - **Inline delegation**: `yield_from` of a generator that has not started runs its body on
//!   the delegator's own stack, with the delegator's `Co` (no stack, no extra switch), only
//!   when at least the sub's whole stack size is left there, so a sub that completes on its
//!   own stack completes inline too (an overflow there names the sub). Otherwise, e.g. a
//!   sub of the default size delegated to from a stack of the default size, the sub runs on
//!   its own stack, and while the delegator is suspended there its resumer goes straight
//!   to the sub (CPython's `gi_yieldfrom`): a chain of such delegations costs one stack
//!   switch per resume, into the innermost sub, plus a short walk down the chain. The
//!   delegator's stack runs again only when its sub finishes.

use std::any::{Any, TypeId};
use std::cell::{Cell, UnsafeCell};
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::OnceLock;
use std::{fmt, mem};

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};

use crate::errors::{
    Delivered, Exception, GeneratorExit, Panic, RuntimeError, StopIteration, TypeError, ValueError,
};

mod co;
mod iter;
mod overflow;
#[cfg(feature = "nightly")]
pub mod stackless;
mod stacks;
#[cfg(test)]
mod tests;

pub(crate) use Kind as GeneratorKind;
pub use co::Co;
pub use iter::{IntoIter, Iter};
pub use stacks::{
    DEFAULT_STACK_SIZE, MIN_STACK_SIZE, StackArenaStats, StackGuard, StackPoolStats,
    stack_arena_stats, stack_pool_stats,
};
use stacks::{PoolStack, take_stack};

/// What a generator did when resumed: yielded a value or returned one
/// (Python's `StopIteration.value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GeneratorState<Y, R> {
    /// The body yielded this value and is suspended.
    Yielded(Y),
    /// The body returned this value and is finished.
    Returned(R),
}

impl<Y, R> GeneratorState<Y, R> {
    /// The yielded value, if the generator yielded.
    pub fn as_yielded(self) -> Option<Y> {
        match self {
            GeneratorState::Yielded(y) => Some(y),
            GeneratorState::Returned(_) => None,
        }
    }

    /// The returned value, if the generator returned.
    pub fn as_returned(self) -> Option<R> {
        match self {
            GeneratorState::Yielded(_) => None,
            GeneratorState::Returned(r) => Some(r),
        }
    }

    /// Whether the generator yielded.
    pub fn is_yielded(&self) -> bool {
        matches!(self, GeneratorState::Yielded(_))
    }

    /// Whether the generator returned.
    pub fn is_returned(&self) -> bool {
        matches!(self, GeneratorState::Returned(_))
    }
}

/// What the resumer passes into the coroutine.
enum Resume<S> {
    /// The first resume: there is no yield point to receive a value yet.
    Start,
    /// `send(v)` / `next()`.
    Send(S),
    /// `throw(e)` / `close()` (then `e` is `GeneratorExit`).
    Throw(anyhow::Error),
    /// The sub this generator delegates to finished while its resumer drove it directly;
    /// the outcome is in the delegation's [`Slot`].
    SubDone,
}

/// What the coroutine hands its resumer at a suspension.
enum Out<Y, S> {
    /// A value of its own (`yield_`).
    Value(Y),
    /// A value its sub yielded; until the sub finishes, resumes go to the sub through this
    /// link without switching to this generator's stack.
    Delegating(Y, NonNull<Link<Y, S>>),
}

/// A generator's `delegating` cell: the link to its sub while it delegates.
type Delegating<Y, S> = Cell<Option<NonNull<Link<Y, S>>>>;

/// One level of a `yield from` chain: in `Co::delegate`'s frame, on the delegator's stack.
struct Link<Y, S> {
    /// The sub's status and delegation, read by `Generator::forward`'s walk down the chain.
    status: NonNull<Cell<Status>>,
    delegating: NonNull<Delegating<Y, S>>,
    /// A resume is going through this link to the sub right now: every delegator above
    /// is running (they stay `Suspended` meanwhile, which saves a write per level).
    driving: Cell<bool>,
    /// The sub itself, its return type erased.
    sub: NonNull<dyn Delegate<Y, S>>,
}

/// A delegated-to sub, its return type erased.
trait Delegate<Y, S> {
    /// Resumes the sub, keeping its outcome if it finishes. With `exit`, the sub is being
    /// closed (PEP 380): whatever it does, its delegator gets `exit` or the close's error.
    fn resume(&self, input: Resume<S>, exit: Option<anyhow::Error>) -> Step<Y>;
    /// The sub's body type name (`gi_yieldfrom`).
    fn name(&self) -> &'static str;
}

/// What a sub did when resumed through its [`Link`].
enum Step<Y> {
    /// It yielded: its delegator yields the same, still delegating.
    Yielded(Y),
    /// It is done (the outcome is in the slot): its delegator must run to take it.
    Done,
}

/// How a delegated-to sub ended, as its delegator's `delegate` call sees it.
enum Finished<R> {
    /// It returned or raised (or could not be resumed).
    Ended(anyhow::Result<R>),
    /// GeneratorExit reached the delegator: the sub was closed, this is what to raise.
    Closed(anyhow::Error),
}

/// The typed half of a delegation, next to its [`Link`] in `Co::delegate`'s frame.
struct Slot<Y, S, R> {
    sub: *const Generator<Y, S, R>,
    done: Cell<Option<Finished<R>>>,
}

impl<Y: 'static, S: 'static, R: 'static> Delegate<Y, S> for Slot<Y, S, R> {
    fn resume(&self, input: Resume<S>, exit: Option<anyhow::Error>) -> Step<Y> {
        // SAFETY: the sub outlives the `delegate` frame that holds this slot (it is owned
        // by `yield_from`'s frame or borrowed by the body), and the slot is only reached
        // while that frame is suspended (see `Generator::delegating`).
        let sub = unsafe { &*self.sub };
        let r = sub.resume(input);
        let done = match exit {
            None => match r {
                Ok(GeneratorState::Yielded(y)) => return Step::Yielded(y),
                Ok(GeneratorState::Returned(r)) => Finished::Ended(Ok(r)),
                Err(e) => Finished::Ended(Err(e)),
            },
            Some(exit) => Finished::Closed(closed(sub.kind, r).err().unwrap_or(exit)),
        };
        self.done.set(Some(done));
        Step::Done
    }

    fn name(&self) -> &'static str {
        // SAFETY: as in `resume`: the sub outlives the frame that holds this slot.
        unsafe { &*self.sub }.name
    }
}

/// The body of a generator, boxed so that `Generator` does not name the closure type.
type Body<Y, S, R> = Box<dyn FnOnce(&Co<Y, S>) -> anyhow::Result<R>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Unstarted,
    Suspended,
    Running,
    Finished,
}

enum Inner<Y, S, R> {
    Unstarted(Body<Y, S, R>),
    Started(Coroutine<Resume<S>, Out<Y, S>, anyhow::Result<R>, PoolStack>),
    Finished,
}

/// A Python generator: a body that yields `Y`, receives `S` from `send`, and returns `R`.
///
/// Methods take `&self`, so a generator shared through `Rc` can be resumed from anywhere;
/// resuming it while it runs (from inside itself, or from a generator it delegates to) is
/// `ValueError("generator already executing")`. Dropping an unfinished generator closes it:
/// the body sees `GeneratorExit` at its yield point and its locals are dropped. A body that
/// yields again is then unwound by force (destructors still run).
///
/// # Examples
///
/// `send`, `throw` and the return value (Python's `StopIteration.value`):
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use tulip::{ErrorExt, Generator, StopIteration, ValueError};
///
/// // def summer():
/// //     total = 0
/// //     while True:
/// //         try:
/// //             x = yield total
/// //         except ValueError:
/// //             return total
/// //         total += x
/// let g = Generator::<i32, i32, i32>::new(|co| {
///     let mut total = 0;
///     loop {
///         match co.yield_(total) {
///             Ok(x) => total += x,
///             Err(e) if e.isinstance::<ValueError>() => return Ok(total),
///             Err(e) => return Err(e), // e.g. GeneratorExit from close()
///         }
///     }
/// });
/// assert_eq!(g.next()?.as_yielded(), Some(0)); // next(g) runs to the first yield
/// assert_eq!(g.send(5)?.as_yielded(), Some(5)); // g.send(5)
/// assert_eq!(g.send(10)?.as_yielded(), Some(15));
/// // g.throw(ValueError()) raises StopIteration(15)
/// let state = g.throw(ValueError::new("enough").into())?;
/// assert_eq!(state.as_returned(), Some(15));
/// assert!(g.is_finished());
/// assert!(g.next().unwrap_err().isinstance::<StopIteration>()); // next(g) again
/// # Ok(()) }
/// ```
///
/// `close` delivers `GeneratorExit` at the yield point, so `finally` code runs:
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// use tulip::Generator;
///
/// let cleaned = Rc::new(Cell::new(false));
/// let flag = cleaned.clone();
/// let g = Generator::<&str>::new(move |co| {
///     let r = co.yield_("working"); // try: yield "working"
///     flag.set(true); // finally: cleaned = True
///     r
/// });
/// assert_eq!(g.next()?.as_yielded(), Some("working"));
/// g.close()?; // g.close()
/// assert!(cleaned.get() && g.is_finished());
/// # Ok(()) }
/// ```
pub struct Generator<Y, S = (), R = ()> {
    /// Read by every method before `inner` is touched: `Running` keeps re-entry out.
    status: Cell<Status>,
    inner: UnsafeCell<Inner<Y, S, R>>,
    /// Set while the body is suspended in `Co::delegate` with its sub started (Python's
    /// `gi_yieldfrom`): resumes go to the sub without switching to this generator's stack.
    /// Points into that suspended frame, so it is cleared before the body runs again or
    /// its stack is unwound.
    delegating: Delegating<Y, S>,
    stack_size: usize,
    /// The body's type name, printed if its stack overflows.
    name: &'static str,
    /// Read only on error paths.
    kind: Kind,
}

impl<Y, S, R> fmt::Debug for Generator<Y, S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generator")
            .field("body", &self.name)
            .field("status", &self.status.get())
            .field("stack_size", &self.stack_size)
            .finish()
    }
}

/// Which Python object a generator stands for: the same machine, but Python's errors name
/// the kind ("coroutine already executing").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A `def` with `yield`.
    Generator,
    /// An `async def`: also, resuming it once finished is "cannot reuse already awaited
    /// coroutine".
    Coroutine,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Generator => "generator",
            Kind::Coroutine => "coroutine",
        }
    }
}

#[cold]
fn value_error_executing(kind: Kind) -> anyhow::Error {
    ValueError::new(format!("{} already executing", kind.name())).into()
}

#[cold]
fn ignored_generator_exit(kind: Kind) -> anyhow::Error {
    RuntimeError::new(format!("{} ignored GeneratorExit", kind.name())).into()
}

/// Resuming a finished generator: `StopIteration`, or for a coroutine Python's RuntimeError
/// (which `throw` raises too, instead of the thrown error).
#[cold]
fn resume_finished(kind: Kind, input: Resume<impl Sized>) -> anyhow::Error {
    match (kind, input) {
        (Kind::Coroutine, _) => RuntimeError::new("cannot reuse already awaited coroutine").into(),
        (_, Resume::Throw(e)) => e,
        _ => StopIteration(None).into(),
    }
}

/// Python's `StopIteration`, tulip's or one named so by a port.
fn is_stop_iteration(e: &anyhow::Error) -> bool {
    e.is::<StopIteration>()
        || e.downcast_ref::<Exception>()
            .is_some_and(|x| x.name == "StopIteration")
}

/// PEP 479: a StopIteration escaping a body would look like "finished" to the caller.
fn pep479<R>(kind: Kind, r: anyhow::Result<R>) -> anyhow::Result<R> {
    match r {
        Err(e) if is_stop_iteration(&e) => {
            Err(RuntimeError::new(format!("{} raised StopIteration", kind.name())).into())
        }
        r => r,
    }
}

/// The link to the innermost sub of a chain of delegations: the first whose sub is not
/// suspended in a delegation of its own.
///
/// # Safety
/// `first` is the `delegating` link of a suspended generator (see `Generator::forward`).
unsafe fn innermost<Y, S>(first: NonNull<Link<Y, S>>) -> NonNull<Link<Y, S>> {
    let mut link = first;
    loop {
        // SAFETY: the caller's promise, and each link reached is one again.
        let l = unsafe { link.as_ref() };
        // SAFETY: as above: the sub's cells live as long as its delegator's frame.
        let (status, delegating) = unsafe { (l.status.as_ref(), l.delegating.as_ref()) };
        match (status.get(), delegating.get()) {
            (Status::Suspended, Some(next)) => link = next,
            _ => return link,
        }
    }
}

/// What `close()` makes of what the body did with the GeneratorExit thrown in.
fn closed<Y, R>(kind: Kind, r: anyhow::Result<GeneratorState<Y, R>>) -> anyhow::Result<()> {
    match r {
        Ok(GeneratorState::Yielded(_)) => Err(ignored_generator_exit(kind)),
        Ok(GeneratorState::Returned(_)) => Ok(()),
        Err(e) if e.is::<GeneratorExit>() || is_stop_iteration(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Python's None for `S`: only `()` has one we can make without knowing `S`.
fn none_value<S: 'static>() -> Option<S> {
    let unit: Box<dyn Any> = Box::new(());
    unit.downcast::<S>().ok().map(|b| *b)
}

/// Methods that never start a coroutine (so they need no `'static`, which `Drop` cannot ask).
impl<Y, S, R> Generator<Y, S, R> {
    /// Whether the generator has begun (it ran, or it was closed or thrown into before).
    pub fn is_started(&self) -> bool {
        self.status.get() != Status::Unstarted
    }

    /// Whether the generator has finished: it returned, raised, or was closed.
    pub fn is_finished(&self) -> bool {
        self.status.get() == Status::Finished
    }

    /// Whether the generator is running right now (Python's `gi_running`), also while it
    /// delegates to a sub-generator with `yield_from`.
    pub fn is_running(&self) -> bool {
        match (self.status.get(), self.delegating.get()) {
            (Status::Running, _) => true,
            // SAFETY: a suspended generator's link (see `forward`).
            (Status::Suspended, Some(first)) => unsafe { innermost(first).as_ref().driving.get() },
            _ => false,
        }
    }

    /// Whether the generator is suspended at a yield (Python 3.11's `gi_suspended`): started,
    /// not running, not finished.
    pub fn is_suspended(&self) -> bool {
        self.status.get() == Status::Suspended && !self.is_running()
    }

    /// Python's `gi_yieldfrom`: the qualified name (see [`py_qualname`](crate::py_qualname))
    /// of the body of the generator this one delegates to with `yield_from` while it is
    /// suspended there, `None` otherwise. A sub is seen when it runs on its own stack
    /// ([`Co::yield_from_ref`], or a sub too big to run inline); a sub that
    /// [`Co::yield_from`] runs inline on this generator's stack is part of this generator's
    /// frames, as a plain call is, and is not seen.
    pub fn gi_yieldfrom(&self) -> Option<String> {
        if self.status.get() != Status::Suspended {
            return None;
        }
        let link = self.delegating.get()?;
        // SAFETY: a suspended generator's link points into its suspended `delegate` frame
        // (see `delegating`), whose slot refers to the live sub.
        let name = unsafe { link.as_ref().sub.as_ref() }.name();
        Some(crate::errors::py_qualname(name))
    }

    /// The stack size this generator asked for.
    pub fn stack_size(&self) -> usize {
        self.stack_size
    }

    /// Resumes a started generator (status `Suspended`, `Running` or `Finished`).
    #[inline(always)]
    fn resume(&self, input: Resume<S>) -> anyhow::Result<GeneratorState<Y, R>> {
        match self.status.get() {
            Status::Suspended => {}
            Status::Running => return Err(value_error_executing(self.kind)),
            Status::Finished | Status::Unstarted => return Err(resume_finished(self.kind, input)),
        }
        if let Some(first) = self.delegating.get() {
            return self.forward(first, input);
        }
        if let Resume::Throw(e) = input {
            // Folded away where the caller sends (the variant is known there).
            return self.switch_throw(e);
        }
        self.switch(input)
    }

    /// Throws `e` in at the yield point: an error the body raises instead of `e` gets `e`
    /// as its `__context__` ([`errors::context`](crate::errors::context)). A delegating
    /// generator's sub does this where the error enters it, not here.
    #[cold]
    #[inline(never)]
    fn switch_throw(&self, e: anyhow::Error) -> anyhow::Result<GeneratorState<Y, R>> {
        let delivered = Delivered::note(&e);
        self.switch(Resume::Throw(e))
            .map_err(|raised| delivered.raised(raised))
    }

    /// Resumes a delegating generator as CPython does through `gi_yieldfrom`: walks down
    /// the chain of delegators to the innermost sub and resumes that one alone; its value
    /// comes straight back. Only a sub that finishes makes its delegator run (on its own
    /// stack), and so on up. No recursion: a chain of any depth takes constant stack here.
    #[inline(never)]
    fn forward(
        &self,
        first: NonNull<Link<Y, S>>,
        input: Resume<S>,
    ) -> anyhow::Result<GeneratorState<Y, R>> {
        // SAFETY: (for every `as_ref` below) a link is reached through `delegating` of a
        // generator suspended in the `delegate` frame that holds the link (and its sub);
        // that frame stays put until the generator runs again, which happens only after its
        // `delegating` is cleared (here, or in `finish` and `Drop`). The generators between
        // `self` and the link being driven cannot run meanwhile: a resume of one of them
        // walks down to that link and stops at its `driving`.
        unsafe {
            let mut link = innermost(first);
            if link.as_ref().driving.get() {
                // Resumed from inside its own chain.
                return Err(value_error_executing(self.kind));
            }
            self.status.set(Status::Running);
            let guard = FinishOnUnwind(self);
            // PEP 380: GeneratorExit closes the innermost sub, then each delegator in turn;
            // the top one gets the error it was given.
            let (mut input, mut top_exit, closing) = match input {
                Resume::Throw(e) if e.is::<GeneratorExit>() => {
                    (Resume::Throw(GeneratorExit.into()), Some(e), true)
                }
                input => (input, None, false),
            };
            loop {
                let l = link.as_ref();
                let exit = closing.then(|| match link == first {
                    true => top_exit.take().unwrap_or_else(|| GeneratorExit.into()),
                    false => GeneratorExit.into(),
                });
                l.driving.set(true);
                let step = l.sub.as_ref().resume(input, exit);
                l.driving.set(false);
                match step {
                    Step::Yielded(y) => {
                        mem::forget(guard);
                        self.status.set(Status::Suspended);
                        return Ok(GeneratorState::Yielded(y));
                    }
                    Step::Done if link == first => {
                        // This generator takes the outcome and goes on.
                        self.delegating.set(None);
                        mem::forget(guard);
                        return self.switch(Resume::SubDone);
                    }
                    Step::Done => {
                        // The sub's delegator runs next, to take the outcome: the link
                        // above this one (found again from the top: this is rare).
                        let mut above = first;
                        while above.as_ref().delegating.as_ref().get() != Some(link) {
                            above = above.as_ref().delegating.as_ref().get().unwrap_or_else(|| {
                                unreachable!("a link is below the top of its chain")
                            });
                        }
                        above.as_ref().delegating.as_ref().set(None);
                        link = above;
                        input = Resume::SubDone;
                    }
                }
            }
        }
    }

    /// Switches to the body's stack with `input` and waits for it to suspend or finish.
    #[inline(always)]
    fn switch(&self, input: Resume<S>) -> anyhow::Result<GeneratorState<Y, R>> {
        self.status.set(Status::Running);
        // If the switch itself unwinds (it should not: bodies' panics are caught on their
        // own stack), leave the generator finished rather than "running" forever.
        let guard = FinishOnUnwind(self);
        let result = {
            // SAFETY: status was Suspended, so no other borrow of `inner` exists; re-entrant
            // calls made by the body see `Running` and return before touching `inner`.
            let Inner::Started(co) = (unsafe { &mut *self.inner.get() }) else {
                unreachable!("a suspended generator has a coroutine")
            };
            co.resume(input)
        };
        mem::forget(guard);
        match result {
            CoroutineResult::Yield(Out::Value(y)) => {
                self.status.set(Status::Suspended);
                Ok(GeneratorState::Yielded(y))
            }
            CoroutineResult::Yield(Out::Delegating(y, link)) => {
                self.delegating.set(Some(link));
                self.status.set(Status::Suspended);
                Ok(GeneratorState::Yielded(y))
            }
            CoroutineResult::Return(r) => {
                self.finish();
                r.map(GeneratorState::Returned)
            }
        }
    }

    /// Marks the generator finished and gives its stack back (or drops its body).
    fn finish(&self) {
        // The link it points to is about to be unwound.
        self.delegating.set(None);
        // SAFETY: not running (callers hold the only access); state is replaced before any
        // user code (the body's destructors) can run and look at the generator.
        let inner = mem::replace(unsafe { &mut *self.inner.get() }, Inner::Finished);
        self.status.set(Status::Finished);
        // Dropping the coroutine (unwound first if it is not done) frees its stack.
        drop(inner);
    }

    /// Python's `throw`, for the unbounded impl (no start needed).
    fn throw_inner(&self, err: anyhow::Error) -> anyhow::Result<GeneratorState<Y, R>> {
        if self.status.get() == Status::Unstarted {
            // Python: raised at once, the body never runs, the generator is finished.
            self.finish();
            return Err(err);
        }
        self.resume(Resume::Throw(err))
    }

    /// Python's `close()`: delivers `GeneratorExit` at the yield point. `Ok` when the body
    /// returns or lets `GeneratorExit` out; `RuntimeError("generator ignored GeneratorExit")`
    /// when it yields again (it stays suspended); any other error the body raises.
    /// Closing a finished or unstarted generator does nothing but finish it.
    ///
    /// # Errors
    ///
    /// - `RuntimeError("generator ignored GeneratorExit")` when the body yields again.
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
            Status::Suspended => {
                closed(self.kind, self.resume(Resume::Throw(GeneratorExit.into())))
            }
        }
    }
}

/// Leaves a generator finished if a resume unwinds (see `resume`).
struct FinishOnUnwind<'a, Y, S, R>(&'a Generator<Y, S, R>);

impl<Y, S, R> Drop for FinishOnUnwind<'_, Y, S, R> {
    fn drop(&mut self) {
        self.0.finish();
    }
}

impl<Y, S, R> Drop for Generator<Y, S, R> {
    fn drop(&mut self) {
        if self.status.get() != Status::Suspended {
            return; // unstarted: the boxed body drops with the field
        }
        if let Err(e) = self.close() {
            // Python prints these as "Exception ignored in: <generator ...>".
            log::warn!(
                "error closing a dropped generator: {}",
                crate::errors::py_repr(&e)
            );
        }
        if self.status.get() == Status::Suspended {
            // It ignored GeneratorExit: unwind its stack by force (destructors run).
            self.delegating.set(None);
            if let Inner::Started(co) = self.inner.get_mut() {
                co.force_unwind();
            }
            self.finish();
        }
    }
}

impl<Y: 'static, S: 'static, R: 'static> Generator<Y, S, R> {
    /// A generator running `body` on a stack of [`DEFAULT_STACK_SIZE`] bytes. Nothing runs
    /// and no stack is taken until the first resume.
    pub fn new(body: impl FnOnce(&Co<Y, S>) -> anyhow::Result<R> + 'static) -> Self {
        Self::with_stack_size(DEFAULT_STACK_SIZE, body)
    }

    /// A generator whose stack holds at least `size` bytes (rounded up to whole pages, at
    /// least [`MIN_STACK_SIZE`]). A size the machine cannot map makes the first resume fail
    /// with a `RuntimeError`.
    pub fn with_stack_size(
        size: usize,
        body: impl FnOnce(&Co<Y, S>) -> anyhow::Result<R> + 'static,
    ) -> Self {
        Self::with_kind(Kind::Generator, size, body)
    }

    /// A generator standing for another Python object (a coroutine): errors name it.
    pub(crate) fn with_kind(
        kind: Kind,
        size: usize,
        body: impl FnOnce(&Co<Y, S>) -> anyhow::Result<R> + 'static,
    ) -> Self {
        let name = std::any::type_name_of_val(&body);
        Generator {
            status: Cell::new(Status::Unstarted),
            inner: UnsafeCell::new(Inner::Unstarted(Box::new(body))),
            delegating: Cell::new(None),
            stack_size: size.max(MIN_STACK_SIZE),
            name,
            kind,
        }
    }

    /// Python's `send(value)`: resumes the generator; `value` becomes the result of the
    /// `yield_` it is paused at. Returns what it yields or returns next; an error it raises
    /// finishes it. On a finished generator: `Err(StopIteration)`. On a generator that has
    /// not started: starts it if `S = ()`, else `TypeError` (see the module doc on None).
    ///
    /// # Errors
    ///
    /// - The error the body raises (a panic as [`Panic`]); the generator is then finished.
    ///   A `StopIteration` raised by the body becomes `RuntimeError("generator raised
    ///   StopIteration")` (PEP 479).
    /// - `StopIteration` on a finished generator.
    /// - `TypeError("can't send non-None value to a just-started generator")`.
    /// - `ValueError("generator already executing")` from inside the generator itself;
    ///   a `RuntimeError` at the first resume if no stack can be mapped.
    #[inline(always)] // with `resume`, the whole resume sits in the caller's loop
    pub fn send(&self, value: S) -> anyhow::Result<GeneratorState<Y, R>> {
        if self.status.get() == Status::Unstarted {
            if TypeId::of::<S>() != TypeId::of::<()>() {
                return Err(TypeError::new(format!(
                    "can't send non-None value to a just-started {}",
                    self.kind.name()
                ))
                .into());
            }
            return self.start();
        }
        self.resume(Resume::Send(value))
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
            return self.start();
        }
        self.resume(Resume::Send(S::default()))
    }

    /// Python's `throw(err)`: raises `err` at the yield point, where the body sees it as the
    /// `Err` of `yield_` and may handle it. Returns what the body yields or returns next;
    /// an error it lets out (`err` or another) finishes it. Thrown into a generator that has
    /// not started (or has finished), `err` comes straight back and the generator is
    /// finished without running.
    ///
    /// # Errors
    ///
    /// - `err` itself, or whatever other error the body raises; the generator is then finished.
    /// - `ValueError("generator already executing")` from inside the generator itself.
    pub fn throw(&self, err: anyhow::Error) -> anyhow::Result<GeneratorState<Y, R>> {
        self.throw_inner(err)
    }

    /// Takes a stack, builds the coroutine and runs the body to its first yield.
    #[inline(never)]
    fn start(&self) -> anyhow::Result<GeneratorState<Y, R>> {
        // A failed mapping leaves the generator unstarted: a later resume may succeed.
        let stack = take_stack(self.stack_size)?;
        // SAFETY: status is Unstarted, so nothing else borrows `inner`.
        let inner = unsafe { &mut *self.inner.get() };
        let Inner::Unstarted(body) = mem::replace(inner, Inner::Finished) else {
            unreachable!("an unstarted generator has a body")
        };
        stack.set_owner(self.name);
        let (lowest, size, name_addr) = (stack.lowest_usable(), stack.size, stack.name_addr());
        let kind = self.kind;
        let co = Coroutine::with_stack(
            stack,
            move |yielder: &Yielder<Resume<S>, Out<Y, S>>, _start: Resume<S>| {
                let co = Co {
                    yielder: yielder as *const _,
                    depth: Cell::new(0),
                    closing: Cell::new(0),
                    stack_lowest: lowest,
                    stack_size: size,
                    name_addr,
                    _not_send: PhantomData,
                };
                match panic::catch_unwind(AssertUnwindSafe(|| body(&co))) {
                    Ok(r) => pep479(kind, r),
                    Err(payload) => Err(panic_error(payload)),
                }
            },
        );
        *inner = Inner::Started(co);
        self.status.set(Status::Suspended);
        self.resume(Resume::Start)
    }

    /// Iterates by reference (`for x in gen.iter()`), like Python's `for x in gen`.
    pub fn iter(&self) -> Iter<'_, Y, S, R> {
        Iter {
            generator: self,
            done: false,
        }
    }
}

/// A panic caught in a body, as the error the resumer gets. corosensei's forced unwind (a
/// dropped generator) goes on unwinding: swallowing it would leave its stack half-unwound.
fn panic_error(payload: Box<dyn Any + Send>) -> anyhow::Error {
    if (*payload).type_id() == forced_unwind_type_id() {
        panic::resume_unwind(payload);
    }
    anyhow::Error::new(Panic::from_payload(&*payload))
}

/// Runs `f`, turning a panic in it into the [`Panic`] error its generator's resumer would get,
/// so that a layer above can report it with its own context (a server names the peer). A
/// dropped generator's forced unwind, and an abandoned inline sub's, go on unwinding.
pub(crate) fn catch_panic<R>(f: impl FnOnce() -> anyhow::Result<R>) -> anyhow::Result<R> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) if payload.is::<Abandon>() => panic::resume_unwind(payload),
        Err(payload) => Err(panic_error(payload)),
    }
}

/// The type of corosensei's private forced-unwind payload, learned once by force-unwinding
/// a tiny coroutine (the type is not exported, so it cannot be named).
fn forced_unwind_type_id() -> TypeId {
    static ID: OnceLock<TypeId> = OnceLock::new();
    *ID.get_or_init(|| {
        let seen = std::rc::Rc::new(Cell::new(None));
        let seen2 = seen.clone();
        let stack = DefaultStack::new(64 * 1024).expect("map a 64 KiB probe stack");
        let mut co = Coroutine::with_stack(stack, move |y: &Yielder<(), ()>, ()| {
            if let Err(p) = panic::catch_unwind(AssertUnwindSafe(|| y.suspend(()))) {
                seen2.set(Some((*p).type_id()));
                panic::resume_unwind(p);
            }
        });
        co.resume(());
        co.force_unwind();
        seen.get()
            .expect("force_unwind unwinds a suspended coroutine")
    })
}

#[cold]
fn cannot_yield_unwinding() -> anyhow::Error {
    RuntimeError::new("cannot yield while a panic is unwinding").into()
}

/// An inline sub yields after GeneratorExit: Python's close() of it fails, and the sub is
/// abandoned by unwinding it up to its `yield_from`.
#[cold]
fn abandon<Y>(value: Y, closing: u32) -> ! {
    drop(value);
    panic::resume_unwind(Box::new(Abandon(closing)));
}

/// The stack pointer, read from the register where the target allows: the address of a
/// local is not always on the machine stack (AddressSanitizer's use-after-return detection,
/// on by default, moves address-taken locals to a "fake stack" on the heap).
#[inline(always)]
fn stack_pointer() -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        let sp: usize;
        // SAFETY: copies a register; touches no memory.
        unsafe {
            std::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags))
        };
        sp
    }
    #[cfg(target_arch = "aarch64")]
    {
        let sp: usize;
        // SAFETY: copies a register; touches no memory.
        unsafe {
            std::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags))
        };
        sp
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let probe = 0u8;
        std::hint::black_box(&probe) as *const u8 as usize
    }
}

/// Unwinds an inline sub that yielded while being closed, up to the `yield_from` at this
/// depth (Python abandons such a sub; its delegator sees a RuntimeError).
struct Abandon(u32);
