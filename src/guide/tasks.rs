//! Futures and tasks: `Future`, `Task`, `co.wait`, cancellation.
//!
//! [`Future<T>`](crate::Future) is asyncio's Future, bound to a loop (`lp.create_future()`);
//! clones share one future. [`Task<T>`](crate::Task) drives a coroutine from loop callbacks and
//! is itself a future of the body's return value. A task's body is a closure that receives the
//! coroutine handle `co` ([`&TaskCo`](crate::TaskCo)); `co.wait(&fut)` is `await fut`. It works
//! from any plain function the handle is passed to, at any call depth: there is no `async`
//! colouring. (Mind [the suspension hazard](crate#the-suspension-hazard): no `RefCell` borrow
//! across a call that takes `co`.)
//!
//! | asyncio | tulip |
//! |---|---|
//! | `fut = loop.create_future()` | `let fut = lp.create_future::<i32>();` |
//! | `fut.set_result(5)` / `fut.set_exception(e)` | `fut.set_result(5)?` / `fut.set_exception(e.into())?` |
//! | `fut.result()`, `fut.exception()`, `fut.done()`, `fut.cancelled()` | the same names; `result()` returns `anyhow::Result<T>` |
//! | `fut.cancel(msg)` | `fut.cancel(Some("msg"))` → `bool` |
//! | `fut.add_done_callback(cb)` / `remove_done_callback(cb)` | `let id = fut.add_done_callback(\|f\| ...);` / `fut.remove_done_callback(id)` → count |
//! | `task = loop.create_task(coro())` | `let task = lp.create_task(move \|co\| { ...; Ok(v) })?;` |
//! | `r = await fut` / `yield from fut` | `let r = co.wait(&fut)?;` (also `co.wait(&task)`) |
//! | `await asyncio.sleep(0)` / `await asyncio.sleep(d)` | `sleep(co, Duration::ZERO)?` (or `co.yield_now()?`) / `sleep(co, d)?` |
//! | `await sub()` (a coroutine object) | `co.await_(Coroutine::new(\|co\| ...))?` or just call a function with `co` |
//! | `loop.run_until_complete(task)` | `lp.run_until_complete(&task)?` |
//! | `asyncio.run(main())` | `tulip::run(\|co\| main(co))?` |
//! | `asyncio.current_task()`, `asyncio.all_tasks()` | `current_task(None)?`, `all_tasks(None)?` (an `AnyTask`) |
//! | `task.cancel(msg)`, `cancelling()`, `uncancel()`, `get_name()`, `set_name()` | the same names |
//! | `except asyncio.CancelledError:` | `Err(e) if e.isinstance::<CancelledError>() =>` |
//!
//! A task waiting for a timer-resolved future (`cargo run --example loop_task`):
//!
//! ```python
//! async def coroutine(fut):
//!     print("wait future")
//!     result = await fut
//!     print("future result", result)
//!     return result * 2
//!
//! fut = loop.create_future()
//! task = loop.create_task(coroutine(fut))
//! loop.call_later(0.010, fut.set_result, 5)
//! print("task result", loop.run_until_complete(task))
//! ```
//!
//! ```rust
//! use std::time::Duration;
//!
//! use tulip::EventLoop;
//!
//! let lp = EventLoop::new()?;
//! let fut = lp.create_future::<i32>();
//! let waited = fut.clone();
//! let task = lp.create_task(move |co| {
//!     println!("wait future");
//!     let result = co.wait(&waited)?; // result = await fut
//!     println!("future result {result}");
//!     Ok(result * 2)
//! })?;
//! lp.call_later(Duration::from_millis(10), move || fut.set_result(5).unwrap())?;
//! println!("task result {}", lp.run_until_complete(&task)?);
//! lp.close()?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Cancellation, as asyncio does it:
//!
//! ```python
//! async def worker():
//!     try:
//!         await asyncio.sleep(10)
//!     except asyncio.CancelledError:
//!         print("cleaning up")
//!         raise
//!
//! t = asyncio.create_task(worker())
//! await asyncio.sleep(0)
//! t.cancel("stop")
//! ```
//!
//! ```rust
//! use std::time::Duration;
//!
//! use tulip::{CancelledError, ErrorExt, get_running_loop, sleep};
//!
//! tulip::run(|co| {
//!     let t = get_running_loop()?.create_task(|co| {
//!         match sleep(co, Duration::from_secs(10)) {
//!             Err(e) if e.isinstance::<CancelledError>() => {
//!                 println!("cleaning up");
//!                 Err(e) // re-raise
//!             }
//!             other => other,
//!         }
//!     })?;
//!     sleep(co, Duration::ZERO)?; // let the worker start
//!     t.cancel(Some("stop"));
//!     let err = co.wait(&t).unwrap_err();
//!     assert!(err.isinstance::<CancelledError>() && t.cancelled());
//!     Ok(())
//! })?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Done callbacks, and a sub-coroutine in the generator style:
//!
//! ```rust
//! use tulip::{Coroutine, EventLoop};
//!
//! let lp = EventLoop::new()?;
//! let fut = lp.create_future::<i32>();
//! let id = fut.add_done_callback(|f| println!("done with {:?}", f.result().ok()));
//! fut.add_done_callback(|f| println!("also {:?}", f.result().ok()));
//! assert_eq!(fut.remove_done_callback(id), 1);
//! let f = fut.clone();
//! let task = lp.create_task(move |co| {
//!     // await sub(): a generator-style coroutine, or just a function that takes `co`
//!     let doubled = co.await_(Coroutine::new(move |co| Ok(co.wait(&f)? * 2)))?;
//!     Ok(doubled + 1)
//! })?;
//! fut.set_result(20)?;
//! assert_eq!(lp.run_until_complete(&task)?, 41);
//! lp.close()?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! **Owned results.** `co.wait(&task)` shares: every awaiter gets a clone of the result
//! (`T: Clone`) and a shared handle to the error. A task with one awaiter, asyncio's common
//! `x = await task`, is better joined: `co.join(task)` consumes the handle and moves the
//! outcome out, so the result needs no `Clone` (a `File`, a `Box<dyn Any>`) and the error is
//! the one raised, found by plain `err.downcast_ref::<MyError>()`, with the backtrace captured
//! where it was made. Cancelling the joiner cancels the task, as with `wait`. Other clones of
//! the handle then get `InvalidStateError("Result already taken.")`. [`tulip::run`](crate::run)
//! hands the main task's outcome to its caller the same way.
//!
//! ```rust
//! use tulip::get_running_loop;
//!
//! let bytes: Box<[u8]> = tulip::run(|co| {
//!     let reader = get_running_loop()?.create_task(|_co| Ok(vec![1u8, 2, 3].into_boxed_slice()))?;
//!     co.join(reader) // bytes = await reader
//! })?;
//! assert_eq!(&*bytes, [1, 2, 3]);
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! What holds, with asyncio's messages and iteration costs:
//! - **Futures**: `result()` while pending is `InvalidStateError("Result is not set.")`; setting a
//!   done future is `InvalidStateError("invalid state")`; `set_exception(StopIteration)` is
//!   refused with asyncio's TypeError; done callbacks always run through `call_soon`, in
//!   registration order, also when added to a done future. One failure reaches every awaiter as
//!   a shared error that still downcasts (`err.find::<MyError>()`) and prints as the error
//!   itself; a single receiver (`co.join`, `run`) gets the error itself. A failed future dropped
//!   without anyone reading its exception is reported ("Future exception was never retrieved").
//!   Dropping a chain of 300,000 futures does not recurse.
//! - **Tasks**: the first step is scheduled with `call_soon`, so tasks start in creation order in
//!   the next iteration; a future completed in iteration k wakes its task in k+1; a bare yield
//!   costs exactly one iteration; awaiting a done future does not suspend. An error escaping the
//!   body fails the task; a panic in the body becomes the task's exception (`tulip::Panic`) and
//!   the loop goes on. A task awaiting itself, or a future of another loop, gets asyncio's
//!   RuntimeError at its wait.
//! - **Cancellation**: `cancel(msg)` before the first step means the body never runs; while
//!   waiting, the awaited future (or task) is cancelled and `CancelledError(msg)` reaches the body
//!   at its wait, where it may catch it and go on; a cancel that arrives after the awaited future
//!   got its result wins over the result; `cancelling()` counts requests, only `uncancel()`
//!   lowers it; the message is kept by the first `result()` and lost by the second, as in CPython.
//! - **Lifetimes**: a pending task is owned by whatever will step it next (the ready queue, or
//!   the future it waits for). When the loop closes, pending tasks are reported ("Task was
//!   destroyed but it is pending!") and their stacks unwound (destructors run): nothing leaks.
//! - **[`tulip::run`](crate::run)** makes a loop, runs the main task, cancels the tasks left and
//!   waits for them (an error raised while cancelling is reported as "unhandled exception during
//!   asyncio.run() shutdown"), shuts the default executor down (waiting for its threads, as
//!   `asyncio.run` does), then closes the loop. On the main thread it handles Ctrl-C as
//!   asyncio's `Runner`: the first SIGINT cancels the main task, which may clean up, and `run`
//!   returns [`KeyboardInterrupt`](crate::KeyboardInterrupt); a second one leaves the loop at
//!   once (examples/ctrl_c.rs). A task ending with `SystemExit` or `KeyboardInterrupt` fails
//!   and the error leaves the loop ([errors](crate::guide::errors#errors-that-leave-the-loop)).
//! - **Context variables**: a task runs in a copy of the context current when it was created
//!   ([contextvars](crate::guide::contextvars)).
//!
//! Differences from asyncio, by design: Rust closures have no identity, so `add_done_callback`
//! returns a `CallbackId` to remove; Python finds unreachable pending tasks with its garbage
//! collector, tulip reports them when the loop closes; done callbacks of a task receive its
//! result future (`&Future<T>`), not the task.
//!
//! # Stackless task bodies (nightly)
//!
//! With the `nightly` feature, a task's body may be a nightly coroutine instead of a closure
//! taking `co`: `lp.create_task_stackless(#[coroutine] static move |_| { ... })`, or
//! `tulip::stackless::run(...)` for `asyncio.run`. It is the same `Task`, stepped by the same
//! code: the ordering, cancellation and every rule above hold, and the task parity cases run
//! on both kinds of body (`tests/task_cases/cases.rs`). A stackless body awaits by yielding:
//!
//! | asyncio | stackful body | stackless body |
//! |---|---|---|
//! | `r = await fut` (a future, a task, `gather(...)`, `shield(...)`) | `co.wait(&fut)?` | `await_!(fut)?` |
//! | `await asyncio.sleep(0)` | `co.yield_now()?` | `yield_now!()?` |
//! | `await asyncio.sleep(d)` | `sleep(co, d)?` | `yield_from!(tulip::stackless::sleep(d))?` |
//! | `await sub()` (a coroutine) | `sub(co)?` | `yield_from!(sub())?`, `sub()` a `stackless::Coroutine<T>` |
//! | `await lock.acquire()`, `await q.get()` (every wait of the sync primitives) | `lock.acquire(co)?`, `q.get(co)?` | `yield_from!(lock.acquire_stackless())?`, `yield_from!(q.get_stackless())?` |
//! | `await asyncio.wait_for(t, d)`, `timeout`, `wait`, `TaskGroup` | `wait_for(co, &t, Some(d))?` | `yield_from!(tulip::stackless::wait_for(&t, Some(d)))?` (`stackless::timeout`, `stackless::wait`, `stackless::task_group`) |
//! | `await reader.readline()`, `await writer.drain()` | `reader.readline(co)?` | `yield_from!(reader.readline_stackless())?`, `yield_from!(writer.drain_stackless())?` |
//! | anything else written for `co` (`open_connection`, `lock.with`) | `open_connection(co, host, port)?` | `yield_from!(tulip::stackless::stackful(move \|co\| open_connection(co, &host, port)))?` |
//! | `tg.create_task(coro())` | `tg.create_task(\|co\| ...)?` | `tg.create_task_stackless(#[coroutine] static move \|_\| ...)?` |
//!
//! `stackful(f)` is a stackful coroutine a stackless body delegates to: `f` runs on a pooled
//! stack that the task holds only while `f` runs, with the same ordering as if the body had
//! called it. Its closure is `'static`: move clones of what it needs into it.
//! `stackless::sleep`, `await_!`, the `_stackless` waits of the sync primitives and the
//! stackless `wait_for`, `timeout`, `wait` and `task_group` need no stack.
//!
//! ```rust,ignore
//! #![feature(coroutines)]
//! use std::time::Duration;
//! use tulip::{await_, get_running_loop, yield_from, stackless};
//!
//! let answer = stackless::run(#[coroutine] static |_| {
//!     let lp = get_running_loop()?;
//!     let task = lp.create_task_stackless(#[coroutine] static |_| {
//!         yield_from!(stackless::sleep(Duration::from_millis(10)))?;
//!         Ok(21)
//!     })?;
//!     Ok(await_!(task)? * 2)
//! })?;
//! assert_eq!(answer, 42);
//! ```
//!
//! A suspended stackless task costs its task allocation and a state machine of a few dozen
//! bytes (0.49 KiB resident in all, against about 4.4 KiB with a stack); a stackful
//! body can wait from any plain function it passes `co` to, a stackless one only where it
//! writes `await_!` or `yield_from!`, as in Python.
