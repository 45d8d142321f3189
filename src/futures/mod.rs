//! Futures (layer 5): asyncio's `Future`, bound to a loop.
//!
//! A future is pending until it gets a result, an exception or is cancelled; nothing ever
//! leaves a final state. Done callbacks never run inside `set_result`: each one is scheduled
//! with the loop's `call_soon`, in registration order (asyncio's rule R7). One failure reaches
//! every receiver as a [`SharedError`], which still downcasts with `ErrorExt::find`.

use std::cell::Cell;
use std::mem::ManuallyDrop;
use std::panic::Location;
use std::ptr;
use std::rc::Rc;

use anyhow::Result;

use crate::errors::{
    CancelledError, ErrorExt, InvalidStateError, RuntimeError, SharedError, StopIteration,
    TypeError,
};
use crate::event_loop::EventLoop;

mod cell;
mod done_callbacks;
mod drop;
mod repr;
mod waiting;

pub(crate) use cell::TrustCell;
pub use done_callbacks::CallbackId;
use done_callbacks::{Callback, Callbacks, Named, UserDone};
use waiting::WakeCall;
pub use waiting::{Awaitable, Suspend};
pub(crate) use waiting::{ChildDone, Park, Waitable, Wake};

enum State<T> {
    Pending,
    Finished(T),
    Failed(SharedError),
    Cancelled(Option<String>),
    /// A task that ended by its own CancelledError: the first `result()` re-raises it (then
    /// the state is `Cancelled(None)` and the message is gone, as in CPython).
    CancelledSaved(CancelledError),
    /// Finished or failed, and its one receiver took the outcome out (`co.join`, `run`).
    Taken,
}

/// One `result()` cloning a future's value (see `FutureCore::readers`); a guard, so that
/// a `clone` that unwinds is no longer counted either.
struct Reading<'a>(&'a Cell<u32>);

impl<'a> Reading<'a> {
    #[inline(always)]
    fn enter(readers: &'a Cell<u32>) -> Self {
        readers.set(readers.get() + 1);
        Reading(readers)
    }
}

impl Drop for Reading<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

/// What `result()` and `exception()` raise once the outcome was taken.
const TAKEN: &str = "Result already taken.";

/// What follows a future's own fields in its allocation: nothing for a plain future; a
/// task's own state for a task, so that a task and its result future are one allocation.
/// A `Future<T>` reaches its fields directly; only these two calls go through the tail's
/// vtable.
pub(crate) trait FutureTail<T: 'static>: 'static {
    /// How a task waits for this future (a task's own tail cancels as a task).
    fn waitable(&self, this: &Rc<FutureCore<T>>) -> Rc<dyn Waitable>;
    /// Runs first when the future is dropped (a pending task reports itself).
    fn on_drop(&self, _lp: &EventLoop, _pending: bool, _created: &'static Location<'static>) {}
    /// Drops a last handle, keeping the allocation for the next one of its layout.
    fn recycler(&self) -> fn(Rc<FutureCore<T>>);
}

impl<T: 'static> FutureTail<T> for () {
    fn waitable(&self, this: &Rc<FutureCore<T>>) -> Rc<dyn Waitable> {
        // SAFETY: this is the `()` tail's own impl, so the allocation holds a
        // `FutureCore<T, ()>`.
        unsafe { downcast_core::<T, ()>(this) }
    }

    fn recycler(&self) -> fn(Rc<FutureCore<T>>) {
        recycle_plain::<T>
    }
}

/// The concrete core behind a `Future<T>` handle whose tail type is known to be `X`.
///
/// # Safety
/// The allocation must hold a `FutureCore<T, X>` (callers are `X`'s own `FutureTail` impl).
pub(crate) unsafe fn downcast_core<T: 'static, X: FutureTail<T>>(
    this: &Rc<FutureCore<T>>,
) -> Rc<FutureCore<T, X>> {
    // SAFETY: the caller's contract.
    unsafe { downcast_owned(this.clone()) }
}

