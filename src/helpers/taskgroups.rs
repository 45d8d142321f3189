//! `asyncio.TaskGroup` (Python 3.11) (layer 8).
//!
//! A group runs child tasks inside a scope of its parent task and does not leave the scope
//! before every child is done. The first child error aborts the group: every other child is
//! cancelled, and so is the parent (once), so that the body stops at its current wait. On
//! exit the group undoes its own cancel of the parent (`uncancel()`), waits for the children,
//! and raises an [`ExceptionGroup`] of every child error, plus the body's own error if it
//! failed with something other than `CancelledError`.
//!
//! Python's `async with` becomes a closure:
//!
//! ```text
//! async with asyncio.TaskGroup() as tg:       task_group(co, |co, tg| {
//!     t1 = tg.create_task(one())                  let t1 = tg.create_task(one)?;
//!     t2 = tg.create_task(two())                  let t2 = tg.create_task(two)?;
//!                                                 Ok(())
//!                                             })?;
//! ```

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::{Rc, Weak};

use anyhow::Result;

use crate::errors::{CancelledError, ErrorExt, ExceptionGroup, RuntimeError};
use crate::event_loop::{EventLoop, ExceptionContext, get_running_loop};
use crate::futures::Future;
use crate::helpers::timeouts::OnUnwind;
use crate::helpers::wait::{Step, Steps, drive};
use crate::tasks::{AnyTask, Task, TaskCo, current_task};

/// The message of the [`ExceptionGroup`] a task group raises.
pub(crate) const TASK_GROUP_ERRORS: &str = "unhandled errors in a TaskGroup";

#[derive(Default)]
struct Inner {
    entered: Cell<bool>,
    /// The body is over and `exit` runs (or ran).
    exiting: Cell<bool>,
    /// A child failed or the parent was cancelled: the children are being cancelled.
    aborting: Cell<bool>,
    lp: RefCell<Option<EventLoop>>,
    parent: RefCell<Option<AnyTask>>,
    /// Whether the group cancelled the parent: `exit` must `uncancel()` it then.
    parent_cancel_requested: Cell<bool>,
    /// The children not done yet, in creation order (by a serial number).
    tasks: RefCell<Vec<(u64, AnyTask)>>,
    next_id: Cell<u64>,
    /// Errors of failed children, in the order they finished.
    errors: RefCell<Vec<anyhow::Error>>,
    /// Set when the last child finishes, while `exit` waits for them.
    on_completed: RefCell<Option<Future<()>>>,
}

/// asyncio's `TaskGroup`: a cheap clonable handle, so children can add siblings
/// (`tg.create_task` from inside a child). Made by [`TaskGroup::new`] and entered by
/// [`TaskGroup::run`]; [`task_group`] does both.
///
/// # Examples
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use std::time::Duration;
///
/// use tulip::{ExceptionGroup, ValueError, ErrorExt, sleep, task_group};
///
/// tulip::run(|co| {
///     // asyncio: async with asyncio.TaskGroup() as tg:
///     //              a = tg.create_task(slow_one()); b = tg.create_task(two())
///     let (a, b) = task_group(co, |_co, tg| {
///         let a = tg.create_task(|co| {
///             sleep(co, Duration::from_millis(5))?;
///             Ok(1)
///         })?;
///         let b = tg.create_task(|_co| Ok(2))?;
///         Ok((a, b))
///     })?;
///     // the block exits once every child is done
///     assert_eq!(a.result()? + b.result()?, 3);
///
///     // a failing child cancels its siblings; the group raises an ExceptionGroup
///     let err = task_group(co, |_co, tg| {
///         tg.create_task(|_co| -> anyhow::Result<()> { Err(ValueError::new("boom").into()) })?;
///         tg.create_task(|co| sleep(co, Duration::from_secs(3600)))?;
///         Ok(())
///     })
///     .unwrap_err();
///     let group = err.exc::<ExceptionGroup>().expect("an ExceptionGroup");
///     assert_eq!(group.exceptions().len(), 1);
///     assert!(group.contains::<ValueError>());
///     Ok(())
/// })?;
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct TaskGroup(Rc<Inner>);

