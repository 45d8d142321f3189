//! Tasks (layer 7): asyncio's `Task`, which drives a coroutine from loop callbacks.
//!
//! A task's coroutine is a [`Generator`] that yields [`Suspend`]: a future to wait for, or
//! nothing (a bare yield). Each step resumes it; a yielded future gets the task's wake-up as
//! a done callback; the wake-up steps again. The task is itself a future of the body's return
//! value. Cancellation follows asyncio exactly: the awaited future is cancelled and the
//! `CancelledError` reaches the body at its wait, or, when nothing can be cancelled,
//! `_must_cancel` delivers it at the next step.
//!
//! Invariant: a pending task is owned by whatever will step it next (the ready queue, or the
//! done-callback list of the future it waits for); the loop's registry only holds plain
//! pointers (a task leaves it before it is freed), and `close()` unwinds the stacks of tasks
//! still pending, so nothing leaks.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::Location;
use std::ptr::NonNull;
use std::rc::Rc;

use anyhow::Result;

use crate::callbacks::{Callable, Subject};
use crate::contextvars::{self, Context};
use crate::errors::{CancelledError, ErrorExt, RuntimeError};
use crate::event_loop::{EventLoop, ExceptionContext, get_running_loop, write_source};
use crate::futures::{
    Awaitable, CallbackId, Future, FutureCore, FutureTail, Park, Suspend, Waitable, Wake,
    downcast_core, downcast_owned,
};
use crate::generator::{Co, GeneratorState};

mod body;
#[cfg(feature = "nightly")]
pub(crate) mod stackless;
use body::TaskBody;

/// The coroutine handle a task's body receives: `co.wait(&fut)` is Python's `await fut`.
pub type TaskCo = Co<Suspend, ()>;

mod coroutine;
pub use coroutine::Coroutine;

impl Co<Suspend, ()> {
    /// `await aw` (or `yield from fut`): suspends the task until `aw` is done and returns its
    /// result or its error. A done future returns at once without suspending. Works from any
    /// plain function the handle is passed to.
    ///
    /// While the task is suspended here, other tasks run: do not hold a `RefCell` borrow (or
    /// any guard) across this call, or another task that borrows the same cell panics with
    /// "already borrowed". Copy what you need out, let the borrow end, then wait: see
    /// [the suspension hazard](crate#the-suspension-hazard). The same holds for every
    /// function that takes `co`.
    ///
    /// Where it is called is recorded when it suspends (`#[track_caller]`), for
    /// [`EventLoop::format_task_tree`] and [`format_call_graph`](crate::format_call_graph).
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> anyhow::Result<()> {
    /// use std::time::Duration;
    ///
    /// use tulip::{ErrorExt, ValueError, get_running_loop};
    ///
    /// let total = tulip::run(|co| {
    ///     let lp = get_running_loop()?;
    ///     let fut = lp.create_future::<i32>();
    ///     let setter = fut.clone();
    ///     lp.call_later(Duration::from_millis(1), move || setter.set_result(40).unwrap())?;
    ///     let x = co.wait(&fut)?; // asyncio: x = await fut
    ///
    ///     let task = lp.create_task(|_co| Ok(2))?;
    ///     let y = co.wait(&task)?; // y = await task
    ///
    ///     let failing = lp.create_task(|_co| -> anyhow::Result<i32> {
    ///         Err(ValueError::new("bad input").into()) // raise ValueError("bad input")
    ///     })?;
    ///     let err = co.wait(&failing).unwrap_err(); // except ValueError as err
    ///     assert!(err.isinstance::<ValueError>());
    ///     Ok(x + y)
    /// })?;
    /// assert_eq!(total, 42);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// - `aw`'s own error; `CancelledError` if `aw` was cancelled.
    /// - `CancelledError` when the waiting task is cancelled (`aw` is cancelled with it).
    /// - `RuntimeError("Task cannot await on itself: ...")`, or `RuntimeError("Task ... got
    ///   Future ... attached to a different loop")`.
    #[inline(always)] // no call/ret around the stack switch (see `Co::yield_`)
    #[track_caller] // the task tree shows where a task waits
    pub fn wait<A: Awaitable>(&self, aw: &A) -> Result<A::Output>
    where
        A::Output: Clone,
    {
        self.wait_as(aw, WaitKind::Wait)
    }

    /// `wait`, recording the caller's location and `what` (which helper waits) as the task's
    /// wait site.
    #[inline(always)]
    #[track_caller]
    pub(crate) fn wait_as<A: Awaitable>(&self, aw: &A, what: WaitKind) -> Result<A::Output>
    where
        A::Output: Clone,
    {
        let fut = aw.future();
        if !fut.done() {
            set_wait_site(what);
            self.yield_(aw.suspend())?;
            if !fut.done() {
                return Err(RuntimeError::new("await wasn't used with future").into());
            }
        }
        fut.result()
    }

    /// `await task` for the task's one awaiter: suspends until `aw` is done, then takes its
    /// outcome out. The value is moved, not cloned, so any `T` will do (a `File`, a
    /// `Box<dyn Any>`); an error comes back as it was raised, so `downcast_ref` finds it
    /// and its backtrace is the one captured where it was made. Cancellation is as with
    /// [`wait`](Co::wait): cancelling the joining task cancels `aw`.
    ///
    /// The handle is consumed. Other handles to the same task or future (clones) still see
    /// it done, but `result()` and `exception()` through them raise
    /// `InvalidStateError("Result already taken.")`; to share a result among several
    /// awaiters, use [`wait`](Co::wait) (with `T: Clone`).
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> anyhow::Result<()> {
    /// use std::fs::File;
    ///
    /// use tulip::get_running_loop;
    ///
    /// #[derive(Debug)]
    /// struct NotMine(u32);
    /// impl std::fmt::Display for NotMine {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///         write!(f, "not mine: {}", self.0)
    ///     }
    /// }
    /// impl std::error::Error for NotMine {}
    ///
    /// let file = tulip::run(|co| {
    ///     let lp = get_running_loop()?;
    ///     // A File is not Clone: `co.wait` would not compile here.
    ///     let opener = lp.create_task(|_co| Ok(File::open("Cargo.toml")?))?;
    ///     let file: File = co.join(opener)?; // file = await opener
    ///
    ///     let failing = lp.create_task(|_co| -> anyhow::Result<()> { Err(NotMine(7).into()) })?;
    ///     let err = co.join(failing).unwrap_err();
    ///     assert_eq!(err.downcast_ref::<NotMine>().map(|e| e.0), Some(7)); // the error raised
    ///     Ok(file)
    /// })?;
    /// assert!(file.metadata()?.is_file());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// - `aw`'s own error; `CancelledError` if `aw` was cancelled.
    /// - `CancelledError` when the joining task is cancelled (`aw` is cancelled with it).
    /// - `InvalidStateError("Result already taken.")` if a clone of the handle was joined.
    /// - As [`wait`](Co::wait): awaiting the task itself, or another loop's future.
    #[track_caller] // the task tree shows where a task waits, as for `wait`
    pub fn join<A: Awaitable>(&self, aw: A) -> Result<A::Output> {
        let fut = aw.future();
        if !fut.done() {
            set_wait_site(WaitKind::Join);
            self.yield_(aw.suspend())?;
            if !fut.done() {
                return Err(RuntimeError::new("await wasn't used with future").into());
            }
        }
        fut.take_result()
    }

    /// A bare `yield`: gives up exactly one loop iteration (`asyncio.sleep(0)`).
    ///
    /// # Errors
    ///
    /// `CancelledError` when the task is cancelled meanwhile.
    #[inline(always)] // no call/ret around the stack switch (see `Co::yield_`)
    pub fn yield_now(&self) -> Result<()> {
        // No wait site: a task at a bare yield is ready to run (and this is the hot path).
        self.yield_(Suspend(None))
    }
}

/// Where a task's body suspended, for the task tree: the caller of `co.wait` (or of the
/// helper that waited, `what`).
#[derive(Clone, Copy)]
pub(crate) struct WaitSite {
    pub(crate) at: &'static Location<'static>,
    pub(crate) what: WaitKind,
}

/// Which helper a task waits in (one byte: the wait site stays two words).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum WaitKind {
    /// `co.wait` itself.
    Wait,
    /// `co.join`.
    Join,
    Sleep,
    LockAcquire,
    EventWait,
    ConditionWait,
    SemaphoreAcquire,
    QueueGet,
    QueuePut,
}

impl WaitKind {
    /// The helper's name as the task tree shows it (`Lock.acquire`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            WaitKind::Wait => "co.wait",
            WaitKind::Join => "co.join",
            WaitKind::Sleep => "sleep",
            WaitKind::LockAcquire => "Lock.acquire",
            WaitKind::EventWait => "Event.wait",
            WaitKind::ConditionWait => "Condition.wait",
            WaitKind::SemaphoreAcquire => "Semaphore.acquire",
            WaitKind::QueueGet => "Queue.get",
            WaitKind::QueuePut => "Queue.put",
        }
    }
}