/// [`downcast_core`] taking the reference over.
///
/// # Safety
/// As for [`downcast_core`].
pub(crate) unsafe fn downcast_owned<T: 'static, X: FutureTail<T>>(
    this: Rc<FutureCore<T>>,
) -> Rc<FutureCore<T, X>> {
    let raw = Rc::into_raw(this);
    // SAFETY: per the contract, the data pointer is that of an `Rc<FutureCore<T, X>>` (the
    // cast only drops the tail's vtable).
    unsafe { Rc::from_raw(raw as *const FutureCore<T, X>) }
}

pub(crate) struct FutureCore<T: 'static, X: ?Sized + FutureTail<T> = dyn FutureTail<T>> {
    lp: EventLoop,
    /// Dropped by hand in `Drop`: most futures end with nothing in these to free.
    state: ManuallyDrop<TrustCell<State<T>>>,
    callbacks: ManuallyDrop<TrustCell<Callbacks<T>>>,
    /// Set with an exception, cleared once someone reads it: "never retrieved" otherwise.
    log_traceback: Cell<bool>,
    /// `result()` calls cloning the value (user code, which may re-enter): `take_result`
    /// must not move it meanwhile. Fits in padding.
    readers: Cell<u32>,
    /// What it is called in reports.
    kind: Cell<Kind>,
    /// Where it was created (`create_future`, `create_task`): shown in debug mode. A pointer
    /// to static data, so it is kept always (the task tree shows it too).
    pub(crate) created: &'static Location<'static>,
    /// Last, so that `Rc<FutureCore<T, X>>` coerces to the `dyn` tail of a `Future<T>`.
    pub(crate) tail: X,
}

/// What a future is called in reports (one byte, where a `&str` took two words).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Future,
    Task,
    Gathering,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Future => "Future",
            Kind::Task => "Task",
            Kind::Gathering => "_GatheringFuture",
        }
    }
}

impl<T: 'static, X: FutureTail<T>> FutureCore<T, X> {
    /// A pending future's fields followed by `tail` (not yet in an `Rc`).
    #[inline]
    #[track_caller]
    pub(crate) fn with_tail(lp: &EventLoop, kind: Kind, tail: X) -> Self {
        debug_assert_eq!(
            kind == Kind::Task,
            std::mem::size_of::<X>() != 0,
            "see is_plain"
        );
        FutureCore {
            lp: lp.clone(),
            state: ManuallyDrop::new(TrustCell::new(State::Pending)),
            callbacks: ManuallyDrop::new(TrustCell::new(Callbacks {
                first: None,
                rest: Vec::new(),
            })),
            log_traceback: Cell::new(false),
            readers: Cell::new(0),
            kind: Cell::new(kind),
            created: Location::caller(),
            tail,
        }
    }
}

