//! Threads, subprocesses and signals.
//!
//! Only a [`LoopHandle`](crate::LoopHandle) (Send + Sync) crosses threads: futures, tasks and the
//! loop stay on the loop's thread. Work done elsewhere comes back through
//! `call_soon_threadsafe`, and finds its future in a per-loop registry by an integer id, so no
//! `Rc` is ever captured by a `Send` closure.
//!
//! | asyncio | tulip |
//! |---|---|
//! | `await loop.run_in_executor(None, f)` | `co.wait(&lp.run_in_executor(f)?)?` |
//! | `await asyncio.to_thread(f)` | `to_thread(co, f)?` (the value is moved out: no `Clone` needed) |
//! | `await loop.shutdown_default_executor()` | `lp.shutdown_default_executor(co)?` |
//! | `asyncio.run_coroutine_threadsafe(coro(), loop).result(timeout)` | `run_coroutine_threadsafe(&handle, \|co\| ...)?.result(Some(d))?` |
//! | `p = await asyncio.create_subprocess_exec("cat", stdin=PIPE, stdout=PIPE)` | `let p = create_subprocess_exec(co, "cat", no_args, Piped, Piped, Inherit)?;` |
//! | `await asyncio.create_subprocess_shell(cmd, ...)` | `create_subprocess_shell(co, cmd, stdin, stdout, stderr)?` (`/bin/sh -c`) |
//! | `out, err = await p.communicate(b"hi")` | `let (out, err) = p.communicate(co, Some(b"hi"))?;` (`Option<Vec<u8>>` each) |
//! | `await p.wait()`, `p.returncode`, `p.pid` | `p.wait(co)?`, `p.returncode()` (`Option<i32>`), `p.pid()` |
//! | `p.kill()`, `p.terminate()`, `p.send_signal(s)` | the same names, `-> Result<()>` |
//! | `await p.stdout.read()`, `p.stdin.close()` | `p.read_stdout(co)?` / `read_stderr`, `p.close_stdin()`, `p.write_stdin_and_close(co, data)?` |
//! | `loop.add_signal_handler(SIGUSR1, cb)` | `lp.add_signal_handler(libc::SIGUSR1, cb)?` (`cb: FnMut()`) |
//! | `loop.remove_signal_handler(SIGUSR1)` | `lp.remove_signal_handler(libc::SIGUSR1)?` → `bool` |
//! | `create_subprocess_exec(prog, *args, cwd=, env=, stdin=, stdout=, stderr=STDOUT)` | the builder [`Command`](crate::Command): `Command::new(prog).args(..).current_dir(..).env(k, v).env_clear().stdout(Stdio::Piped).stderr(Stdio::Stdout).spawn(co)?` |
//! | `ThreadedChildWatcher` (a waiter thread per child) | used when `pidfd_open` is refused (`ENOSYS`/`EPERM`); `TULIP_CHILD_WATCHER=thread` forces it; the thread reports the exit through the loop's thread-safe queue |
//!
//! ```python
//! async def main():
//!     total = await asyncio.to_thread(lambda: sum(range(10**6)))
//!     p = await asyncio.create_subprocess_exec("cat", stdin=PIPE, stdout=PIPE)
//!     out, _ = await p.communicate(b"hi")
//!     print(out, p.returncode)
//!
//! asyncio.run(main())
//! ```
//!
//! ```rust
//! use tulip::Stdio::{Inherit, Piped};
//! use tulip::{create_subprocess_exec, run, to_thread};
//!
//! run(|co| {
//!     let total = to_thread(co, || (0..1_000_000u64).sum::<u64>())?;
//!     assert_eq!(total, 499_999_500_000);
//!     let no_args: [&str; 0] = [];
//!     let p = create_subprocess_exec(co, "cat", no_args, Piped, Piped, Inherit)?;
//!     let (out, _) = p.communicate(co, Some(b"hi"))?;
//!     println!("{out:?} {:?}", p.returncode());
//!     assert_eq!(out.as_deref(), Some(&b"hi"[..]));
//!     assert_eq!(p.returncode(), Some(0));
//!     Ok(())
//! })?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! The executor, a coroutine submitted from another thread, and a signal:
//!
//! ```rust
//! use std::cell::Cell;
//! use std::rc::Rc;
//! use std::time::Duration;
//!
//! use tulip::{get_running_loop, run, run_coroutine_threadsafe, sleep};
//!
//! run(|co| {
//!     let lp = get_running_loop()?;
//!     // loop.run_in_executor(None, f)
//!     let fut = lp.run_in_executor(|| std::thread::current().name().map(str::to_owned))?;
//!     assert_eq!(co.wait(&fut)?.as_deref(), Some("asyncio_0"));
//!
//!     // asyncio.run_coroutine_threadsafe(coro(), loop), from a plain thread
//!     let handle = lp.threadsafe_handle()?;
//!     let waiter = std::thread::spawn(move || {
//!         let cf = run_coroutine_threadsafe(&handle, |co| {
//!             sleep(co, Duration::from_millis(1))?;
//!             Ok(42)
//!         })?;
//!         cf.result(Some(Duration::from_secs(5)))
//!     });
//!     let done = to_done(co, waiter)?;
//!     assert_eq!(done, 42);
//!
//!     // loop.add_signal_handler(SIGUSR1, cb)
//!     let got = Rc::new(Cell::new(false));
//!     let g = got.clone();
//!     lp.add_signal_handler(libc::SIGUSR1, move || g.set(true))?;
//!     // SAFETY: raise() only sends a signal to this process, whose handler is installed.
//!     unsafe { libc::raise(libc::SIGUSR1) };
//!     while !got.get() {
//!         sleep(co, Duration::from_millis(1))?;
//!     }
//!     assert!(lp.remove_signal_handler(libc::SIGUSR1)?);
//!     Ok(())
//! })?;
//!
//! // Joins a thread without blocking the loop: the join happens in an executor thread.
//! fn to_done<T: Send + 'static>(
//!     co: &tulip::TaskCo,
//!     t: std::thread::JoinHandle<anyhow::Result<T>>,
//! ) -> anyhow::Result<T> {
//!     tulip::to_thread(co, move || t.join().unwrap())?
//! }
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! - **Executor**: a pool per loop made on first use, threads `asyncio_0`, `asyncio_1`, … at most
//!   `min(32, cpus + 4)`, a new thread only when none is idle. A panic in `f` becomes the
//!   future's exception (`tulip::Panic`) and the worker lives on. Cancelling the future before a
//!   worker takes `f` means `f` never runs (the cancel reaches the job through a done callback,
//!   one iteration later, as asyncio's `wrap_future`); a result arriving after a cancel is
//!   dropped. After `shutdown_default_executor`: `RuntimeError("Executor shutdown has been
//!   called")`; after `close()`, as in asyncio, the closed check comes first: `"Event loop is
//!   closed"`.
//! - **Shutdown**: [`tulip::run`](crate::run), as `asyncio.run`, calls
//!   `shutdown_default_executor` once the main task and the leftover tasks are done: queued and
//!   running jobs finish and the pool's threads exit (joined from a helper thread, so the loop
//!   keeps running meanwhile) before the loop closes. A loop closed directly with `close()`
//!   shuts the pool down without waiting (`shutdown(wait=False)`): running jobs finish in their
//!   threads, which then exit; their results are refused by the closed loop.
//! - **[`ConcurrentFuture<T>`](crate::ConcurrentFuture)** (Send + Sync, `Mutex` + `Condvar`):
//!   `result(timeout)`, `exception(timeout)`, `done()`, `cancel()` (cancels the task on its
//!   loop), `cancelled()`; `TimeoutError` when the timeout passes. The task is created on the
//!   loop's thread. If the loop closes before the task finishes, the future fails with
//!   `RuntimeError("Event loop is closed")` instead of blocking its waiter forever.
//! - **Subprocesses** (Linux 5.3+): the exit is watched with a pidfd registered with
//!   `add_reader` (no SIGCHLD handler, no watcher thread); without `pidfd_open` the child is
//!   killed and `RuntimeError` returned. Pipes are non-blocking, read and written from readers
//!   and writers; a child that closes its stdin early is not an error for `communicate`
//!   (`EPIPE` ignored, as asyncio). Signals use `pidfd_send_signal` (never a recycled pid); after
//!   the loop saw the exit they raise `ProcessLookupError()`. Dropping the last `Process` while
//!   the child runs kills it and reaps it (asyncio's transport close). Every fd is removed from
//!   the loop before it is closed. `create_subprocess_exec` takes its arguments as any
//!   `IntoIterator` of `AsRef<OsStr>`; for none, pass an empty array with its type
//!   (`let no_args: [&str; 0] = [];`).
//! - **Signals**: [`EventLoop::add_signal_handler`](crate::EventLoop::add_signal_handler) and
//!   [`remove_signal_handler`](crate::EventLoop::remove_signal_handler) (methods only). A
//!   process-wide `sigaction` handler writes the signal number to a non-blocking self-pipe
//!   (async-signal-safe; `SA_RESTART`); each loop with handlers watches it with `add_reader`, and
//!   a signal read by one loop is forwarded to the loop that registered it. The callback runs as
//!   a normal loop callback. Errors as asyncio: `ValueError("invalid signal number N")`,
//!   `RuntimeError("sig 9 cannot be caught")` (SIGKILL, SIGSTOP), `"Event loop is closed"`.
//!   Removing restores `SIG_DFL` (for SIGINT too: there is no `KeyboardInterrupt`); `close()`
//!   removes every handler. Limitation: dispositions are process-wide, so if two loops register
//!   the same signal the later one gets it (the earlier handler is silently not called).
//!
//! Tests: `tests/os_cases.rs` ports the Python programs in `tests/cases/os/` (executor results
//! and panics, `to_thread` ordering, shutdown errors, `run_coroutine_threadsafe`, `communicate`,
//! exit codes, kill/terminate, signal delivery, removal, refused signals); `tests/os_behaviour.rs`
//! covers 100 concurrent `to_thread` calls, panics, cancellation races, pipes closed early, 4 MiB
//! into a child that stops reading, two loops' signals; `tests/os_leaks.rs` checks that threads,
//! pipes, pidfds and pending futures are gone after `close()`.
