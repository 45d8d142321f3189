//! Waiting for many: `gather`, `shield`, `wait`, `as_completed`.
//!
//! tulip's helpers are asyncio's, built the same way, on done callbacks, so they cost the
//! same loop iterations (a child done in iteration k resolves a `gather` in k+1 and wakes the
//! task waiting on it in k+2). asyncio wraps coroutines passed to these helpers in tasks; in
//! tulip you make the tasks yourself with `lp.create_task(...)`. Children are passed by
//! reference: anything [`Awaitable`](crate::Awaitable) (futures, tasks, gatherings), all of one
//! output type. To mix kinds, use `&dyn Awaitable<Output = T>`.
//!
//! The examples below share these two coroutines:
//!
//! ```rust
//! use std::time::Duration;
//! use anyhow::Result;
//! use tulip::{Exception, TaskCo, sleep};
//!
//! fn fetch(co: &TaskCo, n: i32) -> Result<i32> {
//!     sleep(co, Duration::from_millis(n as u64))?;
//!     Ok(n * 10)
//! }
//!
//! fn failing(co: &TaskCo) -> Result<i32> {
//!     sleep(co, Duration::ZERO)?;
//!     Err(Exception::new("ZeroDivisionError", "division by zero").into())
//! }
//! # tulip::run(|co| { assert_eq!(fetch(co, 1)?, 10); assert!(failing(co).is_err()); Ok(()) }).unwrap();
//! ```
//!
//! # gather
//!
//! ```python
//! a = asyncio.create_task(fetch(1))
//! b = asyncio.create_task(fetch(2))
//! results = await asyncio.gather(a, b)            # [r1, r2], in argument order
//! try:
//!     await asyncio.gather(a, failing())          # the first error, at once
//! except ZeroDivisionError:
//!     ...
//! outcomes = await asyncio.gather(a, failing(), return_exceptions=True)
//! # [r1, ZeroDivisionError(...)]
//! ```
//!
//! ```rust
//! # use std::time::Duration;
//! # use anyhow::Result;
//! # use tulip::{Exception, TaskCo, sleep};
//! # fn fetch(co: &TaskCo, n: i32) -> Result<i32> { sleep(co, Duration::from_millis(n as u64))?; Ok(n * 10) }
//! # fn failing(co: &TaskCo) -> Result<i32> { sleep(co, Duration::ZERO)?; Err(Exception::new("ZeroDivisionError", "division by zero").into()) }
//! use tulip::{SharedError, gather, gather_settled, get_running_loop, py_repr};
//!
//! tulip::run(|co| {
//!     let lp = get_running_loop()?;
//!     let a = lp.create_task(|co| fetch(co, 1))?;
//!     let b = lp.create_task(|co| fetch(co, 2))?;
//!     let results: Vec<i32> = co.wait(&gather([&a, &b])?)?;
//!     assert_eq!(results, [10, 20]);
//!
//!     let bad = lp.create_task(failing)?;
//!     if let Err(e) = co.wait(&gather([&a, &bad])?) {
//!         // the first error, at once; the other children keep running
//!         assert_eq!(py_repr(&e), "ZeroDivisionError('division by zero')");
//!     }
//!     let outcomes: Vec<Result<i32, SharedError>> = co.wait(&gather_settled([&a, &bad])?)?;
//!     assert!(outcomes[0].is_ok() && outcomes[1].is_err());
//!     Ok(())
//! })?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! - `gather(children)` returns a [`Gathering<T>`](crate::Gathering) (asyncio's
//!   `_GatheringFuture`), an `Awaitable` with output `Vec<T>`. Without `return_exceptions`, the
//!   first child to fail fails the outer at once. A cancelled child counts as a failure: the
//!   outer fails with that `CancelledError`, and `g.cancelled()` stays false.
//! - `gather_settled(children)` is `return_exceptions=True`. Each entry is `Ok(value)` or
//!   `Err(shared error)`. A cancelled child gives `CancelledError('')`, or `CancelledError(msg)`
//!   for a plain future cancelled with a message; a task that was cancelled gives
//!   `CancelledError('')`, as CPython does.
//! - `g.cancel(msg)` cancels every child. It returns true if any child's cancel succeeded, and the
//!   outer then fails with `CancelledError` (even with `gather_settled`). Once the outer is done it
//!   returns false. Cancelling a task that waits on a gathering forwards the cancel there.
//! - A child's result is cloned (`T: Clone`) when the child finishes, where asyncio reads it in
//!   the callback an iteration later: the gathering keeps no reference to a child that is still
//!   pending, and a value read then is the same value. Only a `Clone` with side effects could
//!   tell the difference.
//! - A child passed twice is waited for once, and its result appears in both places.
//!   `gather(std::iter::empty::<&Task<T>>())` is already resolved to `vec![]` (this needs a running
//!   loop). Children from two different loops give asyncio's `ValueError`.
//!
//! # shield
//!
//! ```python
//! task = asyncio.create_task(save())
//! try:
//!     res = await asyncio.shield(task)
//! except asyncio.CancelledError:
//!     res = await task        # we were cancelled; save() was not
//! ```
//!
//! ```rust
//! use std::time::Duration;
//!
//! use tulip::{CancelledError, ErrorExt, current_task, get_running_loop, shield, sleep};
//!
//! tulip::run(|co| {
//!     let lp = get_running_loop()?;
//!     let task = lp.create_task(|co| {
//!         sleep(co, Duration::from_millis(5))?; // save()
//!         Ok("saved")
//!     })?;
//!     // Something cancels us in the next iteration.
//!     let me = current_task(None)?.unwrap();
//!     lp.call_soon(move || {
//!         me.cancel(None);
//!     })?;
//!     let res = match co.wait(&shield(&task)) {
//!         Err(e) if e.isinstance::<CancelledError>() => co.wait(&task)?, // save() goes on
//!         other => other?,
//!     };
//!     assert_eq!(res, "saved");
//!     Ok(())
//! })?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! `shield(&aw)` returns a `Future<T>`. If `aw` is already done, that future is `aw`'s own future:
//! `shield(&fut).ptr_eq(&fut)`. Otherwise it returns a new future. Cancelling that new future, or
//! the task waiting on it, leaves `aw` alone. If `aw` itself is cancelled, the new future is
//! cancelled too (without the message, as in asyncio). Results and errors are copied over.
//!
//! # wait
//!
//! ```python
//! done, pending = await asyncio.wait([a, b], timeout=0.5,
//!                                    return_when=asyncio.FIRST_COMPLETED)
//! for t in pending:
//!     t.cancel()
//! ```
//!
//! ```rust
//! # use std::time::Duration;
//! # use anyhow::Result;
//! # use tulip::{TaskCo, sleep};
//! # fn fetch(co: &TaskCo, n: i32) -> Result<i32> { sleep(co, Duration::from_millis(n as u64))?; Ok(n * 10) }
//! use tulip::{ReturnWhen, get_running_loop, wait};
//!
//! tulip::run(|co| {
//!     let lp = get_running_loop()?;
//!     let a = lp.create_task(|co| fetch(co, 1))?;
//!     let b = lp.create_task(|co| fetch(co, 10_000))?;
//!     let (done, pending) = wait(
//!         co,
//!         [&a, &b],
//!         Some(Duration::from_millis(500)),
//!         ReturnWhen::FirstCompleted,
//!     )?;
//!     assert_eq!((done.len(), pending.len()), (1, 1));
//!     for t in &pending {
//!         t.cancel(None);
//!     }
//!     Ok(())
//! })?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! `wait` returns clones of the children: each child appears once, in argument order (asyncio
//! returns sets). [`ReturnWhen`](crate::ReturnWhen) is `FirstCompleted`, `FirstException` (a
//! cancelled child does not count as an exception), or `AllCompleted` (the default). The timeout
//! raises nothing and cancels nothing. Cancelling the waiting task leaves the children running.
//! With no children, `wait` gives `ValueError("Set of Tasks/Futures is empty.")`.
//!
//! # as_completed
//!
//! ```python
//! for next_done in asyncio.as_completed([a, b, c], timeout=0.1):
//!     try:
//!         print(await next_done)          # in completion order
//!     except asyncio.TimeoutError:
//!         print("too late")
//! ```
//!
//! ```rust
//! # use std::time::Duration;
//! # use anyhow::Result;
//! # use tulip::{TaskCo, sleep};
//! # fn fetch(co: &TaskCo, n: i32) -> Result<i32> { sleep(co, Duration::from_millis(n as u64))?; Ok(n * 10) }
//! use tulip::{ErrorExt, TimeoutError, as_completed, get_running_loop};
//!
//! tulip::run(|co| {
//!     let lp = get_running_loop()?;
//!     let a = lp.create_task(|co| fetch(co, 20))?;
//!     let b = lp.create_task(|co| fetch(co, 1))?;
//!     let c = lp.create_task(|co| fetch(co, 60_000))?;
//!     let mut seen = Vec::new();
//!     for next_done in as_completed([&a, &b, &c], Some(Duration::from_millis(100)))? {
//!         match next_done.wait(co) {
//!             Ok(v) => seen.push(v), // in completion order
//!             Err(e) if e.isinstance::<TimeoutError>() => println!("too late"),
//!             Err(e) => return Err(e),
//!         }
//!     }
//!     assert_eq!(seen, [10, 200]);
//!     c.cancel(None); // as_completed does not cancel the children
//!     Ok(())
//! })?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! `as_completed` yields one [`NextDone`](crate::NextDone) per distinct child. Each
//! `next_done.wait(co)` returns the result or the error of the next child to finish. Waits are
//! served in the order they are called, whichever `NextDone` you call them on. After the
//! timeout, every wait that has not been served fails with `TimeoutError`. The children are not
//! cancelled.
//!
//! # On the stackless backend (nightly)
//!
//! A stackless task body waits in `wait` and `as_completed` natively, with no stack held:
//! `let (done, pending) = yield_from!(stackless::wait(&tasks, None,
//! ReturnWhen::FirstCompleted))?;` and `for next in as_completed(&tasks, None)? { let r =
//! yield_from!(next.wait_stackless())?; ... }`. They run the stackful forms' code, so
//! results, order and cancellation are the same. `gather` and `shield` return awaitables,
//! which a stackless body awaits with `await_!`, holding no stack either.
//!
//! # Ownership
//!
//! A child's done callbacks own the gathering, shield or as_completed state. The helpers point
//! back at the children only weakly, so a child that never finishes makes no reference cycle:
//! closing the loop frees everything. One consequence differs from asyncio: a child that nobody
//! else holds (a future created inline and never resolved) is dropped rather than kept alive by
//! the gathering. `g.cancel()` then cannot reach it.
