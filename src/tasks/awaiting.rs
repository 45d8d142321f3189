//! What a stackful task body awaits with (`co.wait`, `co.join`, `co.yield_now`), and where
//! it waits: the wait site the task tree shows.

use std::cell::Cell;
use std::panic::Location;

use anyhow::Result;

use crate::errors::RuntimeError;
use crate::futures::{Awaitable, Suspend};
use crate::generator::Co;

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
    /// [`EventLoop::format_task_tree`](crate::EventLoop::format_task_tree) and [`format_call_graph`](crate::format_call_graph).
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
    pub(super) static WAIT_SITE: Cell<Option<WaitSite>> = const { Cell::new(None) };
}

#[inline(always)]
#[track_caller]
fn set_wait_site(what: WaitKind) {
    let at = Location::caller();
    WAIT_SITE.set(Some(WaitSite { at, what }));
}
