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

use crate::contextvars::{self, Context};
use crate::errors::RuntimeError;
use crate::event_loop::{EventLoop, ExceptionContext, write_source};
use crate::futures::{
    Awaitable, CallbackId, Future, FutureCore, FutureTail, Suspend, Waitable, Wake, downcast_core,
    downcast_owned,
};
use crate::generator::Co;

mod body;
#[cfg(feature = "nightly")]
pub(crate) mod stackless;
use body::TaskBody;

/// The coroutine handle a task's body receives: `co.wait(&fut)` is Python's `await fut`.
pub type TaskCo = Co<Suspend, ()>;

mod awaiting;
mod coroutine;
mod registry;
mod step;
pub(crate) use awaiting::{WaitKind, WaitSite};
pub use coroutine::Coroutine;
use registry::NO_SLOT;
pub use registry::{AnyFuture, AnyTask, all_tasks, current_task};
pub(crate) use registry::{TaskAny, TaskSnapshot, Tasks};
use step::Step;

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
    /// Inside a task, [`get_running_loop`](crate::get_running_loop) gives the loop (`asyncio.create_task(coro)`).
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

#[cfg(test)]
mod tests;