thread_local! {
    /// Set right before a body suspends, taken by its step right after: a pointer store per
    /// wait, cheaper than finding the task from `co`.
    static WAIT_SITE: Cell<Option<WaitSite>> = const { Cell::new(None) };
}

#[inline(always)]
#[track_caller]
fn set_wait_site(what: WaitKind) {
    let at = Location::caller();
    WAIT_SITE.set(Some(WaitSite { at, what }));
}

/// What the loop keeps per task, type-erased: the registry and `current_task`.
pub(crate) trait TaskAny {
    fn name(&self) -> String;
    fn set_name(&self, name: String);
    fn cancel(&self, msg: Option<&str>) -> bool;
    fn cancelling(&self) -> u32;
    fn uncancel(&self) -> u32;
    fn is_done(&self) -> bool;
    fn is_cancelled(&self) -> bool;
    fn repr(&self) -> String;
    /// The loop closes while this task is pending: report it and unwind its stack.
    fn abandon(&self);
    /// Runs `f` through `call_soon` once the task is done.
    fn on_done(self: Rc<Self>, f: Box<dyn FnOnce()>);
    /// The error the task failed with (retrieving it), `None` otherwise.
    fn exception_if_failed(&self) -> Option<anyhow::Error>;
    /// Where it was created, where it waits and on what, for the task tree.
    fn snapshot(&self) -> TaskSnapshot;
    /// Its loop.
    fn loop_handle(&self) -> EventLoop;
}

/// A pending task as the task tree sees it.
pub(crate) struct TaskSnapshot {
    pub(crate) name: String,
    pub(crate) created: &'static Location<'static>,
    pub(crate) wait_site: Option<WaitSite>,
    pub(crate) waiting_on: Option<Rc<dyn Waitable>>,
}

