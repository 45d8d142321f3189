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
//! - **Stacks** come from a per-thread pool: a generator takes one at its first resume and
//!   gives it back when it finishes. [`DEFAULT_STACK_SIZE`] fits a panic with
//!   `RUST_BACKTRACE=1` in a debug build; [`Generator::with_stack_size`] asks for more. An
//!   overflow prints which generator overflowed and its stack size, then aborts. Mapping a
//!   stack can fail (Linux allows `vm.max_map_count` mappings per process, two per stack):
//!   the resume then returns a `RuntimeError` that says so.
//! - **Inline delegation**: `yield_from` of a generator that has not started runs its body on
//!   the delegator's own stack, with the delegator's `Co` (no stack, no extra switch), while at
//!   least half of the sub's stack size is left there; otherwise the sub runs on its own stack
//!   and a loop forwards values, `send`, `throw` and `close` to it.

use std::any::{Any, TypeId};
use std::cell::{Cell, RefCell, UnsafeCell};
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Once, OnceLock};

use corosensei::stack::{DefaultStack, Stack, StackPointer};
use corosensei::{Coroutine, CoroutineResult, Yielder};

use crate::errors::{
    Exception, GeneratorExit, Panic, RuntimeError, StopIteration, TypeError, ValueError,
};

/// Bytes of stack a generator gets unless it asks for another size: enough for a panic with
/// `RUST_BACKTRACE=1` in a debug build (measured: under 24 KiB) ten times over. Reserved
/// address space costs no memory until it is touched.
pub const DEFAULT_STACK_SIZE: usize = 256 * 1024;

/// The smallest stack a generator gets, whatever it asks for.
pub const MIN_STACK_SIZE: usize = 16 * 1024;

/// Idle stacks kept per thread; the rest are unmapped when their generator finishes.
const POOL_LIMIT: usize = 1024;

/// Bytes at the top of every pooled stack that hold the owner's name for overflow reports.
const META: usize = 64;

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
    Started(Coroutine<Resume<S>, Y, anyhow::Result<R>, PoolStack>),
    Finished,
}

