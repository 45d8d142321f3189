//! How a task waits on a future: what a coroutine yields ([`Suspend`]), what it may wait
//! for ([`Awaitable`], [`Waitable`]) and the wake-up a future schedules when done ([`Wake`]).

use std::fmt;
use std::rc::Rc;

use anyhow::Result;

use super::{Future, FutureCore, State};
use crate::callbacks::{Callable, Subject};
use crate::event_loop::EventLoop;

/// A task's wake-up, registered as a done callback without a closure per wait.
pub(crate) trait Wake {
    /// Called (through `call_soon`) once the awaited future is done.
    fn wake(self: Rc<Self>);
    /// What the wake-up steps, for debug mode's slow-callback report.
    fn subject(self: Rc<Self>) -> Option<Rc<dyn Subject>>;
}

/// A scheduled wake-up: the same two words as a `move || w.wake()` closure, but it can say
/// which task it steps (see [`Callable::subject`]).
pub(super) struct WakeCall(pub(super) Rc<dyn Wake>);

impl Callable for WakeCall {
    fn name(&self) -> &'static str {
        "Task.task_wakeup"
    }
    #[inline]
    fn call(self) {
        self.0.wake()
    }
    fn subject(&self) -> Option<Rc<dyn Subject>> {
        self.0.clone().subject()
    }
}

/// A combinator's per-child done callback (gather): the future's index among the children
/// is stored beside it, so registering and scheduling it allocate nothing.
pub(crate) trait ChildDone<T: 'static> {
    /// Called once `fut` is done, from whatever finished it: reads what it needs from `fut`
    /// and schedules the rest of its work with `call_soon` (never runs it here).
    fn child_done_soon(self: Rc<Self>, slot: usize, fut: &Future<T>) -> Result<()>;
    /// Its name in a child's repr, as asyncio's.
    fn name(&self) -> &'static str {
        "gather.<locals>._done_callback"
    }
}

/// Something a task can wait for: a future, or another task (whose `cancel` differs).
pub(crate) trait Waitable {
    /// The loop the waitable belongs to.
    fn event_loop(&self) -> &EventLoop;
    /// Whether it has a final state.
    fn is_done(&self) -> bool;
    /// Schedules `w.wake()` when done (at once, through `call_soon`, if already done).
    fn add_waker(&self, w: Rc<dyn Wake>);
    /// `Future.cancel(msg)` or `Task.cancel(msg)`.
    fn cancel_waitable(self: Rc<Self>, msg: Option<&str>) -> bool;
    /// A task step's registration, asyncio's checks first: a waitable of another loop, or
    /// the waiting task itself (`task`), is refused; otherwise `w` is added as with
    /// [`Waitable::add_waker`]. One dynamic call per wait.
    fn park(&self, lp: &EventLoop, task: *const (), w: Rc<dyn Wake>) -> Park {
        if self.event_loop() != lp {
            return Park::OtherLoop;
        }
        if std::ptr::eq(self as *const Self as *const (), task) {
            return Park::OwnTask;
        }
        self.add_waker(w);
        Park::Parked
    }
    /// Python-like repr for error messages and the task tree (`<Future pending>`).
    fn describe(&self) -> String;
    /// asyncio's full repr (as `{:?}` prints it: callbacks, exception; no result).
    fn full_repr(&self) -> String {
        self.describe()
    }
    /// What waiting on it waits on in turn (a gathering's children), for the task tree.
    fn children(&self) -> Vec<Rc<dyn Waitable>> {
        Vec::new()
    }
}

/// What [`Waitable::park`] did.
pub(crate) enum Park {
    Parked,
    OtherLoop,
    OwnTask,
}

/// What a coroutine yields to its task: a future to wait for, or nothing (a bare `yield`,
/// which costs exactly one loop iteration: `asyncio.sleep(0)`).
pub struct Suspend(pub(crate) Option<Rc<dyn Waitable>>);

impl Suspend {
    /// A bare yield: give up one iteration.
    pub fn bare() -> Self {
        Suspend(None)
    }
}

impl fmt::Debug for Suspend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => f.write_str("Suspend(None)"),
            Some(w) => write!(f, "Suspend({})", w.describe()),
        }
    }
}

/// Anything a coroutine can wait for with `co.wait(&x)`: a [`Future`] or a `Task`.
pub trait Awaitable {
    /// The value it completes with.
    type Output: 'static;
    /// The future holding the outcome (a task's own result future).
    fn future(&self) -> &Future<Self::Output>;
    /// Requests cancellation: `Future.cancel(msg)`, or `Task.cancel(msg)` for a task.
    fn request_cancel(&self, msg: Option<&str>) -> bool;
    /// How a task suspends on it.
    fn suspend(&self) -> Suspend;
}

impl<T: 'static> Awaitable for Future<T> {
    type Output = T;
    fn future(&self) -> &Future<T> {
        self
    }
    fn request_cancel(&self, msg: Option<&str>) -> bool {
        self.cancel(msg)
    }
    fn suspend(&self) -> Suspend {
        Suspend(Some(self.waitable()))
    }
}

impl<T: 'static> Waitable for FutureCore<T, ()> {
    fn event_loop(&self) -> &EventLoop {
        &self.lp
    }
    fn is_done(&self) -> bool {
        !matches!(*self.state.borrow(), State::Pending)
    }
    #[inline]
    fn add_waker(&self, w: Rc<dyn Wake>) {
        self.add_waker_core(w)
    }
    fn cancel_waitable(self: Rc<Self>, msg: Option<&str>) -> bool {
        Future::from_core(self).cancel(msg)
    }
    fn describe(&self) -> String {
        let word = if self.is_done() { "done" } else { "pending" };
        format!(
            "<{} {word}{}>",
            self.kind.get().name(),
            self.created_suffix()
        )
    }
    fn full_repr(&self) -> String {
        self.repr_with(|_| None)
    }
}