/// Per-loop task bookkeeping, kept in the loop's extension slot.
#[derive(Default)]
pub(crate) struct Tasks {
    /// The task whose step is running. A plain pointer, so a step costs no reference count:
    /// it is set only while that step runs, and the step holds an `Rc` of the task.
    current: Cell<Option<*const dyn TaskAny>>,
    /// Pending tasks by slot; a free list recycles slots (no hashing per task). Plain
    /// pointers: a task leaves before it is freed (at its end, or first thing in its drop),
    /// so every entry is alive, and no weak count is paid per task.
    registry: RefCell<Registry>,
    hooked: Cell<bool>,
}

/// The registry's slots; the free ones form a list through `Entry::Free`.
#[derive(Default)]
struct Registry {
    slots: Vec<Entry>,
    /// The first free slot, if any.
    free: Option<usize>,
}

enum Entry {
    Task(NonNull<dyn TaskAny>),
    /// A free slot and the next free one.
    Free(Option<usize>),
}

/// A task's slot once it left the registry.
const NO_SLOT: usize = usize::MAX;

impl Tasks {
    #[inline]
    fn for_loop(lp: &EventLoop) -> Rc<Tasks> {
        let tasks = lp.extension::<Tasks>();
        if !tasks.hooked.get() {
            tasks.hook(lp);
        }
        tasks
    }

    /// On the loop's first task: pending tasks are abandoned when it closes.
    #[cold]
    fn hook(&self, lp: &EventLoop) {
        self.hooked.set(true);
        lp.add_close_hook(|lp| {
            let tasks = lp.extension::<Tasks>();
            for t in tasks.pending() {
                t.abandon();
            }
        });
    }

    fn register(&self, t: NonNull<dyn TaskAny>) -> usize {
        let mut reg = self.registry.borrow_mut();
        match reg.free {
            Some(slot) => {
                let Entry::Free(next) = reg.slots[slot] else {
                    unreachable!("the free list holds free slots")
                };
                reg.free = next;
                reg.slots[slot] = Entry::Task(t);
                slot
            }
            None => {
                reg.slots.push(Entry::Task(t));
                reg.slots.len() - 1
            }
        }
    }

    /// Takes the task in `slot` out (once: the caller then forgets the slot).
    fn unregister(&self, slot: usize) {
        if slot == NO_SLOT {
            return;
        }
        let mut reg = self.registry.borrow_mut();
        let next = reg.free;
        reg.slots[slot] = Entry::Free(next);
        reg.free = Some(slot);
    }

    fn pending(&self) -> Vec<Rc<dyn TaskAny>> {
        let reg = self.registry.borrow();
        reg.slots
            .iter()
            .filter_map(|e| match e {
                // SAFETY: a registered task is alive (see `registry`); this makes one more
                // strong reference.
                Entry::Task(p) => Some(unsafe {
                    Rc::increment_strong_count(p.as_ptr());
                    Rc::from_raw(p.as_ptr())
                }),
                Entry::Free(_) => None,
            })
            .filter(|t| !t.is_done())
            .collect()
    }
}

/// Restores the previous current task when a step ends, however it ends.
struct CurrentGuard<'a> {
    tasks: &'a Tasks,
    prev: Option<*const dyn TaskAny>,
}

impl Drop for CurrentGuard<'_> {
    fn drop(&mut self) {
        self.tasks.current.set(self.prev);
    }
}

static TASK_COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// What most tasks never set: one box, made on first use, so that a task is a few dozen
/// bytes smaller (a million suspended stackless tasks stay under half a KiB each).
#[derive(Default)]
struct Cold {
    /// Set by `set_name`; `Task-{number}` until then.
    name: Option<String>,
    cancel_msg: Option<String>,
    /// The message of the last `cancel(msg)` that went to the awaited future: the
    /// `CancelledError` the body saw there, for the `__context__` of an error it raises.
    waiter_cancel_msg: Option<Box<str>>,
    /// An error to throw in at the next step (a bad await).
    pending_exc: Option<anyhow::Error>,
}

/// A task's own state; it lives in the same allocation as its result future
/// (`TaskCore<T>` is that future with this tail).
pub(crate) struct TaskPart<T: 'static> {
    tasks: Rc<Tasks>,
    /// The coroutine; `None` once it finished (its stack went back to the pool).
    coro: RefCell<Option<TaskBody<T>>>,
    must_cancel: Cell<bool>,
    log_destroy_pending: Cell<bool>,
    num_cancels: Cell<u32>,
    slot: Cell<usize>,
    /// The future this task waits for, to forward `cancel()` to it.
    fut_waiter: Cell<Option<Rc<dyn Waitable>>>,
    /// The `N` of its default name `Task-N`.
    number: u64,
    /// See [`Cold`]; `None` until one of its fields is set.
    cold: Cell<Option<Box<Cold>>>,
    /// Where the body last suspended on a future (see [`WaitSite`]); stale while
    /// `fut_waiter` is `None`.
    wait_site: Cell<Option<WaitSite>>,
    /// The context each step runs in (asyncio's `Task._context`); `None` while empty.
    context: Cell<Option<Context>>,
}

/// A task: its result future followed by its own state, one allocation.
type TaskCore<T> = FutureCore<T, TaskPart<T>>;

/// asyncio's `Task`: a cheap clonable handle to a coroutine driven by the loop; it completes
/// with the body's return value.
pub struct Task<T: 'static> {
    core: Rc<TaskCore<T>>,
    /// The same allocation seen as a plain future (for `future()` and the helpers).
    fut: Future<T>,
}

impl<T> Clone for Task<T> {
    fn clone(&self) -> Self {
        Task {
            core: self.core.clone(),
            fut: self.fut.clone(),
        }
    }
}

