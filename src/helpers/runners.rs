//! `asyncio.run` (layer 8): a new loop, run the main coroutine, cancel the leftovers, close.

use std::cell::Cell;
use std::rc::Rc;

use anyhow::Result;

use crate::callbacks::Escape;
use crate::errors::{CancelledError, ErrorExt, KeyboardInterrupt, RuntimeError};
use crate::event_loop::{EventLoop, ExceptionContext, get_running_loop};
use crate::tasks::{Task, TaskCo, all_tasks};

/// `asyncio.run(main())`: makes a new loop, runs `main` as a task until it completes, cancels
/// every task still pending and lets them finish, closes the async generators left
/// unfinished (`shutdown_asyncgens`), shuts the default executor down (waiting
/// for its threads), then closes the loop and returns `main`'s result (moved out: `T` needs
/// no `Clone`).
///
/// # Examples
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use std::time::Duration;
///
/// // asyncio: answer = asyncio.run(main())
/// let answer = tulip::run(|co| {
///     tulip::sleep(co, Duration::from_millis(1))?; // await asyncio.sleep(0.001)
///     Ok(42)
/// })?;
/// assert_eq!(answer, 42);
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// - Whatever error `main` ends with, as it was raised: `err.downcast_ref::<E>()` finds it
///   unless a task still alive shares it (`ErrorExt::find` always does); `CancelledError` if
///   its task was cancelled.
/// - `RuntimeError("asyncio.run() cannot be called from a running event loop")` when called
///   inside a running loop (e.g. from a task).
/// - The `io::Error` of a loop that cannot be made (no epoll instance: e.g. `EMFILE`).
#[track_caller] // the main task is created where `run` is called
pub fn run<T: 'static>(main: impl FnOnce(&TaskCo) -> Result<T> + 'static) -> Result<T> {
    let lp = new_run_loop()?;
    let task = lp.create_task(main);
    run_main_task(lp, task)
}

/// `run`'s loop: refused inside a running one.
pub(crate) fn new_run_loop() -> Result<EventLoop> {
    if get_running_loop().is_ok() {
        return Err(
            RuntimeError::new("asyncio.run() cannot be called from a running event loop").into(),
        );
    }
    EventLoop::new()
}

/// The rest of `run`, once the main task is made (of either backend).
pub(crate) fn run_main_task<T: 'static>(lp: EventLoop, task: Result<Task<T>>) -> Result<T> {
    // The caller is the main task's one receiver: its value or error is moved out.
    let result = task.and_then(|task| {
        let interrupts = on_sigint(&lp, &task);
        let ran = lp
            .run_until_done(task.future())
            .and_then(|()| task.future().take_result());
        if let Some(count) = interrupts {
            let _ = lp.remove_signal_handler(libc::SIGINT);
            // asyncio.Runner: the main task cancelled by Ctrl-C, and not un-cancelled by
            // itself, is reported as KeyboardInterrupt.
            if count.get() > 0
                && ran
                    .as_ref()
                    .is_err_and(|e| e.isinstance::<CancelledError>())
                && task.uncancel() == 0
            {
                return Err(KeyboardInterrupt.into());
            }
        }
        ran
    });
    let shutdown = cancel_all_tasks(&lp);
    // As asyncio.run: close the async generators left unfinished.
    let l = lp.clone();
    let asyncgens = lp
        .create_task(move |co| l.shutdown_asyncgens(co))
        .and_then(|t| lp.run_until_complete(&t));
    // As asyncio.run: let the default executor's threads finish before closing.
    let l = lp.clone();
    let executor = lp
        .create_task(move |co| l.shutdown_default_executor(co))
        .and_then(|t| lp.run_until_complete(&t));
    lp.close()?;
    let value = result?;
    shutdown?;
    asyncgens?;
    executor?;
    Ok(value)
}

/// asyncio.Runner's SIGINT handler, on the main thread when nobody else handles SIGINT: the
/// first Ctrl-C cancels the main task (which may clean up), a second one (or one after the
/// main task is done) leaves the loop at once with `KeyboardInterrupt`. Returns the count of
/// interrupts when installed.
fn on_sigint<T: 'static>(lp: &EventLoop, task: &Task<T>) -> Option<Rc<Cell<u32>>> {
    if !crate::sys::is_main_thread()
        || !crate::sys::has_default_disposition(libc::SIGINT).unwrap_or(false)
    {
        return None;
    }
    let count = Rc::new(Cell::new(0u32));
    let (n, main) = (count.clone(), task.as_any());
    lp.add_signal_handler(libc::SIGINT, move || {
        n.set(n.get() + 1);
        if n.get() == 1 && !main.done() {
            main.cancel(None);
            return;
        }
        // Raised out of the loop, as Python's handler raises KeyboardInterrupt.
        std::panic::resume_unwind(Box::new(Escape(KeyboardInterrupt.into())));
    })
    .ok()?;
    Some(count)
}

/// Cancels every pending task and runs the loop until all of them are done; a task that
/// fails while being cancelled is reported to the exception handler.
fn cancel_all_tasks(lp: &EventLoop) -> Result<()> {
    let tasks = all_tasks(Some(lp))?;
    if tasks.is_empty() {
        return Ok(());
    }
    for t in &tasks {
        t.cancel(None);
    }
    let all_done = lp.create_future::<()>();
    let left = std::rc::Rc::new(std::cell::Cell::new(tasks.len()));
    for t in &tasks {
        let (left, all_done) = (left.clone(), all_done.clone());
        t.on_done(Box::new(move || {
            left.set(left.get() - 1);
            if left.get() == 0 {
                let _ = all_done.set_result(());
            }
        }));
    }
    lp.run_until_complete(&all_done)?;
    for t in &tasks {
        if let Some(err) = t.exception_if_failed()
            && !err.isinstance::<CancelledError>()
        {
            lp.call_exception_handler(ExceptionContext {
                message: "unhandled exception during asyncio.run() shutdown".to_string(),
                fields: vec![("task", format!("{t:?}"))],
                exception: Some(err),
            });
        }
    }
    Ok(())
}