/// The state queries, shared by `Future<T>` and tasks (which hold their core directly).
impl<T: 'static, X: ?Sized + FutureTail<T>> FutureCore<T, X> {
    pub(crate) fn event_loop(&self) -> &EventLoop {
        &self.lp
    }

    /// asyncio's ` created at FILE:LINE` at the end of a repr, in debug mode only.
    pub(crate) fn created_suffix(&self) -> String {
        if self.lp.get_debug() {
            format!(" created at {}", self.created)
        } else {
            String::new()
        }
    }

    /// Whether the tail is `()`: only a task's core has another tail, and is of kind Task.
    #[inline]
    fn is_plain(&self) -> bool {
        self.kind.get() != Kind::Task
    }

    pub(crate) fn done(&self) -> bool {
        !matches!(*self.state.borrow(), State::Pending)
    }

    pub(crate) fn cancelled(&self) -> bool {
        matches!(
            *self.state.borrow(),
            State::Cancelled(_) | State::CancelledSaved(_)
        )
    }

    /// The CancelledError to raise: a task's saved one once, then fresh ones.
    fn cancelled_error(&self) -> anyhow::Error {
        let mut state = self.state.borrow_mut();
        match std::mem::replace(&mut *state, State::Cancelled(None)) {
            State::CancelledSaved(exc) => anyhow::Error::new(exc),
            State::Cancelled(msg) => {
                let err = anyhow::Error::new(CancelledError::new(msg.clone()));
                *state = State::Cancelled(msg);
                err
            }
            _ => unreachable!("only called on a cancelled future"),
        }
    }

    /// A finished future's result, borrowed past the cell's borrow, so that user code (its
    /// `Clone`) may run while it is held, even code that calls this future. Hold a
    /// [`Reading`] while using it.
    #[inline(always)]
    fn finished_value(&self) -> Option<&T> {
        match &*self.state.borrow() {
            // SAFETY: the future lives as long as `&self`, and a final state is never
            // borrowed mutably again (see `TrustCell`) but by `take_result`, which refuses
            // while a `Reading` is held, as `result` (the one caller) holds one while it
            // uses this reference. So it stays valid and unaliased by any `&mut`.
            State::Finished(v) => Some(unsafe { &*ptr::from_ref(v) }),
            _ => None,
        }
    }

    #[inline]
    pub(crate) fn result(&self) -> Result<T>
    where
        T: Clone,
    {
        if let Some(v) = self.finished_value() {
            let _reading = Reading::enter(&self.readers);
            return Ok(v.clone());
        }
        self.result_slow()
    }

    /// Moves the outcome out for its one receiver: the value itself (no `Clone`), or the
    /// error as it was raised when nothing else shares it (so it downcasts with
    /// `downcast_ref` and keeps its backtrace). Other handles then get InvalidStateError.
    /// Pending, cancelled or already taken: as `result()`.
    pub(crate) fn take_result(&self) -> Result<T> {
        if self.readers.get() != 0 {
            // A `Clone` of the value, running `result()` further up this stack, re-entered.
            return Err(InvalidStateError::new("Result is being read.").into());
        }
        let taken = {
            let mut state = self.state.borrow_mut();
            match &*state {
                State::Finished(_) | State::Failed(_) => {
                    std::mem::replace(&mut *state, State::Taken)
                }
                _ => State::Pending,
            }
        };
        // No borrow held from here: the outcome is ours, nothing is dropped under it.
        match taken {
            State::Finished(v) => Ok(v),
            State::Failed(e) => {
                self.log_traceback.set(false);
                Err(e.into_error())
            }
            _ => self.result_slow(),
        }
    }

    #[inline(never)]
    fn result_slow(&self) -> Result<T> {
        match &*self.state.borrow() {
            State::Pending => return Err(InvalidStateError::new("Result is not set.").into()),
            State::Finished(_) => unreachable!("`result` returns a finished future's value"),
            State::Failed(e) => {
                self.log_traceback.set(false);
                return Err(e.to_error());
            }
            State::Taken => return Err(InvalidStateError::new(TAKEN).into()),
            State::Cancelled(_) | State::CancelledSaved(_) => {}
        }
        Err(self.cancelled_error())
    }

    pub(crate) fn exception(&self) -> Result<Option<anyhow::Error>> {
        match &*self.state.borrow() {
            State::Pending => return Err(InvalidStateError::new("Exception is not set.").into()),
            State::Finished(_) => return Ok(None),
            State::Failed(e) => {
                self.log_traceback.set(false);
                return Ok(Some(e.to_error()));
            }
            State::Taken => return Err(InvalidStateError::new(TAKEN).into()),
            State::Cancelled(_) | State::CancelledSaved(_) => {}
        }
        Err(self.cancelled_error())
    }

    /// Registers a task's wake-up; a wake-up needs no handle, so any holder of the core can.
    #[inline(always)] // into `park`: one dynamic call per wait, nothing under it
    pub(crate) fn add_waker_core(&self, w: Rc<dyn Wake>) {
        if self.done() {
            self.wake_soon(w);
        } else {
            self.callbacks.borrow_mut().push(Callback::Wake(w));
        }
    }

    /// Already done: the wake-up goes through `call_soon` all the same.
    #[cold]
    fn wake_soon(&self, w: Rc<dyn Wake>) {
        let _ = self.lp.schedule_callable(WakeCall(w));
    }

    pub(crate) fn clear_log_traceback(&self) {
        self.log_traceback.set(false);
    }

    fn state_word(&self) -> &'static str {
        match &*self.state.borrow() {
            State::Pending => "pending",
            State::Cancelled(_) | State::CancelledSaved(_) => "cancelled",
            State::Finished(_) | State::Failed(_) | State::Taken => "finished",
        }
    }
}