impl EventLoop {
    /// `loop.create_task(coro)`: a task running `body`, whose first step is scheduled with
    /// `call_soon`. The stack is taken at the first step, not here.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> anyhow::Result<()> {
    /// use std::time::Duration;
    ///
    /// use tulip::{EventLoop, sleep};
    ///
    /// let lp = EventLoop::new()?;
    /// // asyncio: task = loop.create_task(compute())
    /// let task = lp.create_task(|co| {
    ///     sleep(co, Duration::from_millis(1))?; // await asyncio.sleep(0.001)
    ///     Ok(6 * 7)
    /// })?;
    /// assert!(!task.done()); // only its first step is scheduled
    /// assert_eq!(lp.run_until_complete(&task)?, 42); // loop.run_until_complete(task)
    /// assert_eq!(task.result()?, 42);
    /// lp.close()?;
    /// # Ok(()) }
    /// ```
    ///
    /// Inside a task, [`get_running_loop`] gives the loop (`asyncio.create_task(coro)`).
    ///
    /// # Errors
    ///
    /// `RuntimeError("Event loop is closed")` on a closed loop.
    #[track_caller] // the task remembers where it was created
    pub fn create_task<T: 'static>(
        &self,
        body: impl FnOnce(&TaskCo) -> Result<T> + 'static,
    ) -> Result<Task<T>> {
        self.create_task_from(Coroutine::new(body))
    }

    /// `create_task` for a generator-style coroutine made beforehand.
    ///
    /// # Errors
    ///
    /// `RuntimeError("Event loop is closed")` on a closed loop.
    #[track_caller]
    pub fn create_task_from<T: 'static>(&self, coro: Coroutine<T>) -> Result<Task<T>> {
        // asyncio: the task runs in a copy of the context current at its creation.
        self.create_task_body(TaskBody::Stackful(coro))
    }

    /// `loop.create_task(coro, context=ctx)`: the task's steps run in `ctx` itself (not a
    /// copy), so what the body sets stays in `ctx`.
    ///
    /// # Errors
    ///
    /// `RuntimeError("Event loop is closed")` on a closed loop.
    #[track_caller]
    pub fn create_task_in<T: 'static>(
        &self,
        ctx: &Context,
        body: impl FnOnce(&TaskCo) -> Result<T> + 'static,
    ) -> Result<Task<T>> {
        self.create_task_with(TaskBody::Stackful(Coroutine::new(body)), Some(ctx.clone()))
    }

    /// `create_task` for a coroutine of either backend, in a copy of the current context
    /// (asyncio: the task runs in the context current at its creation).
    #[track_caller]
    fn create_task_body<T: 'static>(&self, coro: TaskBody<T>) -> Result<Task<T>> {
        let ctx = contextvars::in_use().then(|| Context::from_vars(contextvars::capture()));
        self.create_task_with(coro, ctx)
    }

    #[track_caller]
    fn create_task_with<T: 'static>(
        &self,
        coro: TaskBody<T>,
        context: Option<Context>,
    ) -> Result<Task<T>> {
        if self.is_closed() {
            return Err(RuntimeError::new("Event loop is closed").into());
        }
        let n = TASK_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let part = TaskPart {
            tasks: Tasks::for_loop(self),
            coro: RefCell::new(Some(coro)),
            must_cancel: Cell::new(false),
            log_destroy_pending: Cell::new(true),
            num_cancels: Cell::new(0),
            slot: Cell::new(NO_SLOT),
            fut_waiter: Cell::new(None),
            number: n,
            cold: Cell::new(None),
            wait_site: Cell::new(None),
            context: Cell::new(context),
        };
        let core = crate::recycle::rc_new(FutureCore::with_tail(
            self,
            crate::futures::Kind::Task,
            part,
        ));
        let me: NonNull<dyn TaskAny> = NonNull::from(&*core as &dyn TaskAny);
        core.tail.slot.set(core.tail.tasks.register(me));
        let first = core.clone();
        self.schedule_callable(Step(first))?;
        let fut = core.handle();
        Ok(Task { core, fut })
    }
}