/// A Python generator: a body that yields `Y`, receives `S` from `send`, and returns `R`.
///
/// Methods take `&self`, so a generator shared through `Rc` can be resumed from anywhere;
/// resuming it while it runs (from inside itself, or from a generator it delegates to) is
/// `ValueError("generator already executing")`. Dropping an unfinished generator closes it:
/// the body sees `GeneratorExit` at its yield point and its locals are dropped. A body that
/// yields again is then unwound by force (destructors still run).
pub struct Generator<Y, S = (), R = ()> {
    /// Read by every method before `inner` is touched: `Running` keeps re-entry out.
    status: Cell<Status>,
    inner: UnsafeCell<Inner<Y, S, R>>,
    stack_size: usize,
    /// The body's type name, printed if its stack overflows.
    name: &'static str,
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

fn value_error_executing() -> anyhow::Error {
    ValueError::new("generator already executing").into()
}

fn ignored_generator_exit() -> anyhow::Error {
    RuntimeError::new("generator ignored GeneratorExit").into()
}

/// Python's `StopIteration`, tulip's or one named so by a port.
fn is_stop_iteration(e: &anyhow::Error) -> bool {
    e.is::<StopIteration>()
        || e.downcast_ref::<Exception>()
            .is_some_and(|x| x.name == "StopIteration")
}

/// PEP 479: a StopIteration escaping a body would look like "finished" to the caller.
fn pep479<R>(r: anyhow::Result<R>) -> anyhow::Result<R> {
    match r {
        Err(e) if is_stop_iteration(&e) => {
            Err(RuntimeError::new("generator raised StopIteration").into())
        }
        r => r,
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
        self.status.get() == Status::Running
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
            Status::Running => return Err(value_error_executing()),
            Status::Finished | Status::Unstarted => {
                return match input {
                    Resume::Throw(e) => Err(e),
                    _ => Err(StopIteration.into()),
                };
            }
        }
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
            CoroutineResult::Yield(y) => {
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
        // SAFETY: not running (callers hold the only access); state is replaced before any
        // user code (the body's destructors) can run and look at the generator.
        let inner = mem::replace(unsafe { &mut *self.inner.get() }, Inner::Finished);
        self.status.set(Status::Finished);
        match inner {
            Inner::Started(co) if co.done() => release_stack(co.into_stack()),
            other => drop(other),
        }
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
    pub fn close(&self) -> anyhow::Result<()> {
        match self.status.get() {
            Status::Unstarted => {
                self.finish();
                Ok(())
            }
            Status::Finished => Ok(()),
            Status::Running => Err(value_error_executing()),
            Status::Suspended => match self.resume(Resume::Throw(GeneratorExit.into())) {
                Ok(GeneratorState::Yielded(_)) => Err(ignored_generator_exit()),
                Ok(GeneratorState::Returned(_)) => Ok(()),
                Err(e) if e.is::<GeneratorExit>() || is_stop_iteration(&e) => Ok(()),
                Err(e) => Err(e),
            },
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
        let name = std::any::type_name_of_val(&body);
        Generator {
            status: Cell::new(Status::Unstarted),
            inner: UnsafeCell::new(Inner::Unstarted(Box::new(body))),
            stack_size: size.max(MIN_STACK_SIZE),
            name,
        }
    }

    /// Python's `send(value)`: resumes the generator; `value` becomes the result of the
    /// `yield_` it is paused at. Returns what it yields or returns next; an error it raises
    /// finishes it. On a finished generator: `Err(StopIteration)`. On a generator that has
    /// not started: starts it if `S = ()`, else `TypeError` (see the module doc on None).
    #[inline(always)] // with `resume`, the whole resume sits in the caller's loop
    pub fn send(&self, value: S) -> anyhow::Result<GeneratorState<Y, R>> {
        if self.status.get() == Status::Unstarted {
            if TypeId::of::<S>() != TypeId::of::<()>() {
                return Err(TypeError::new(
                    "can't send non-None value to a just-started generator",
                )
                .into());
            }
            return self.start();
        }
        self.resume(Resume::Send(value))
    }

    /// Python's `next(g)`, i.e. `send(None)`: sends `S::default()`.
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
        let (lowest, size) = (stack.lowest_usable(), stack.size);
        let co = Coroutine::with_stack(
            stack,
            move |yielder: &Yielder<Resume<S>, Y>, _start: Resume<S>| {
                let co = Co {
                    yielder: yielder as *const _,
                    depth: Cell::new(0),
                    closing: Cell::new(0),
                    stack_lowest: lowest,
                    stack_size: size,
                    _not_send: PhantomData,
                };
                match panic::catch_unwind(AssertUnwindSafe(|| body(&co))) {
                    Ok(r) => pep479(r),
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

/// The coroutine handle a generator's body receives. Any plain function given `&Co` can
/// yield on behalf of the generator: there is no function colouring.
pub struct Co<Y, S> {
    yielder: *const Yielder<Resume<S>, Y>,
    /// How many inline `yield_from` bodies are running on this stack.
    depth: Cell<u32>,
    /// Inline subs at depths `1..=closing` are being closed (GeneratorExit was delivered).
    closing: Cell<u32>,
    stack_lowest: usize,
    stack_size: usize,
    _not_send: PhantomData<*mut ()>,
}

impl<Y, S> fmt::Debug for Co<Y, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Co")
            .field("depth", &self.depth.get())
            .field("stack_size", &self.stack_size)
            .finish()
    }
}

impl<Y, S> Co<Y, S> {
    /// Python's `yield value`: suspends the generator and hands `value` to its resumer.
    /// `Ok(s)` is what the resumer sends next; `Err(e)` is an error thrown in at this point
    /// (`throw`, or `GeneratorExit` from `close`), which the body may handle or propagate.
    /// While a panic unwinds (a destructor running), it returns an error instead of
    /// suspending.
    #[inline(always)] // the switch must sit in the body: a call/ret around it costs two
    // mispredicted returns per resume (the return stack buffer spans both stacks)
    pub fn yield_(&self, value: Y) -> anyhow::Result<S> {
        if std::thread::panicking() {
            return Err(cannot_yield_unwinding());
        }
        let closing = self.closing.get();
        if closing != 0 {
            abandon(value, closing);
        }
        // SAFETY: `self` only exists while the body runs on the yielder's coroutine.
        match unsafe { &*self.yielder }.suspend(value) {
            Resume::Send(v) => Ok(v),
            Resume::Throw(e) => Err(self.thrown(e)),
            Resume::Start => Err(RuntimeError::new("generator started twice").into()),
        }
    }

    #[cold]
    fn thrown(&self, e: anyhow::Error) -> anyhow::Error {
        let depth = self.depth.get();
        if depth != 0 && e.is::<GeneratorExit>() {
            // PEP 380: GeneratorExit closes every delegated-to sub on the way out.
            self.closing.set(depth);
        }
        e
    }

    /// Bytes left on this stack below the caller's frame.
    fn room(&self) -> usize {
        stack_pointer().saturating_sub(self.stack_lowest)
    }

    /// Runs an unstarted sub's body on this stack with this handle (see the module doc).
    fn run_inline<R>(&self, body: Body<Y, S, R>) -> anyhow::Result<R> {
        let depth = self.depth.get() + 1;
        self.depth.set(depth);
        let result = panic::catch_unwind(AssertUnwindSafe(|| body(self)));
        self.depth.set(depth - 1);
        let closed = self.closing.get() >= depth;
        if closed {
            // This sub's close is over; its delegator (if inline too) is still closing.
            self.closing.set(depth - 1);
        }
        match result {
            // PEP 380: a value returned while GeneratorExit is in flight is ignored.
            Ok(Ok(_)) if closed => Err(GeneratorExit.into()),
            Ok(Err(e)) if closed && (e.is::<GeneratorExit>() || is_stop_iteration(&e)) => {
                Err(GeneratorExit.into())
            }
            Ok(r) => pep479(r),
            Err(payload) => match payload.downcast_ref::<Abandon>() {
                Some(Abandon(d)) if *d == depth => Err(ignored_generator_exit()),
                Some(_) => panic::resume_unwind(payload),
                None => Err(panic_error(payload)),
            },
        }
    }

    /// Drives a sub on its own stack: values out, send/throw/close in (PEP 380).
    fn delegate<R: 'static>(&self, sub: &Generator<Y, S, R>) -> anyhow::Result<R>
    where
        Y: 'static,
        S: 'static,
    {
        let mut step = match sub.status.get() {
            Status::Unstarted => sub.start(),
            _ => match none_value::<S>() {
                // PEP 380 primes the sub with next().
                Some(none) => sub.resume(Resume::Send(none)),
                None => Err(TypeError::new(
                    "yield_from of a generator that already started needs S = () \
                     (Python primes it with send(None))",
                )
                .into()),
            },
        };
        loop {
            match step? {
                GeneratorState::Returned(r) => return Ok(r),
                GeneratorState::Yielded(y) => {
                    step = match self.yield_(y) {
                        Ok(v) => sub.resume(Resume::Send(v)),
                        // PEP 380: the sub is closed, not thrown into; its close error wins.
                        Err(e) if e.is::<GeneratorExit>() => {
                            sub.close()?;
                            return Err(e);
                        }
                        Err(e) => sub.throw_inner(e),
                    }
                }
            }
        }
    }
}

impl<Y: 'static, S: 'static> Co<Y, S> {
    /// Python's `yield from sub` (PEP 380): values `sub` yields go to this generator's
    /// resumer, sent values and thrown errors go to `sub`, `close` closes `sub` first (an
    /// error from that replaces `GeneratorExit`), and the result is `sub`'s return value.
    /// An error `sub` raises comes out here. Works at any depth; a resume through any
    /// number of inline levels costs one stack switch.
    pub fn yield_from<R: 'static>(&self, sub: Generator<Y, S, R>) -> anyhow::Result<R> {
        // Inline while at least half of the sub's own stack size is left here.
        if sub.status.get() == Status::Unstarted && self.room() >= sub.stack_size / 2 {
            // SAFETY: unstarted and owned: nothing else borrows `inner`.
            let inner = mem::replace(unsafe { &mut *sub.inner.get() }, Inner::Finished);
            sub.status.set(Status::Finished);
            drop(sub);
            let Inner::Unstarted(body) = inner else {
                unreachable!("an unstarted generator has a body")
            };
            return self.run_inline(body);
        }
        self.delegate(&sub)
    }

    /// `yield from` a generator shared with others (e.g. through `Rc`): like
    /// [`Co::yield_from`], but the sub always runs on its own stack, and delegating to a
    /// generator that is running (this one, or one up the chain) is
    /// `ValueError("generator already executing")`. Delegating to a started generator
    /// primes it with None, which needs `S = ()`.
    pub fn yield_from_ref<R: 'static>(&self, sub: &Generator<Y, S, R>) -> anyhow::Result<R> {
        self.delegate(sub)
    }
}

/// Iteration over a generator that takes no sent value, like Python's `for x in gen`:
/// each item is a yielded value; the iteration ends when the generator returns (the value
/// is dropped) or after the one `Err` it raises.
pub struct Iter<'a, Y, S, R> {
    generator: &'a Generator<Y, S, R>,
    done: bool,
}

impl<Y: 'static, R: 'static> Iterator for Iter<'_, Y, (), R> {
    type Item = anyhow::Result<Y>;

    fn next(&mut self) -> Option<Self::Item> {
        iter_step(self.generator, &mut self.done)
    }
}

/// Owning iteration (`for x in gen`); see [`Iter`].
pub struct IntoIter<Y, S, R> {
    generator: Generator<Y, S, R>,
    done: bool,
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

// ---------------------------------------------------------------------------------------
// Stacks: a per-thread pool, guard-page overflow reports, mapping errors.

/// Counters of this thread's stack pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StackPoolStats {
    /// Stacks mapped fresh (pool misses).
    pub mapped: u64,
    /// Stacks taken from the pool (hits).
    pub reused: u64,
    /// Stacks idle in the pool now.
    pub idle: usize,
}

/// This thread's stack pool counters (tests use them to check reuse).
pub fn stack_pool_stats() -> StackPoolStats {
    POOL.with(|p| {
        let p = p.borrow();
        StackPoolStats {
            idle: p.free.len(),
            ..p.stats
        }
    })
}

struct Pool {
    free: Vec<PoolStack>,
    stats: StackPoolStats,
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool { free: Vec::new(), stats: StackPoolStats { mapped: 0, reused: 0, idle: 0 } })
    };
    /// Guard pages of this thread's stacks: lowest address -> (end of mapping, usable size).
    static GUARDS: RefCell<BTreeMap<usize, (usize, usize)>> = const { RefCell::new(BTreeMap::new()) };
    static ALTSTACK_CHECKED: Cell<bool> = const { Cell::new(false) };
}

