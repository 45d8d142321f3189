//! Timeouts and task groups: `wait_for`, `timeout`, `TaskGroup`.
//!
//! These follow Python 3.11 exactly, including the ordering of events; the parity tests in
//! `tests/helpers_cases/timeout.rs` print the same traces as their Python twins in
//! `tests/cases/helpers/`. An `async with` block becomes a closure that receives the coroutine
//! handle `co` and the context manager; `await x` is `co.wait(&x)`; an exception is an `Err`,
//! and `except E` is `e.isinstance::<E>()`.
//!
//! # `wait_for`: wait at most so long, and never leave the inner task running
//!
//! ```python
//! async def main():
//!     task = asyncio.create_task(work())
//!     try:
//!         result = await asyncio.wait_for(task, 0.5)
//!     except TimeoutError:
//!         # task was cancelled, and has finished, before wait_for returned
//!         print("gave up", task.cancelled())
//!     other = await asyncio.wait_for(work(), 0.5)   # a coroutine: runs as a new task
//! ```
//!
//! ```rust
//! use std::time::Duration;
//!
//! use anyhow::Result;
//! use tulip::{ErrorExt, TaskCo, TimeoutError, sleep, wait_for, wait_for_fn};
//!
//! fn work(co: &TaskCo) -> Result<i32> {
//!     sleep(co, Duration::from_millis(1))?;
//!     Ok(7)
//! }
//!
//! fn slow(co: &TaskCo) -> Result<i32> {
//!     sleep(co, Duration::from_secs(60))?;
//!     Ok(0)
//! }
//!
//! tulip::run(|co| {
//!     let lp = tulip::get_running_loop()?;
//!     let task = lp.create_task(slow)?;
//!     match wait_for(co, &task, Some(Duration::from_millis(20))) {
//!         Ok(result) => println!("got {result}"),
//!         Err(e) if e.isinstance::<TimeoutError>() => println!("gave up {}", task.cancelled()),
//!         Err(e) => return Err(e),
//!     }
//!     assert!(task.cancelled());
//!     let other = wait_for_fn(co, Some(Duration::from_millis(500)), work)?;
//!     assert_eq!(other, 7);
//!     Ok(())
//! })?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! - `None` is a plain wait; a zero timeout returns the result if it is already there, else
//!   cancels and waits (for a closure: the task is cancelled before its first step, so the body
//!   never runs).
//! - On timeout the inner task is cancelled and **waited for**: if it swallows the cancel and
//!   returns a value, `wait_for` returns that value; otherwise `TimeoutError`, whose
//!   `tulip::cause(&e)` is the `CancelledError` (Python's `raise TimeoutError from exc`).
//! - If the task calling `wait_for` is cancelled, the inner one is cancelled and waited for, and
//!   the `CancelledError` propagates.
//!
//! # `timeout` / `timeout_at`: a deadline for a block
//!
//! ```python
//! async with asyncio.timeout(0.5) as cm:
//!     await step_one()
//!     cm.reschedule(loop.time() + 1.0)   # more time for step two
//!     await step_two()
//! print(cm.expired())
//! ```
//!
//! ```rust
//! use std::time::Duration;
//!
//! use tulip::{Timeout, get_running_loop, sleep, timeout, timeout_at};
//!
//! tulip::run(|co| {
//!     let lp = get_running_loop()?;
//!     let cm = Timeout::after(Some(Duration::from_millis(500)))?; // asyncio.timeout(0.5)
//!     cm.run(co, |co, cm| {                                       // async with ... as cm:
//!         sleep(co, Duration::from_millis(1))?;                   // step one
//!         cm.reschedule(Some(lp.time() + Duration::from_secs(1)))?;
//!         sleep(co, Duration::from_millis(1))                     // step two
//!     })?;
//!     assert!(!cm.expired());
//!
//!     // When `cm` is not needed afterwards:
//!     timeout(co, Some(Duration::from_millis(500)), |co, _| sleep(co, Duration::ZERO))?;
//!     let late = timeout_at(co, Some(lp.time()), |co, _| sleep(co, Duration::from_secs(60)));
//!     assert!(tulip::py_repr(&late.unwrap_err()).starts_with("TimeoutError"));
//!     Ok(())
//! })?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! - The deadline calls `task.cancel()` on the task that entered the scope; the body sees a
//!   `CancelledError` at its current wait, and the scope turns it into `TimeoutError` on the way
//!   out. A past deadline (or `timeout(Duration::ZERO)`) fires in the next iteration.
//! - It converts only its own cancellation: on exit it calls `uncancel()` and compares
//!   `cancelling()` with the value recorded at entry. A cancel from outside stays a
//!   `CancelledError`, and with nested scopes that both expired only the outer one converts.
//! - States `created → active → expiring → expired`, or `active → finished`; the `Debug` output
//!   is Python's repr (`<Timeout [active] when=+0.500>`, where the deadline is shown in seconds
//!   from now), and `state()` returns the state.
//! - Errors, as in Python: `Timeout has already been entered`, `Timeout should be used inside a
//!   task`, `Timeout has not been entered`, `Cannot change state of finished Timeout` (also
//!   `expiring`, `expired`).
//!
//! # `TaskGroup`: children that finish, or fail, together
//!
//! ```python
//! async with asyncio.TaskGroup() as tg:
//!     t1 = tg.create_task(fetch("a"))
//!     t2 = tg.create_task(fetch("b"))
//! print(t1.result(), t2.result())        # both are done here
//! ```
//!
//! ```rust
//! use anyhow::Result;
//! use tulip::{TaskCo, task_group};
//!
//! fn fetch(co: &TaskCo, what: &str) -> Result<String> {
//!     co.yield_now()?;
//!     Ok(what.to_uppercase())
//! }
//!
//! tulip::run(|co| {
//!     let (t1, t2) = task_group(co, |_, tg| {
//!         let t1 = tg.create_task(|co| fetch(co, "a"))?;
//!         let t2 = tg.create_task(|co| fetch(co, "b"))?;
//!         Ok((t1, t2)) // the closure's value comes out of the block
//!     })?;
//!     println!("{} {}", t1.result()?, t2.result()?); // both are done here
//!     Ok(())
//! })?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! The first child error aborts the group: every other child is cancelled, and the parent task
//! is cancelled once so that the body stops at its current wait. The group then waits for all
//! children and fails with an [`ExceptionGroup`](crate::ExceptionGroup) holding every child
//! error (and the body's own error, if it failed with something other than `CancelledError`):
//!
//! ```python
//! try:
//!     async with asyncio.TaskGroup() as tg:
//!         tg.create_task(fails())
//!         tg.create_task(sleeps_long())      # cancelled
//!         await asyncio.sleep(10)            # cancelled too
//! except* ValueError as eg:
//!     print(eg.exceptions)
//! ```
//!
//! ```rust
//! use std::time::Duration;
//!
//! use anyhow::Result;
//! use tulip::{ErrorExt, ExceptionGroup, TaskCo, ValueError, sleep, task_group};
//!
//! fn fails(co: &TaskCo) -> Result<()> {
//!     co.yield_now()?;
//!     Err(ValueError::new("bad").into())
//! }
//!
//! fn sleeps_long(co: &TaskCo) -> Result<()> {
//!     sleep(co, Duration::from_secs(10))
//! }
//!
//! tulip::run(|co| {
//!     match task_group(co, |co, tg| {
//!         tg.create_task(fails)?;
//!         tg.create_task(sleeps_long)?;
//!         sleep(co, Duration::from_secs(10))
//!     }) {
//!         Err(e) if e.isinstance::<ExceptionGroup>() => {
//!             let eg = e.exc::<ExceptionGroup>().unwrap();
//!             assert!(eg.contains::<ValueError>());
//!             for err in eg.exceptions() {
//!                 println!("{}", tulip::py_repr(err)); // each keeps its Rust type
//!             }
//!         }
//!         other => other?,
//!     }
//!     Ok(())
//! })?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! - `py_str` of the error is Python's `unhandled errors in a TaskGroup (N sub-exceptions)`;
//!   `eg.contains::<E>()` looks for a type through nested groups.
//! - Cancelling the parent cancels the body and every child; the `CancelledError` propagates when
//!   no child failed. The group `uncancel()`s the cancel it made itself, so a task that catches
//!   the `ExceptionGroup` is not left cancelling.
//! - A child may add siblings through a clone of the handle: `let tg2 = tg.clone();`.
//!   `create_task` is refused with `RuntimeError` before entry (`TaskGroup <TaskGroup> has not
//!   been entered`), after the block (`... is finished`) and while aborting (`... is shutting
//!   down`). `create_task_named(name, body)` is `create_task(coro, name=name)`.
//!
//! # On the stackless backend (nightly)
//!
//! A stackless task body (`#[coroutine]`, see [`tasks`](super::tasks)) has native forms of
//! these, delegated to with `yield_from!`: the same code as the stackful ones, cut at their
//! waits, so the semantics are the same and no stack is held while the task waits. A scope's
//! body is a stackless coroutine; it reaches `cm` or `tg` through a clone it owns.
//!
//! | asyncio | stackless body |
//! |---|---|
//! | `await asyncio.wait_for(t, 0.5)` | `yield_from!(stackless::wait_for(&t, Some(d)))?` |
//! | `await asyncio.wait_for(coro(), 0.5)` | `yield_from!(stackless::wait_for_coro(Some(d), #[coroutine] static move \|_\| { ... }))?` |
//! | `async with asyncio.timeout(0.5): ...` | `yield_from!(stackless::timeout(Some(d), #[coroutine] static move \|_\| { ... }))?` |
//! | `async with cm: ...` (a `Timeout` kept) | `yield_from!(cm.run_stackless(#[coroutine] static move \|_\| { ... }))?` |
//! | `async with asyncio.TaskGroup() as tg: ...` | `yield_from!(stackless::task_group(\|tg\| #[coroutine] static move \|_\| { ... }))?` |
//! | `tg.create_task(coro())` | `tg.create_task_stackless(#[coroutine] static move \|_\| { ... })?` |
//!
//! ```rust,ignore
//! #![feature(coroutines)]
//! use std::time::Duration;
//! use tulip::stackless::{self, sleep};
//! use tulip::{ErrorExt, TimeoutError, yield_from};
//!
//! stackless::run(#[coroutine] static |_| {
//!     let late = yield_from!(stackless::timeout(Some(Duration::from_millis(10)), #[coroutine] static |_| {
//!         yield_from!(sleep(Duration::from_secs(3600)))
//!     }));
//!     assert!(late.unwrap_err().isinstance::<TimeoutError>());
//!     let n = yield_from!(stackless::task_group(|tg| #[coroutine] static move |_| {
//!         let a = tg.create_task_stackless(#[coroutine] static |_| Ok(1))?;
//!         Ok(a)
//!     }))?;
//!     assert_eq!(n.result()?, 1);
//!     Ok(())
//! })?;
//! ```
//!
//! # Cancellation in the scopes, in brief
//!
//! | asyncio | tulip |
//! |---|---|
//! | `task.cancel(msg)` | `task.cancel(Some(msg))` |
//! | `except asyncio.CancelledError:` | `Err(e) if e.isinstance::<CancelledError>()` |
//! | `task.cancelling()`, `task.uncancel()` | the same methods (`current_task(None)?` for the running task) |
//! | `raise TimeoutError from exc` | `tulip::raise_from(TimeoutError, exc)`; `tulip::cause(&e)` is `__cause__` |
//! | `except* E` on a group | `e.exc::<ExceptionGroup>()` and `eg.exceptions()` / `eg.contains::<E>()` |
//!
//! The differences from asyncio 3.11 are listed in [`differences`](super::differences).
