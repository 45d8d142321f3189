//! Debugging: asyncio's debug mode, and the task tree of a loop that hangs.
//!
//! # Debug mode
//!
//! | asyncio | tulip |
//! |---|---|
//! | `loop.set_debug(True)`, `loop.get_debug()` | [`set_debug`](crate::EventLoop::set_debug), [`get_debug`](crate::EventLoop::get_debug) |
//! | `PYTHONASYNCIODEBUG=1` | `TULIP_DEBUG=1` (any non-empty value; read once per process) |
//! | `loop.slow_callback_duration = 0.1` | [`set_slow_callback_duration`](crate::EventLoop::set_slow_callback_duration) (default 100 ms) |
//! | `Executing <Handle f() at x.py:3 created at x.py:9> took 0.150 seconds` | `Executing <Handle x::f() created at src/x.rs:9:8> took 0.150 seconds` |
//! | `Executing <Task pending name='Task-1' coro=<...> created at x.py:9> took ...` | `Executing <Task pending name='Task-1' created at src/x.rs:9:8> took ...` |
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
//! // "Executing <Handle rust_out::main::_doctest_main...::{{closure}}() created at
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