impl<T: 'static> TaskCore<T> {
    /// This task seen as its result future (same allocation).
    fn handle(self: &Rc<Self>) -> Future<T> {
        Future::from_core(self.clone())
    }

    /// One step: resume the coroutine (or throw into it), then act on what it yielded.
    fn step(self: Rc<Self>) {
        // A task is done only after its coroutine is gone (`finish`), so one test covers both.
        if self.tail.coro.borrow().is_none() {
            return;
        }
        debug_assert!(
            !self.done(),
            "a task that still has its coroutine is pending"
        );
        let mut exc = self.tail.read_cold(|c| c.pending_exc.take()).flatten();
        if self.tail.must_cancel.replace(false)
            && !exc
                .as_ref()
                .is_some_and(|e| e.isinstance::<CancelledError>())
        {
            exc = Some(CancelledError::new(self.tail.cancel_msg()).into());
        }
        self.tail.fut_waiter.set(None);

        let me: *const dyn TaskAny = Rc::as_ptr(&self) as *const TaskCore<T>;
        let _current = CurrentGuard {
            tasks: &self.tail.tasks,
            prev: self.tail.tasks.current.replace(Some(me)),
        };
        let resume = || {
            // A shared borrow only: the body may cancel this task, which never touches `coro`.
            let coro = self.tail.coro.borrow();
            let c = coro.as_ref().expect("checked above");
            match exc {
                None => c.send(),
                Some(e) => c.throw(e),
            }
        };
        let outcome = if contextvars::in_use() {
            // The step runs in the task's context (one load when context variables are
            // never used).
            contextvars::run_swapped(&self.tail.context, resume)
        } else {
            let out = resume();
            if contextvars::in_use() {
                // The body made the first context variable: what it set is the task's.
                contextvars::adopt(&self.tail.context);
            }
            out
        };
        drop(_current);

        match outcome {
            Ok(GeneratorState::Yielded(Suspend(None))) => {
                // A bare yield: the next step reuses this `Rc` (no count up and down).
                let lp: *const EventLoop = self.event_loop();
                // SAFETY: `lp` is a field of the task, which the closure keeps alive by
                // owning `self`; moving the `Rc` does not move the task.
                let _ = unsafe { &*lp }.schedule_callable(Step(self));
            }
            Ok(GeneratorState::Yielded(Suspend(Some(w)))) => self.wait_for(w),
            Ok(GeneratorState::Returned(v)) => {
                self.finish();
                if self.tail.must_cancel.replace(false) {
                    // Cancelled right before the body returned: cancel wins.
                    let msg = self.tail.cancel_msg();
                    self.handle().cancel(msg.as_deref());
                } else {
                    let _ = self.handle().set_result(v);
                }
            }
            Err(e) => {
                self.finish();
                match e.exc::<CancelledError>() {
                    Some(c) => {
                        let _ = self.handle().cancel_with(c.clone());
                    }
                    None => {
                        let e = self.cancel_context(e);
                        if crate::errors::leaves_the_loop(&e) {
                            return self.escape(e);
                        }
                        let _ = self.handle().set_exception(e);
                    }
                }
            }
        }
    }

    /// A task being cancelled failed with another error: the body was handling the
    /// `CancelledError` its wait raised, which becomes the error's `__context__` (a
    /// `CancelledError` thrown in by a step has been recorded by the coroutine already).
    #[cold]
    fn cancel_context(&self, e: anyhow::Error) -> anyhow::Error {
        if self.tail.num_cancels.get() == 0 || crate::errors::context(&e).is_some() {
            return e;
        }
        let msg = self
            .tail
            .read_cold(|c| c.waiter_cancel_msg.take())
            .flatten();
        let msg = msg.map(String::from);
        crate::errors::with_context(e, CancelledError::new(msg).into())
    }

    /// The coroutine yielded a future: wake up when it is done (asyncio's checks first).
    fn wait_for(self: Rc<Self>, w: Rc<dyn Waitable>) {
        // Set by the `co.wait` that suspended the body (none for a bare `co.yield_`).
        self.tail.wait_site.set(WAIT_SITE.take());
        let me = Rc::as_ptr(&self) as *const ();
        match w.park(self.event_loop(), me, self.clone()) {
            Park::Parked => {}
            Park::OtherLoop => {
                let msg = format!(
                    "Task {} got Future {} attached to a different loop",
                    self.repr(),
                    w.describe()
                );
                return self.retry_with(msg);
            }
            Park::OwnTask => {
                let msg = format!("Task cannot await on itself: {}", self.repr());
                return self.retry_with(msg);
            }
        }
        if !self.tail.must_cancel.get() {
            self.tail.fut_waiter.set(Some(w));
            return;
        }
        self.tail.fut_waiter.set(Some(w.clone()));
        let msg = self.tail.cancel_msg();
        if w.cancel_waitable(msg.as_deref()) {
            self.tail.must_cancel.set(false);
        }
    }

    /// asyncio's `Task.__step` for `SystemExit` and `KeyboardInterrupt`: the task fails with
    /// the error, and the error leaves the loop (`run_forever` returns it at once).
    #[cold]
    fn escape(self: Rc<Self>, e: anyhow::Error) {
        let shared = crate::errors::SharedError::new(e);
        let _ = self.handle().set_exception(shared.to_error());
        drop(self);
        // Not a panic: the batch runner takes it back and returns the error (no hook runs).
        std::panic::resume_unwind(Box::new(crate::callbacks::Escape(shared.into_error())));
    }

    /// A bad await: the RuntimeError is thrown in at the next step.
    #[cold]
    fn retry_with(self: Rc<Self>, msg: String) {
        self.tail
            .cold(|c| c.pending_exc = Some(RuntimeError::new(msg).into()));
        let lp = self.event_loop().clone();
        let _ = lp.schedule_callable(Step(self));
    }

    /// The body ended: free its stack and leave the registry.
    fn finish(&self) {
        let coro = self.tail.coro.borrow_mut().take();
        drop(coro);
        self.tail.tasks.unregister(self.tail.slot.replace(NO_SLOT));
    }

    fn cancel(&self, msg: Option<&str>) -> bool {
        self.clear_log_traceback();
        if self.done() {
            return false;
        }
        self.tail.num_cancels.set(self.tail.num_cancels.get() + 1);
        // Cells hold no borrow: take the waiter out, look at it, put it back.
        let waiter = self.tail.fut_waiter.take();
        self.tail.fut_waiter.set(waiter.clone());
        if let Some(w) = waiter
            && w.cancel_waitable(msg)
        {
            self.tail
                .set_cold(msg.map(Box::from), |c| &mut c.waiter_cancel_msg);
            // Keep the waiter: a task that swallows the cancel may need another one.
            return true;
        }
        self.tail.must_cancel.set(true);
        self.tail.set_cancel_msg(msg);
        true
    }
}

impl<T: 'static> Subject for TaskCore<T> {
    fn subject_repr(&self) -> String {
        self.repr()
    }
}