impl TaskGroup {
    /// `asyncio.TaskGroup()`: a group not entered yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `async with tg: body`: enters (recording the current task as the parent), runs
    /// `body(co, self)`, then waits for every child and raises their errors as an
    /// [`ExceptionGroup`] ("unhandled errors in a TaskGroup (N sub-exceptions)").
    ///
    /// # Errors
    ///
    /// - An [`ExceptionGroup`] of the children's errors and the body's own (a body error
    ///   other than `CancelledError` is wrapped even when no child failed).
    /// - `CancelledError` from the body, or a cancel arriving while the group waits, when no
    ///   child failed.
    /// - `RuntimeError("TaskGroup <...> has already been entered")` when entered twice.
    /// - `RuntimeError("TaskGroup <...> cannot determine the parent task")` outside a task.
    pub fn run<T>(
        &self,
        co: &TaskCo,
        body: impl FnOnce(&TaskCo, &TaskGroup) -> Result<T>,
    ) -> Result<T> {
        self.enter()?;
        // A panicking body skips `exit`: at least stop the children.
        let guard = OnUnwind(|| self.abort());
        let outcome = body(co, self);
        std::mem::forget(guard);
        self.exit(co, outcome)
    }

    /// `tg.create_task(coro)`: a child task running `body`, started with `call_soon`.
    ///
    /// # Errors
    ///
    /// `RuntimeError("TaskGroup <...> has not been entered")` before entry, `"... is
    /// finished"` once the group is over, `"... is shutting down"` while it aborts; a closed
    /// loop's `RuntimeError`.
    pub fn create_task<T: 'static>(
        &self,
        body: impl FnOnce(&TaskCo) -> Result<T> + 'static,
    ) -> Result<Task<T>> {
        self.adopt(|lp| lp.create_task(body))
    }

    /// `tg.create_task(coro)` for a stackless body (feature `nightly`): as
    /// [`TaskGroup::create_task`], the child's body a nightly coroutine (see
    /// [`EventLoop::create_task_stackless`](crate::EventLoop::create_task_stackless)).
    ///
    /// # Errors
    ///
    /// As [`TaskGroup::create_task`].
    #[cfg(feature = "nightly")]
    pub fn create_task_stackless<T: 'static>(
        &self,
        body: impl std::ops::Coroutine<
            crate::stackless::Sent<()>,
            Yield = crate::Suspend,
            Return = Result<T>,
        > + 'static,
    ) -> Result<Task<T>> {
        self.adopt(|lp| lp.create_task_stackless(body))
    }

    /// Makes a child task with `make` once the group accepts one, and watches it.
    fn adopt<T: 'static>(
        &self,
        make: impl FnOnce(&EventLoop) -> Result<Task<T>>,
    ) -> Result<Task<T>> {
        let me = &self.0;
        if !me.entered.get() {
            return Err(self.misuse("has not been entered"));
        }
        if me.exiting.get() && me.tasks.borrow().is_empty() {
            return Err(self.misuse("is finished"));
        }
        if me.aborting.get() {
            return Err(self.misuse("is shutting down"));
        }
        let lp = me
            .lp
            .borrow()
            .clone()
            .expect("an entered TaskGroup knows its loop");
        let task = make(&lp)?;
        let id = me.next_id.get();
        me.next_id.set(id + 1);
        me.tasks.borrow_mut().push((id, task.as_any()));
        // Weak: a child left pending when its loop closes must not keep the group alive.
        let group = Rc::downgrade(&self.0);
        task.add_done_callback(move |fut| {
            if let Some(inner) = Weak::upgrade(&group) {
                TaskGroup(inner).on_task_done(id, fut);
            }
        });
        Ok(task)
    }

    /// `tg.create_task(coro, name=name)`: [`TaskGroup::create_task`], then names the task.
    pub fn create_task_named<T: 'static>(
        &self,
        name: impl fmt::Display,
        body: impl FnOnce(&TaskCo) -> Result<T> + 'static,
    ) -> Result<Task<T>> {
        let task = self.create_task(body)?;
        task.set_name(name);
        Ok(task)
    }

    fn misuse(&self, what: &str) -> anyhow::Error {
        RuntimeError::new(format!("TaskGroup {self:?} {what}")).into()
    }

    /// `__aenter__`.
    pub(crate) fn enter(&self) -> Result<()> {
        if self.0.entered.get() {
            return Err(self.misuse("has already been entered"));
        }
        let lp = get_running_loop()?;
        let Some(parent) = current_task(Some(&lp))? else {
            return Err(self.misuse("cannot determine the parent task"));
        };
        *self.0.lp.borrow_mut() = Some(lp);
        *self.0.parent.borrow_mut() = Some(parent);
        self.0.entered.set(true);
        Ok(())
    }

    /// `__aexit__`: wait for the children, then decide what the scope raises.
    fn exit<T>(&self, co: &TaskCo, outcome: Result<T>) -> Result<T> {
        drive(co, GroupExit::new(self.clone(), outcome))
    }

    /// Cancels every child that is not done.
    pub(crate) fn abort(&self) {
        self.0.aborting.set(true);
        // A copy: cancelling runs no user code, but keep no borrow across it anyway.
        let tasks: Vec<AnyTask> = self
            .0
            .tasks
            .borrow()
            .iter()
            .map(|(_, t)| t.clone())
            .collect();
        for t in tasks {
            if !t.done() {
                t.cancel(None);
            }
        }
    }

    /// A child is done (a done callback, so one iteration after it finished).
    fn on_task_done<T>(&self, id: u64, fut: &Future<T>) {
        let me = &self.0;
        let task = {
            let mut tasks = me.tasks.borrow_mut();
            let at = tasks.iter().position(|(i, _)| *i == id);
            at.map(|at| tasks.remove(at).1)
        };
        if me.tasks.borrow().is_empty() {
            let done = me.on_completed.borrow().clone();
            if let Some(done) = done
                && !done.done()
            {
                let _ = done.set_result(());
            }
        }
        if fut.cancelled() {
            return;
        }
        let Ok(Some(exc)) = fut.exception() else {
            return;
        };
        me.errors.borrow_mut().push(exc);
        let parent = me
            .parent
            .borrow()
            .clone()
            .expect("an entered TaskGroup has a parent");
        if parent.done() {
            // Python handles it though it doubts it can happen: report it.
            let lp = me.lp.borrow().clone().expect("entered");
            let task = task.map(|t| format!("{t:?}")).unwrap_or_default();
            lp.call_exception_handler(ExceptionContext {
                message: format!(
                    "Task {task} has errored out but its parent task {parent:?} is already completed"
                ),
                exception: fut.exception().ok().flatten(),
                fields: vec![("task", task)],
            });
            return;
        }
        if !me.aborting.get() && !me.parent_cancel_requested.get() {
            // Stop the body at its current wait; `exit` will uncancel the parent.
            self.abort();
            me.parent_cancel_requested.set(true);
            parent.cancel(None);
        }
    }
}

