//! Debugging: asyncio's debug mode, the task tree of a loop that hangs, introspection and
//! asyncio's reprs.
//!
//! # Debug mode
//!
//! | asyncio | tulip |
//! |---|---|
//! | `loop.set_debug(True)`, `loop.get_debug()` | [`set_debug`](crate::EventLoop::set_debug), [`get_debug`](crate::EventLoop::get_debug) |
//! | `PYTHONASYNCIODEBUG=1` | `TULIP_DEBUG=1` (any non-empty value; read once per process) |
//! | `loop.slow_callback_duration = 0.1` | [`set_slow_callback_duration`](crate::EventLoop::set_slow_callback_duration) (default 100 ms) |
//! | `Executing <Handle f() at x.py:3 created at x.py:9> took 0.150 seconds` | `Executing <Handle f() created at src/x.rs:9:8> took 0.150 seconds` |
//! | `Executing <TimerHandle when=4012.5 f() at x.py:3 created at x.py:9> took ...` | `Executing <TimerHandle when=4012.5 f() created at src/x.rs:9:8> took ...` |
//! | `Executing <Task pending name='Task-1' coro=<...> wait_for=<...> created at x.py:9> took ...` | `Executing <Task pending name='Task-1' wait_for=<...> created at src/x.rs:9:8> took ...` |
//! | `source_traceback: Object created at (most recent call last):` + the traceback | the same key and header, then the one frame tulip knows: `  File "src/x.rs", line 9, column 8` |
//! | `ValueError: the socket must be non-blocking` from `sock_*` | the same, from every `sock_*` call |
//! | "Non-thread-safe operation invoked on an event loop other than the current one" | a compile error: [`EventLoop`](crate::EventLoop) is `!Send` |
//!
//! The slow-callback warning goes where the default exception handler's reports go: the `log`
//! crate (target `"tulip"`, level warn) when a logger is installed, else stderr.
//!
//! Where things were created comes from `#[track_caller]`: `call_soon`, `call_later`,
//! `call_at`, `create_future`, `create_task` and [`run`](crate::run) record the caller's
//! `file:line:column` (a pointer to static data). Futures and tasks keep it always;
//! callbacks only in debug mode. Python's handle repr also names where the callback
//! function is defined (`f() at x.py:3`); Rust has no such location for a closure, so tulip
//! shows the callback's type name and where it was scheduled. A stackful coroutine's frames
//! are not recorded either: `source_traceback` holds one frame, the call that created it.
//! Callback names are Python's qualified names, made from the Rust type name by
//! [`py_qualname`](crate::py_qualname): `my_app::zero_error` is `zero_error`, a closure in
//! `main` is `main.<locals>.<lambda>`.
//!
//! Off, debug mode costs one flag read per batch of callbacks (the loop picks a timed or an
//! untimed batch runner) and one per `call_soon`/`call_later`/`call_at`; task steps are
//! scheduled as callables that can name their task when asked, so they pay nothing. The
//! task tree's wait sites cost a thread-local store and a two-word store per `co.wait` that
//! suspends, debug mode or not.
//!
//! ```
//! use std::time::Duration;
//!
//! use tulip::EventLoop;
//!
//! let lp = EventLoop::new()?;
//! lp.set_debug(true); // loop.set_debug(True)
//! lp.set_slow_callback_duration(Duration::from_millis(10));
//! // Logged (to stderr here: no logger installed) as
//! // "Executing <Handle main.<locals>.<lambda>() created at
//! // src/guide/debugging.rs:...> took 0.020 seconds".
//! lp.call_soon(|| std::thread::sleep(Duration::from_millis(20)))?;
//! let l = lp.clone();
//! lp.call_soon(move || l.stop())?;
//! lp.run_forever()?;
//! lp.close()?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! # The task tree
//!
//! [`EventLoop::format_task_tree`](crate::EventLoop::format_task_tree) draws every pending
//! task as Python 3.14's `python -m asyncio pstree` does: its name and where it was created,
//! the `co.wait` (or helper: `sleep()`, `Lock.acquire()`, `Queue.get()`, ...) where it is
//! suspended and what it waits on, and below that the tasks it awaits, directly or through a
//! `gather`. [`format_call_graph`](crate::format_call_graph) gives one task and the chain of
//! tasks awaiting it, in 3.14's `asyncio.format_call_graph` layout. Wait sites are recorded
//! always, so neither needs debug mode. examples/task_tree.rs prints both:
//!
//! ```text
//! └── (T) Task-1  created at examples/task_tree.rs:21:5
//!     └──  co.wait() at examples/task_tree.rs:38:12 on <_GatheringFuture pending>
//!         ├── (T) sleeper  created at examples/task_tree.rs:25:26
//!         │   └──  sleep() at examples/task_tree.rs:13:5 on <Future pending>
//!         └── (T) locker  created at examples/task_tree.rs:28:25
//!             └──  Lock.acquire() at examples/task_tree.rs:17:10 on <Future pending>
//!
//! * Task(name='sleeper')
//!   + Call stack:
//!   |   File 'examples/task_tree.rs', line 13, in sleep()
//!   + Awaited by:
//!     * Task(name='Task-1')
//!       + Call stack:
//!       |   File 'examples/task_tree.rs', line 38, in co.wait(<_GatheringFuture pending>)
//! ```
//!
//! ## From a process that hangs
//!
//! [`print_call_graph`](crate::print_call_graph) prints one task's graph to stdout, as 3.14's
//! `asyncio.print_call_graph`. A task suspended in `co.join(task)` is shown as awaiting
//! that task, as one in `co.wait(&task)`.
//!
//! Python's pstree attaches to another process; tulip prints from inside it. Install a signal
//! handler at the start of main, then `kill -USR1 PID` the process that hangs: the handler
//! runs as a loop callback (so only if the loop still turns: a callback that blocks the
//! thread stops everything) and prints the tree to stderr.
//!
//! ```no_run
//! use tulip::get_running_loop;
//!
//! tulip::run(|co| {
//!     let lp = get_running_loop()?;
//!     let l = lp.clone();
//!     lp.add_signal_handler(libc::SIGUSR1, move || l.print_task_tree())?;
//!     // ... the application ...
//!     # let _ = co;
//!     Ok(())
//! })?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! # Introspection
//!
//! What asyncio's own tests read from private attributes, as public methods:
//!
//! | asyncio | tulip |
//! |---|---|
//! | `task._fut_waiter` | [`Task::fut_waiter`](crate::Task::fut_waiter): an [`AnyFuture`](crate::AnyFuture) (`{:?}` is its repr, `is(&fut)` is Python's `is`) |
//! | `len(loop._ready)` | [`EventLoop::ready_len`](crate::EventLoop::ready_len) |
//! | a subclass overriding `_run_once` | [`EventLoop::set_iteration_hook`](crate::EventLoop::set_iteration_hook) (one branch per iteration when unset) and [`EventLoop::iteration`](crate::EventLoop::iteration) |
//! | `loop._selector.get_map()` | [`EventLoop::watched_fds`](crate::EventLoop::watched_fds): `(fd, read, write)` |
//! | `loop.get_exception_handler()` | [`EventLoop::get_exception_handler`](crate::EventLoop::get_exception_handler) |
//! | `fut._cancel_message` (get and set) | [`Future::cancel_message`](crate::Future::cancel_message), [`Future::set_cancel_message`](crate::Future::set_cancel_message), and the same on [`Task`](crate::Task::cancel_message) |
//! | `gen.gi_yieldfrom`, `gen.gi_running`, `gen.gi_suspended` | [`Generator::gi_yieldfrom`](crate::Generator::gi_yieldfrom) (the sub's qualified name), [`is_running`](crate::Generator::is_running), [`is_suspended`](crate::Generator::is_suspended) |
//! | `loop.time()`, `handle.when()` (float seconds) | [`EventLoop::time_secs`](crate::EventLoop::time_secs), [`TimerHandle::when_secs`](crate::TimerHandle::when_secs) |
//!
//! # asyncio's reprs
//!
//! | object | repr |
//! |---|---|
//! | a future | `<Future pending cb=[Task.task_wakeup()]>`, `<Future cancelled>`, `<Future finished exception=ValueError('bad')>`; `fut.repr()` adds the result when `T:` [`PyRepr`](crate::PyRepr) (`<Future finished result=4>`, shortened as `reprlib.repr`), `{:?}` leaves it out |
//! | a task | `<Task pending name='Task-1' wait_for=<Future pending cb=[Task.task_wakeup()]> cb=[_run_until_complete_cb()]>` (Python's `coro=<...>` has no equivalent) |
//! | a handle | `<Handle zero_error()>`, `<Handle cancelled>` |
//! | a timer handle | `<TimerHandle when=40118.566807858 zero_error()>` (`when` in loop-time seconds) |
//! | a failing callback | `Exception in callback zero_error()`, with `handle: <TimerHandle when=... zero_error()>` for a timer's |
//! | a failing done callback | `Exception in callback on_done(<Future cancelled>)`: the user's callback and its future |
//!
//! ```
//! let lp = tulip::EventLoop::new()?;
//! let fut = lp.create_future::<Vec<i32>>();
//! fut.add_done_callback(|_| ());
//! let repr = format!("{fut:?}"); // the closure is a lambda of the function it is in
//! assert!(repr.starts_with("<Future pending cb=[") && repr.ends_with(".<locals>.<lambda>()]>"));
//! fut.set_result((1..=10).collect())?;
//! assert_eq!(fut.repr(), "<Future finished result=[1, 2, 3, 4, 5, 6, ...]>");
//! lp.close()?;
//! # Ok::<(), anyhow::Error>(())
//! ```