impl<T: 'static> Wake for TaskCore<T> {
    fn wake(self: Rc<Self>) {
        self.step()
    }
    fn subject(self: Rc<Self>) -> Option<Rc<dyn Subject>> {
        Some(self)
    }
}

/// A scheduled task step: one word, as the `move || task.step()` closure it replaces, but it
/// can say which task it steps (debug mode's slow-callback report).
struct Step<T: 'static>(Rc<TaskCore<T>>);

impl<T: 'static> Callable for Step<T> {
    fn name(&self) -> &'static str {
        "Task.__step"
    }
    #[inline]
    fn call(self) {
        self.0.step()
    }
    fn subject(&self) -> Option<Rc<dyn Subject>> {
        Some(self.0.clone())
    }
}

impl<T: 'static> TaskAny for TaskCore<T> {
    fn name(&self) -> String {
        self.tail.name()
    }
    fn set_name(&self, name: String) {
        self.tail.cold(|c| c.name = Some(name));
    }
    fn cancel(&self, msg: Option<&str>) -> bool {
        TaskCore::cancel(self, msg)
    }
    fn cancelling(&self) -> u32 {
        self.tail.num_cancels.get()
    }
    fn uncancel(&self) -> u32 {
        let n = self.tail.num_cancels.get().saturating_sub(1);
        self.tail.num_cancels.set(n);
        n
    }
    fn is_done(&self) -> bool {
        self.done()
    }
    fn is_cancelled(&self) -> bool {
        self.cancelled()
    }
    fn repr(&self) -> String {
        self.repr_with_result(|_| None)
    }
    fn on_done(self: Rc<Self>, f: Box<dyn FnOnce()>) {
        self.handle().add_done_callback(move |_| f());
    }
    fn exception_if_failed(&self) -> Option<anyhow::Error> {
        self.exception().ok().flatten()
    }
    fn snapshot(&self) -> TaskSnapshot {
        let waiting_on = self.tail.fut_waiter.take();
        self.tail.fut_waiter.set(waiting_on.clone());
        TaskSnapshot {
            name: self.tail.name(),
            created: self.created,
            wait_site: self.tail.wait_site.get(),
            waiting_on,
        }
    }
    fn loop_handle(&self) -> EventLoop {
        self.event_loop().clone()
    }
    fn abandon(&self) {
        self.report_destroyed();
        self.tail.fut_waiter.set(None);
        self.finish();
    }
}

impl<T: 'static> TaskCore<T> {
    /// asyncio's `_task_repr_info`: the future's, with `cancelling` for the state while a
    /// cancellation is pending, the name, and `wait_for=` the future it waits on (Python's
    /// `coro=<...>` is left out: a stackful coroutine has no frame to show).
    fn repr_with_result(&self, result: impl FnOnce(&T) -> Option<String>) -> String {
        let mut info = self.repr_info(result);
        if !self.done() && self.tail.num_cancels.get() > 0 {
            info[0] = "cancelling".to_string();
        }
        info.insert(
            1,
            format!("name={}", crate::errors::py_str_repr(&self.name())),
        );
        let waiter = self.tail.fut_waiter.take();
        self.tail.fut_waiter.set(waiter.clone());
        if let Some(w) = waiter {
            info.insert(2, format!("wait_for={}", w.full_repr()));
        }
        format!("<Task {}>", info.join(" "))
    }

    fn report_destroyed(&self) {
        if self.tail.log_destroy_pending.replace(false) && !self.done() {
            let mut fields = vec![("task", self.repr())];
            if self.event_loop().get_debug() {
                fields.push(("source_traceback", write_source(self.created)));
            }
            self.event_loop().call_exception_handler(ExceptionContext {
                message: "Task was destroyed but it is pending!".to_string(),
                exception: None,
                fields,
            });
        }
    }
}

impl<T: 'static> FutureTail<T> for TaskPart<T> {
    fn waitable(&self, this: &Rc<FutureCore<T>>) -> Rc<dyn Waitable> {
        // SAFETY: this is the task tail's own impl: the allocation holds a `TaskCore<T>`.
        unsafe { downcast_core::<T, TaskPart<T>>(this) }
    }

    fn recycler(&self) -> fn(Rc<FutureCore<T>>) {
        // SAFETY: as above.
        |this| crate::recycle::recycle(unsafe { downcast_owned::<T, TaskPart<T>>(this) })
    }

    fn on_drop(&self, lp: &EventLoop, pending: bool, created: &'static Location<'static>) {
        // First: the report below runs user code, which must not find this task registered.
        self.tasks.unregister(self.slot.replace(NO_SLOT));
        if pending && self.log_destroy_pending.replace(false) {
            let state = if self.num_cancels.get() > 0 {
                "cancelling"
            } else {
                "pending"
            };
            let name = crate::errors::py_str_repr(&self.name());
            let mut fields = vec![("task", format!("<Task {state} name={name}>"))];
            if lp.get_debug() {
                fields[0].1 = format!("<Task {state} name={name} created at {created}>");
                fields.push(("source_traceback", write_source(created)));
            }
            lp.call_exception_handler(ExceptionContext {
                message: "Task was destroyed but it is pending!".to_string(),
                exception: None,
                fields,
            });
        }
        // The coroutine field drops next: its stack unwinds (GeneratorExit at its wait).
    }
}