/// Which CancelledError a group's exit re-raises, if any.
enum Propagate {
    No,
    /// The body's own.
    Body,
    /// One that reached `exit` while it waited for the children.
    Waited(anyhow::Error),
}

/// A group's `__aexit__` around its waits for the children.
pub(crate) struct GroupExit<T> {
    group: TaskGroup,
    /// The body's outcome, until the end.
    outcome: Option<Result<T>>,
    body_cancelled: bool,
    propagate: Propagate,
}

impl<T> GroupExit<T> {
    pub(crate) fn new(group: TaskGroup, outcome: Result<T>) -> Self {
        GroupExit {
            group,
            body_cancelled: matches!(&outcome, Err(e) if e.isinstance::<CancelledError>()),
            outcome: Some(outcome),
            propagate: Propagate::No,
        }
    }

    /// The loop's head: wait while children remain (the wait can be cancelled several
    /// times: the parent cancelled repeatedly).
    fn next_wait(&mut self) -> Step<T> {
        let me = &self.group.0;
        if me.tasks.borrow().is_empty() {
            return Step::Done(self.finish());
        }
        let done = me
            .on_completed
            .borrow_mut()
            .get_or_insert_with(|| {
                me.lp
                    .borrow()
                    .as_ref()
                    .expect("entered")
                    .create_future::<()>()
            })
            .clone();
        Step::Wait(done)
    }