/// asyncio's `Future`: a cheap clonable handle; clones share one future.
pub struct Future<T: 'static>(pub(crate) ManuallyDrop<Rc<FutureCore<T>>>);

impl<T> Clone for Future<T> {
    fn clone(&self) -> Self {
        Future::from_core(Rc::clone(&self.0))
    }
}

impl<T> Drop for Future<T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the field is never used again.
        let core = unsafe { ManuallyDrop::take(&mut self.0) };
        if Rc::strong_count(&core) == 1 && Rc::weak_count(&core) == 0 {
            drop_last(core);
        }
        // Otherwise a count goes down, inline.
    }
}

/// The last reference to a future's allocation: drop it and keep the memory in the pool.
#[inline(never)]
fn drop_last<T: 'static>(core: Rc<FutureCore<T>>) {
    if core.is_plain() {
        // The `()` tail's recycler, without the dynamic call.
        recycle_plain(core)
    } else {
        let recycle = core.tail.recycler();
        recycle(core);
    }
}

/// Recycles a plain future (its tail is `()`).
#[inline(always)]
fn recycle_plain<T: 'static>(core: Rc<FutureCore<T>>) {
    // SAFETY: a plain future's allocation holds a `FutureCore<T, ()>`. The closure drops it
    // as its `Drop` would: when that has nothing to report or free (the `()` tail has no
    // `on_drop`), only the loop handle is left, the one other field with drop glue.
    unsafe {
        crate::recycle::recycle_with(downcast_owned::<T, ()>(core), |p| {
            if (*p).drops_trivially() {
                ptr::drop_in_place(&raw mut (*p).lp)
            } else {
                ptr::drop_in_place(p)
            }
        })
    }
}

impl EventLoop {
    /// `loop.create_future()`: a pending future bound to this loop. It remembers where it was
    /// called (see [`EventLoop::set_debug`]).
    #[track_caller]
    pub fn create_future<T: 'static>(&self) -> Future<T> {
        Future::new(self)
    }
}