impl<T: 'static> TaskPart<T> {
    fn name(&self) -> String {
        match self.read_cold(|c| c.name.clone()).flatten() {
            Some(name) => name,
            None => format!("Task-{}", self.number),
        }
    }

    fn cancel_msg(&self) -> Option<String> {
        self.read_cold(|c| c.cancel_msg.clone()).flatten()
    }

    fn set_cancel_msg(&self, msg: Option<&str>) {
        self.set_cold(msg.map(str::to_string), |c| &mut c.cancel_msg);
    }

    /// Sets an optional cold field; `None` makes no box (a `cancel()` without a message).
    fn set_cold<V>(&self, value: Option<V>, field: impl FnOnce(&mut Cold) -> &mut Option<V>) {
        match value {
            Some(v) => self.cold(|c| *field(c) = Some(v)),
            None => {
                self.read_cold(|c| *field(c) = None);
            }
        }
    }

    /// `f` on the cold part, made first if need be. `f` must not reach this task again
    /// (the part is out of its cell meanwhile).
    fn cold<R>(&self, f: impl FnOnce(&mut Cold) -> R) -> R {
        let mut cold = self.cold.take().unwrap_or_default();
        let r = f(&mut cold);
        self.cold.set(Some(cold));
        r
    }

    /// `f` on the cold part if there is one (nothing is allocated); as [`Self::cold`].
    #[inline]
    fn read_cold<R>(&self, f: impl FnOnce(&mut Cold) -> R) -> Option<R> {
        let mut cold = self.cold.take()?;
        let r = f(&mut cold);
        self.cold.set(Some(cold));
        Some(r)
    }
}

impl<T: 'static> Waitable for TaskCore<T> {
    fn event_loop(&self) -> &EventLoop {
        self.event_loop()
    }
    fn is_done(&self) -> bool {
        self.done()
    }
    #[inline]
    fn add_waker(&self, w: Rc<dyn Wake>) {
        self.add_waker_core(w)
    }
    fn cancel_waitable(self: Rc<Self>, msg: Option<&str>) -> bool {
        TaskCore::cancel(&self, msg)
    }
    fn describe(&self) -> String {
        self.repr()
    }
}

impl<T: 'static> Task<T> {
    /// Whether the task finished (returned, failed or was cancelled).
    pub fn done(&self) -> bool {
        self.fut.done()
    }

    /// Whether the task ended cancelled.
    pub fn cancelled(&self) -> bool {
        self.fut.cancelled()
    }

    /// The body's return value.
    ///
    /// # Errors
    ///
    /// - The body's error; `CancelledError` if the task was cancelled.
    /// - `InvalidStateError("Result is not set.")` while pending.
    pub fn result(&self) -> Result<T>
    where
        T: Clone,
    {
        self.fut.result()
    }

    /// The body's error, `None` after a return.
    ///
    /// # Errors
    ///
    /// - `CancelledError` if the task was cancelled.
    /// - `InvalidStateError("Exception is not set.")` while pending.
    pub fn exception(&self) -> Result<Option<anyhow::Error>> {
        self.fut.exception()
    }

    /// `Task.cancel(msg)`: asks the body to stop. Returns false once done.
    pub fn cancel(&self, msg: Option<&str>) -> bool {
        self.core.cancel(msg)
    }

    /// `task._fut_waiter`: the future (or task) this task is suspended on, `None` while it
    /// runs, is ready to run, or is done.
    pub fn fut_waiter(&self) -> Option<AnyFuture> {
        let w = self.core.tail.fut_waiter.take();
        self.core.tail.fut_waiter.set(w.clone());
        w.map(AnyFuture)
    }

    /// `task._cancel_message`: while pending, the message of a `cancel(msg)` still to be
    /// delivered (none when the cancel went to the awaited future, as in asyncio); once
    /// cancelled, the message it was cancelled with.
    pub fn cancel_message(&self) -> Option<String> {
        if self.done() {
            self.fut.cancel_message()
        } else {
            self.core.tail.cancel_msg()
        }
    }

    /// `task._cancel_message = msg`: the message the pending cancellation delivers, or the
    /// one a cancelled task's `CancelledError`s carry.
    pub fn set_cancel_message(&self, msg: Option<&str>) {
        if self.done() {
            self.fut.set_cancel_message(msg)
        } else {
            self.core.tail.set_cancel_msg(msg);
        }
    }

    /// How many cancellations were requested and not `uncancel`ed.
    pub fn cancelling(&self) -> u32 {
        self.core.tail.num_cancels.get()
    }

    /// Decrements `cancelling()` (not below 0) and returns the new count.
    pub fn uncancel(&self) -> u32 {
        TaskAny::uncancel(&*self.core)
    }

    /// The task's name (`Task-N` unless set).
    pub fn get_name(&self) -> String {
        self.core.name()
    }

    /// Renames the task.
    pub fn set_name(&self, name: impl fmt::Display) {
        self.core.set_name(name.to_string())
    }

    /// The task's result future (what done callbacks receive).
    pub fn future(&self) -> &Future<T> {
        &self.fut
    }

    /// The loop that drives the task.
    pub fn get_loop(&self) -> &EventLoop {
        self.fut.get_loop()
    }

    /// `add_done_callback`: `f(&result_future)` runs through `call_soon` once the task is done.
    pub fn add_done_callback(&self, f: impl FnOnce(&Future<T>) + 'static) -> CallbackId {
        self.fut.add_done_callback(f)
    }

    /// Removes a done callback; returns how many were removed.
    pub fn remove_done_callback(&self, id: CallbackId) -> usize {
        self.fut.remove_done_callback(id)
    }

    /// Tasks refuse `set_result`, as in asyncio.
    ///
    /// # Errors
    ///
    /// Always `RuntimeError("Task does not support set_result operation")`.
    pub fn set_result(&self, _value: T) -> Result<()> {
        Err(RuntimeError::new("Task does not support set_result operation").into())
    }

    /// Tasks refuse `set_exception`, as in asyncio.
    ///
    /// # Errors
    ///
    /// Always `RuntimeError("Task does not support set_exception operation")`.
    pub fn set_exception(&self, _err: anyhow::Error) -> Result<()> {
        Err(RuntimeError::new("Task does not support set_exception operation").into())
    }

    /// A type-erased handle to this task.
    pub fn as_any(&self) -> AnyTask {
        AnyTask(self.core.clone())
    }
}