fn page_size() -> usize {
    static PAGE: OnceLock<usize> = OnceLock::new();
    // SAFETY: sysconf has no preconditions.
    *PAGE.get_or_init(|| unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize)
}

/// A corosensei stack from the pool, with the owner's name stored at its top.
struct PoolStack {
    inner: DefaultStack,
    /// Usable bytes (without the guard page and the name slot).
    size: usize,
}

// SAFETY: delegates to DefaultStack (guard page included); the base is lowered by META
// bytes (still aligned) to keep the owner's name out of the coroutine's way.
unsafe impl Stack for PoolStack {
    #[inline]
    fn base(&self) -> StackPointer {
        StackPointer::new(self.inner.base().get() - META).expect("non-null stack base")
    }

    #[inline]
    fn limit(&self) -> StackPointer {
        self.inner.limit()
    }
}

impl PoolStack {
    fn map(size: usize) -> anyhow::Result<PoolStack> {
        let page = page_size();
        let too_big = || {
            RuntimeError::new(format!(
                "coroutine stack size {size} is larger than a stack can be"
            ))
        };
        // DefaultStack::new panics on overflow: check first.
        let rounded = size
            .checked_add(META + page - 1)
            .filter(|n| *n <= isize::MAX as usize / 2)
            .ok_or_else(too_big)?
            & !(page - 1);
        install_overflow_handler();
        let inner = DefaultStack::new(rounded).map_err(|e| map_error(rounded, e))?;
        let stack = PoolStack {
            inner,
            size: rounded - META,
        };
        let lo = stack.inner.limit().get();
        let end = stack.inner.base().get();
        GUARDS.with(|g| g.borrow_mut().insert(lo, (end, stack.size)));
        stack.set_owner("<idle>");
        Ok(stack)
    }