impl<T: 'static> Future<T> {
    /// A pending future bound to `lp`.
    #[track_caller]
    pub fn new(lp: &EventLoop) -> Self {
        Future::from_core(crate::recycle::rc_new(FutureCore::with_tail(
            lp,
            Kind::Future,
            (),
        )))
    }

    /// A handle to a core (a plain future's or a task's).
    pub(crate) fn from_core(core: Rc<FutureCore<T>>) -> Self {
        Future(ManuallyDrop::new(core))
    }

    pub(crate) fn set_kind(&self, kind: Kind) {
        debug_assert!(self.0.is_plain() && kind != Kind::Task, "see is_plain");
        self.0.kind.set(kind);
    }

    /// Whether both handles are the same future (Python's `is`).
    pub fn ptr_eq(&self, other: &Future<T>) -> bool {
        std::ptr::addr_eq(Rc::as_ptr(&self.0), Rc::as_ptr(&other.0))
    }

    /// How a task waits for this future (a task's own future waits as the task).
    #[inline]
    pub(crate) fn waitable(&self) -> Rc<dyn Waitable> {
        if self.0.is_plain() {
            // SAFETY: a plain future's allocation holds a `FutureCore<T, ()>`.
            unsafe { downcast_core::<T, ()>(&self.0) }
        } else {
            self.0.tail.waitable(&self.0)
        }
    }

    /// The loop this future belongs to.
    pub fn get_loop(&self) -> &EventLoop {
        &self.0.lp
    }

    /// Whether the future has a result, an exception, or was cancelled.
    pub fn done(&self) -> bool {
        self.0.done()
    }

    /// Whether the future was cancelled.
    pub fn cancelled(&self) -> bool {
        self.0.cancelled()
    }

    /// `result()`: the value; the exception if one was set; `CancelledError` if cancelled;
    /// `InvalidStateError("Result is not set.")` while pending.
    pub fn result(&self) -> Result<T>
    where
        T: Clone,
    {
        self.0.result()
    }

    /// Takes the outcome out, for the future's one receiver (see `TaskCo::join`).
    pub(crate) fn take_result(&self) -> Result<T> {
        self.0.take_result()
    }

    /// `exception()`: the exception or `None`; `CancelledError` if cancelled;
    /// `InvalidStateError("Exception is not set.")` while pending.
    pub fn exception(&self) -> Result<Option<anyhow::Error>> {
        self.0.exception()
    }

    fn check_pending(&self) -> Result<()> {
        if self.done() {
            return Err(InvalidStateError::new("invalid state").into());
        }
        Ok(())
    }

    /// `set_result(v)`: finishes the future and schedules its callbacks.
    /// `InvalidStateError("invalid state")` if already done.
    #[inline]
    pub fn set_result(&self, value: T) -> Result<()> {
        // Look before the mutable borrow: a refused value is dropped (user code) with none.
        if self.done() {
            return Err(invalid_state());
        }
        *self.0.state.borrow_mut() = State::Finished(value);
        self.schedule_callbacks()
    }

    /// `set_exception(e)`: finishes the future with an error. A `StopIteration` is refused
    /// with asyncio's TypeError; an error that is already shared is not wrapped again.
    pub fn set_exception(&self, err: anyhow::Error) -> Result<()> {
        self.check_pending()?;
        if err.isinstance::<StopIteration>() {
            return Err(TypeError::new(
                "StopIteration interacts badly with generators and cannot be raised into a Future",
            )
            .into());
        }
        let shared = match err.downcast::<SharedError>() {
            Ok(shared) => shared,
            Err(err) => SharedError::new(err),
        };
        // Again: the class check above may run user code (an error's `source`).
        self.check_pending()?;
        *self.0.state.borrow_mut() = State::Failed(shared);
        self.0.log_traceback.set(true);
        self.schedule_callbacks()
    }

    /// `cancel(msg)`: cancels a pending future and schedules its callbacks; returns whether
    /// it did (false once done).
    pub fn cancel(&self, msg: Option<&str>) -> bool {
        self.0.log_traceback.set(false);
        if self.done() {
            return false;
        }
        *self.0.state.borrow_mut() = State::Cancelled(msg.map(str::to_string));
        // A closed loop drops the callbacks; cancel itself still succeeded.
        let _ = self.schedule_callbacks();
        true
    }

    /// `_cancel_message`: what a cancelled future was cancelled with (`cancel(msg)`), the
    /// message of the `CancelledError` it raises; `None` otherwise. A task that ended by its
    /// own CancelledError has none, as in CPython (gather reads it).
    pub fn cancel_message(&self) -> Option<String> {
        match &*self.0.state.borrow() {
            State::Cancelled(msg) => msg.clone(),
            _ => None,
        }
    }

    /// `fut._cancel_message = msg`: the message the `CancelledError`s of a cancelled future
    /// carry from now on. A pending or finished future has no use for one (`cancel(msg)`
    /// sets it), so this does nothing there.
    pub fn set_cancel_message(&self, msg: Option<&str>) {
        let mut state = self.0.state.borrow_mut();
        if let State::Cancelled(m) = &mut *state {
            *m = msg.map(str::to_string);
        }
    }

    /// A task ending with its own CancelledError: cancelled, the error kept for `result()`.
    pub(crate) fn cancel_with(&self, exc: CancelledError) -> Result<()> {
        self.check_pending()?;
        *self.0.state.borrow_mut() = State::CancelledSaved(exc);
        self.schedule_callbacks()
    }

    fn next_id(&self) -> CallbackId {
        CallbackId::next()
    }

    /// `add_done_callback(fn)`: `fn(&future)` runs through `call_soon` once the future is done
    /// (at once, through `call_soon`, if it already is).
    pub fn add_done_callback(&self, f: impl FnOnce(&Future<T>) + 'static) -> CallbackId {
        self.add_named_callback(f, None)
    }

    /// `add_done_callback` with the name asyncio gives the callback (`run_until_complete`'s
    /// is `_run_until_complete_cb`), for reprs.
    pub(crate) fn add_named_callback(
        &self,
        f: impl FnOnce(&Future<T>) + 'static,
        name: Option<&'static str>,
    ) -> CallbackId {
        let id = self.next_id();
        let cb = if crate::contextvars::in_use() {
            // asyncio: the callback runs in a copy of the context current now; reports still
            // name the user's callback, not this wrapper.
            let vars = crate::contextvars::capture();
            let name = Some(name.unwrap_or(std::any::type_name_of_val(&f)));
            let f = move |fut: &Future<T>| crate::contextvars::run_in(vars, || f(fut));
            Callback::User(id, Box::new(Named { f, name }))
        } else {
            Callback::User(id, Box::new(Named { f, name }))
        };
        if self.done() {
            let _ = self.schedule(cb);
        } else {
            self.0.callbacks.borrow_mut().push(cb);
        }
        id
    }

    /// `remove_done_callback(fn)`: removes the registration; returns how many were removed.
    pub fn remove_done_callback(&self, id: CallbackId) -> usize {
        let is_it = |cb: &Callback<T>| matches!(cb, Callback::User(x, _) if *x == id);
        // The removed closures are dropped after the list is released (a drop is user code).
        let mut removed = Vec::new();
        {
            let mut cbs = self.0.callbacks.borrow_mut();
            if cbs.first.as_ref().is_some_and(is_it) {
                removed.extend(cbs.first.take());
            }
            let rest = std::mem::take(&mut cbs.rest);
            for cb in rest {
                if is_it(&cb) {
                    removed.push(cb);
                } else {
                    cbs.rest.push(cb);
                }
            }
            if cbs.first.is_none() && !cbs.rest.is_empty() {
                cbs.first = Some(cbs.rest.remove(0));
            }
        }
        removed.len()
    }

    pub(crate) fn add_waker(&self, w: Rc<dyn Wake>) {
        self.0.add_waker_core(w)
    }

    /// Registers a combinator's per-child callback (see [`ChildDone`]).
    pub(crate) fn add_child_callback(&self, c: Rc<dyn ChildDone<T>>, slot: usize) {
        let cb = Callback::Child(c, slot);
        if self.done() {
            let _ = self.schedule(cb);
        } else {
            self.0.callbacks.borrow_mut().push(cb);
        }
    }

    /// Whether the future has a result (done, neither failed nor cancelled). Unlike
    /// `exception()`, asking marks nothing retrieved: a [`ChildDone`] looks before it reads.
    pub(crate) fn returned(&self) -> bool {
        matches!(*self.0.state.borrow(), State::Finished(_))
    }

    #[inline(never)]
    fn schedule(&self, cb: Callback<T>) -> Result<()> {
        match cb {
            // Two words: the loop keeps it inline, no allocation per wake-up.
            Callback::Wake(w) => self.0.lp.schedule_callable(WakeCall(w)),
            Callback::Child(c, slot) => c.child_done_soon(slot, self),
            Callback::User(_, f) => {
                let fut = self.clone();
                self.0.lp.schedule_callable(UserDone { f, fut })
            }
        }
    }

    #[inline(always)] // on the handoff path: the caller's future is already at hand
    #[allow(clippy::drop_non_drop)] // a release build's borrow guard has no drop glue
    fn schedule_callbacks(&self) -> Result<()> {
        let mut cbs = self.0.callbacks.borrow_mut();
        let first = cbs.first.take();
        if cbs.rest.is_empty() {
            // Most futures have one waiter, a task: one push, no Vec touched.
            drop(cbs);
            return match first {
                Some(Callback::Wake(w)) => self.0.lp.schedule_callable(WakeCall(w)),
                Some(cb) => self.schedule(cb),
                None => Ok(()),
            };
        }
        let rest = std::mem::take(&mut cbs.rest);
        drop(cbs);
        self.schedule_all(first, rest)
    }

    #[cold]
    fn schedule_all(&self, first: Option<Callback<T>>, rest: Vec<Callback<T>>) -> Result<()> {
        // Registration order; a closed loop refuses them all (after the state changed).
        if let Some(cb) = first {
            self.schedule(cb)?;
        }
        for cb in rest {
            self.schedule(cb)?;
        }
        Ok(())
    }
}