impl<T: crate::errors::PyRepr + 'static> Task<T> {
    /// asyncio's `repr(task)` with the result (`<Task finished name='t' result=4>`); `{:?}`
    /// prints the same but for the result. Python's `coro=<...>` is left out.
    pub fn repr(&self) -> String {
        self.core
            .repr_with_result(|v| Some(crate::errors::py_reprlib(v)))
    }
}

impl<T: 'static> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.core.repr())
    }
}

impl<T: 'static> Awaitable for Task<T> {
    type Output = T;
    fn future(&self) -> &Future<T> {
        &self.fut
    }
    fn request_cancel(&self, msg: Option<&str>) -> bool {
        self.cancel(msg)
    }
    fn suspend(&self) -> Suspend {
        Suspend(Some(self.core.clone()))
    }
}

/// A future or task of any result type: what [`Task::fut_waiter`] returns. `{:?}` is
/// asyncio's repr (`<Future pending cb=[Task.task_wakeup()]>`).
#[derive(Clone)]
pub struct AnyFuture(Rc<dyn Waitable>);

impl AnyFuture {
    /// Whether it is done.
    pub fn done(&self) -> bool {
        self.0.is_done()
    }
    /// `cancel(msg)` (a task's `Task.cancel`).
    pub fn cancel(&self, msg: Option<&str>) -> bool {
        self.0.clone().cancel_waitable(msg)
    }
    /// Whether it is `fut` (Python's `is`); a task's result future is the task.
    pub fn is<T: 'static>(&self, fut: &Future<T>) -> bool {
        std::ptr::addr_eq(Rc::as_ptr(&self.0), Rc::as_ptr(&fut.0))
    }
}

impl fmt::Debug for AnyFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.full_repr())
    }
}

/// A task of any result type: what `current_task` and `all_tasks` return.
#[derive(Clone)]
pub struct AnyTask(pub(crate) Rc<dyn TaskAny>);

impl AnyTask {
    /// The task's name.
    pub fn get_name(&self) -> String {
        self.0.name()
    }
    /// Renames the task.
    pub fn set_name(&self, name: impl fmt::Display) {
        self.0.set_name(name.to_string())
    }
    /// `Task.cancel(msg)`.
    pub fn cancel(&self, msg: Option<&str>) -> bool {
        self.0.cancel(msg)
    }
    /// `Task.cancelling()`.
    pub fn cancelling(&self) -> u32 {
        self.0.cancelling()
    }
    /// `Task.uncancel()`.
    pub fn uncancel(&self) -> u32 {
        self.0.uncancel()
    }
    /// Whether the task finished.
    pub fn done(&self) -> bool {
        self.0.is_done()
    }
    /// Whether the task ended cancelled.
    pub fn cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
    /// Runs `f` through `call_soon` once the task is done.
    pub fn on_done(&self, f: Box<dyn FnOnce()>) {
        self.0.clone().on_done(f)
    }
    /// The error the task failed with (marking it retrieved), `None` otherwise.
    pub fn exception_if_failed(&self) -> Option<anyhow::Error> {
        self.0.exception_if_failed()
    }
    /// Whether both handles name the same task.
    pub fn ptr_eq(&self, other: &AnyTask) -> bool {
        std::ptr::addr_eq(Rc::as_ptr(&self.0), Rc::as_ptr(&other.0))
    }
}

impl fmt::Debug for AnyTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.repr())
    }
}

fn loop_or_running(lp: Option<&EventLoop>) -> Result<EventLoop> {
    match lp {
        Some(lp) => Ok(lp.clone()),
        None => get_running_loop(),
    }
}

/// `asyncio.current_task(loop)`: the task whose step is running, if any. Without a loop it
/// uses the running one.
///
/// # Errors
///
/// `RuntimeError("no running event loop")` for `None` outside a running loop.
pub fn current_task(lp: Option<&EventLoop>) -> Result<Option<AnyTask>> {
    let lp = loop_or_running(lp)?;
    let tasks = lp.extension::<Tasks>();
    Ok(tasks.current.get().map(|p| {
        // SAFETY: `current` points at the task whose step is running, and that step holds
        // an `Rc` of it (see `Tasks::current`); this makes one more.
        unsafe {
            Rc::increment_strong_count(p);
            AnyTask(Rc::from_raw(p))
        }
    }))
}

/// `asyncio.all_tasks(loop)`: the loop's tasks that are not done, in creation order
/// (slots are reused, so the order is only stable while no task finishes).
///
/// # Errors
///
/// `RuntimeError("no running event loop")` for `None` outside a running loop.
pub fn all_tasks(lp: Option<&EventLoop>) -> Result<Vec<AnyTask>> {
    let lp = loop_or_running(lp)?;
    let tasks = lp.extension::<Tasks>();
    Ok(tasks.pending().into_iter().map(AnyTask).collect())
}

#[cfg(test)]
mod tests;