    fn name_slot(&self) -> *mut &'static str {
        (self.inner.base().get() - META) as *mut &'static str
    }

    /// Records who runs on this stack, for the overflow report.
    fn set_owner(&self, name: &'static str) {
        // SAFETY: the slot is inside the mapping, above the coroutine's base.
        unsafe { self.name_slot().write(name) }
    }

    fn lowest_usable(&self) -> usize {
        self.inner.limit().get() + page_size()
    }
}

impl Drop for PoolStack {
    fn drop(&mut self) {
        let lo = self.inner.limit().get();
        let _ = GUARDS.try_with(|g| g.borrow_mut().remove(&lo));
    }
}

fn map_error(size: usize, e: std::io::Error) -> anyhow::Error {
    if e.raw_os_error() == Some(libc::ENOMEM) {
        let max = std::fs::read_to_string("/proc/sys/vm/max_map_count")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "?".into());
        RuntimeError::new(format!(
            "cannot map a {size}-byte coroutine stack: {e}; too many live coroutines \
             (Linux allows vm.max_map_count = {max} memory mappings per process and each \
             coroutine stack takes 2) or not enough address space"
        ))
        .into()
    } else {
        RuntimeError::new(format!("cannot map a {size}-byte coroutine stack: {e}")).into()
    }
}