#[cold]
fn invalid_state() -> anyhow::Error {
    InvalidStateError::new("invalid state").into()
}

impl EventLoop {
    /// `run_until_complete(fut)`: runs the loop until `fut` is done and returns its result.
    /// The loop stops through a done callback, so it costs one iteration after completion
    /// (as asyncio).
    ///
    /// # Errors
    ///
    /// - `aw`'s own error (`CancelledError` if it was cancelled).
    /// - `RuntimeError("Event loop stopped before Future completed.")` if stopped earlier.
    /// - `ValueError("The future belongs to a different loop ...")` for another loop's future.
    /// - [`EventLoop::run_forever`]'s errors (a closed or already running loop).
    pub fn run_until_complete<A: Awaitable>(&self, aw: &A) -> Result<A::Output>
    where
        A::Output: Clone,
    {
        let fut = aw.future();
        self.run_until_done(fut)?;
        fut.result()
    }

    /// `run_until_complete` up to the result: runs the loop until `fut` is done.
    pub(crate) fn run_until_done<T: 'static>(&self, fut: &Future<T>) -> Result<()> {
        if fut.get_loop() != self {
            return Err(crate::errors::ValueError::new(
                "The future belongs to a different loop than the one specified as the loop argument",
            )
            .into());
        }
        if self.is_closed() {
            return Err(RuntimeError::new("Event loop is closed").into());
        }
        let lp = self.clone();
        let id = fut.add_named_callback(
            move |f| {
                // asyncio's `_run_until_complete_cb`: a SystemExit or KeyboardInterrupt already
                // stopped the loop; this callback, left queued, must not stop the next run.
                if !f.cancelled()
                    && let Ok(Some(e)) = f.exception()
                    && crate::errors::leaves_the_loop(&e)
                {
                    return;
                }
                lp.stop()
            },
            Some("_run_until_complete_cb"),
        );
        let run = self.run_forever();
        if run.is_err() && fut.done() && !fut.cancelled() {
            // A task that raised SystemExit or KeyboardInterrupt: the caller gets the error,
            // so the task's copy is retrieved (asyncio does the same).
            let _ = fut.exception();
        }
        fut.remove_done_callback(id);
        run?;
        if !fut.done() {
            return Err(RuntimeError::new("Event loop stopped before Future completed.").into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