    /// Every child is done: decide what the scope raises.
    fn finish(&mut self) -> Result<T> {
        let me = &self.group.0;
        let outcome = self.outcome.take().expect("finished once");
        let no_child_errors = me.errors.borrow().is_empty();
        match std::mem::replace(&mut self.propagate, Propagate::No) {
            // Child errors have priority over a cancellation.
            Propagate::Body if no_child_errors => return outcome,
            Propagate::Waited(e) if no_child_errors => return Err(e),
            _ => {}
        }
        let outcome = match outcome {
            Err(e) if !self.body_cancelled => {
                me.errors.borrow_mut().push(e);
                None
            }
            other => Some(other),
        };
        let errors = std::mem::take(&mut *me.errors.borrow_mut());
        if !errors.is_empty() {
            return Err(ExceptionGroup::new(TASK_GROUP_ERRORS, errors).into());
        }
        // Nothing to add: the body's outcome stands (a CancelledError too, as in Python,
        // where `__aexit__` returning None re-raises it).
        outcome.expect("a body error was turned into a child error")
    }
}

impl<T> Steps for GroupExit<T> {
    type Output = T;

    fn start(&mut self) -> Step<T> {
        let me = &self.group.0;
        me.exiting.set(true);
        if self.body_cancelled {
            self.propagate = Propagate::Body;
        }
        if me.parent_cancel_requested.get() {
            let parent = me
                .parent
                .borrow()
                .clone()
                .expect("an entered TaskGroup has a parent");
            // Our own cancel of the parent is undone; if it was the only one, the
            // CancelledError it caused is ours and does not propagate.
            if parent.uncancel() == 0 {
                self.propagate = Propagate::No;
            }
        }
        let failed = self.outcome.as_ref().is_some_and(|o| o.is_err());
        if failed && !me.aborting.get() {
            // The parent is being cancelled, or the body failed: stop the children.
            self.group.abort();
        }
        self.next_wait()
    }

    fn resume(&mut self, waited: Result<()>) -> Step<T> {
        let me = &self.group.0;
        match waited {
            Ok(()) => {}
            Err(e) if e.isinstance::<CancelledError>() => {
                if !me.aborting.get() {
                    // The parent is cancelled while the children still run.
                    self.propagate = Propagate::Waited(e);
                    self.group.abort();
                }
            }
            // Not a cancellation (the task is being torn down): leave at once.
            Err(e) => return Step::Done(Err(e)),
        }
        me.on_completed.borrow_mut().take();
        self.next_wait()
    }
}

impl fmt::Debug for TaskGroup {
    /// Python's repr: `<TaskGroup tasks=2 errors=1 cancelling>`, `<TaskGroup entered>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let me = &self.0;
        f.write_str("<TaskGroup")?;
        let tasks = me.tasks.borrow().len();
        if tasks > 0 {
            write!(f, " tasks={tasks}")?;
        }
        let errors = me.errors.borrow().len();
        if errors > 0 {
            write!(f, " errors={errors}")?;
        }
        if me.aborting.get() {
            f.write_str(" cancelling")?;
        } else if me.entered.get() {
            f.write_str(" entered")?;
        }
        f.write_str(">")
    }
}

/// `async with asyncio.TaskGroup() as tg: body`: runs `body(co, tg)`, where
/// `tg.create_task(...)` starts children, and returns once every child is done. See
/// [`TaskGroup::run`].
///
/// # Errors
///
/// As [`TaskGroup::run`].
pub fn task_group<T>(
    co: &TaskCo,
    body: impl FnOnce(&TaskCo, &TaskGroup) -> Result<T>,
) -> Result<T> {
    TaskGroup::new().run(co, body)
}