fn take_stack(size: usize) -> anyhow::Result<PoolStack> {
    let page = page_size();
    let want = size
        .checked_add(META + page - 1)
        .map(|n| (n & !(page - 1)) - META);
    let reused = POOL.with(|p| {
        let mut p = p.borrow_mut();
        let want = want?;
        let i = match p.free.last() {
            Some(s) if s.size == want => p.free.len() - 1,
            _ => p.free.iter().rposition(|s| s.size == want)?,
        };
        p.stats.reused += 1;
        Some(p.free.swap_remove(i))
    });
    if let Some(stack) = reused {
        return Ok(stack);
    }
    let stack = PoolStack::map(size)?;
    POOL.with(|p| p.borrow_mut().stats.mapped += 1);
    Ok(stack)
}

fn release_stack(stack: PoolStack) {
    stack.set_owner("<idle>");
    let _ = POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        if p.free.len() < POOL_LIMIT {
            p.free.push(stack);
        }
        // else: dropped here, unmapped
    });
}

static mut PREV_SEGV: mem::MaybeUninit<libc::sigaction> = mem::MaybeUninit::uninit();
static mut PREV_BUS: mem::MaybeUninit<libc::sigaction> = mem::MaybeUninit::uninit();

/// Installs the SIGSEGV/SIGBUS handler once per process and makes sure this thread has an
/// alternate signal stack (the faulting stack has no room left for the handler).
fn install_overflow_handler() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Learn the payload type now, outside any unwinding.
        forced_unwind_type_id();
        // SAFETY: plain sigaction calls; PREV_* are written once, before the handler runs.
        unsafe {
            let mut sa: libc::sigaction = mem::zeroed();
            sa.sa_sigaction = on_fault as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(libc::SIGSEGV, &sa, (&raw mut PREV_SEGV).cast());
            libc::sigaction(libc::SIGBUS, &sa, (&raw mut PREV_BUS).cast());
        }
    });
    if !ALTSTACK_CHECKED.replace(true) {
        // SAFETY: queries, then installs a leaked mapping if the thread has no altstack
        // (threads started by std already have one).
        unsafe {
            let mut old: libc::stack_t = mem::zeroed();
            libc::sigaltstack(std::ptr::null(), &mut old);
            if old.ss_flags & libc::SS_DISABLE != 0 {
                let len = 64 * 1024;
                let mem = libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                );
                if mem != libc::MAP_FAILED {
                    let st = libc::stack_t {
                        ss_sp: mem,
                        ss_flags: 0,
                        ss_size: len,
                    };
                    libc::sigaltstack(&st, std::ptr::null_mut());
                }
            }
        }
    }
}

/// Formats into a fixed buffer: a signal handler must not allocate.
struct FixedBuf {
    buf: [u8; 512],
    len: usize,
}

impl fmt::Write for FixedBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// The overflowing stack's (usable size, owner name), if `addr` is in one of this thread's
/// guard pages.
fn guard_hit(addr: usize) -> Option<(usize, &'static str)> {
    GUARDS
        .try_with(|g| {
            let g = g.try_borrow().ok()?;
            let (&lo, &(end, size)) = g.range(..=addr).next_back()?;
            if addr >= lo + page_size() {
                return None;
            }
            // SAFETY: the name slot of a live mapping, written at map time.
            let name = unsafe { *((end - META) as *const &'static str) };
            Some((size, name))
        })
        .ok()
        .flatten()
}

extern "C" fn on_fault(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    if let Some((size, name)) = guard_hit(addr) {
        use fmt::Write;
        let mut out = FixedBuf {
            buf: [0; 512],
            len: 0,
        };
        let _ = write!(
            out,
            "\ntulip: stack overflow in generator `{name}` (stack size {size} bytes = {} KiB); \
             give it a bigger stack with Generator::with_stack_size\n",
            size / 1024
        );
        // SAFETY: write(2) and abort(3) are async-signal-safe.
        unsafe {
            libc::write(2, out.buf.as_ptr().cast(), out.len);
            libc::abort();
        }
    }
    // Not a coroutine's guard page: put the previous handler back; returning re-runs the
    // faulting access under it (std's own overflow report, or the default action).
    // SAFETY: PREV_* were filled by sigaction before this handler was installed.
    unsafe {
        let prev = if sig == libc::SIGBUS {
            (&raw const PREV_BUS).cast::<libc::sigaction>()
        } else {
            (&raw const PREV_SEGV).cast::<libc::sigaction>()
        };
        libc::sigaction(sig, prev, std::ptr::null_mut());
    }
}
