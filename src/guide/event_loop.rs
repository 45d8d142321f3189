//! The event loop: callbacks, timers, readers and writers, `run_forever`/`stop`.
//!
//! [`EventLoop`](crate::EventLoop) is asyncio's loop (layers 1–4 of the talk: callbacks,
//! timers, selector, `run_forever`/`stop`), single-threaded and `!Send`; clones are handles to
//! the same loop.
//!
//! ```rust
//! use std::io::{Read, Write};
//! use std::os::unix::net::UnixStream;
//! use std::rc::Rc;
//! use std::time::Duration;
//!
//! use tulip::{EventLoop, Handle, TimerHandle};
//!
//! let lp = EventLoop::new()?;
//! let h: Handle = lp.call_soon(|| println!("soon"))?; // h.cancel(), h.cancelled()
//! let t: TimerHandle = lp.call_later(Duration::from_millis(5), || println!("later"))?;
//! // also call_at(Instant); t.when(), t.cancel()
//!
//! // A level-triggered reader: called in every iteration while the socket stays readable.
//! let (rsock, mut wsock) = UnixStream::pair()?;
//! rsock.set_nonblocking(true)?;
//! let rsock = Rc::new(rsock);
//! let (l, sock) = (lp.clone(), rsock.clone());
//! lp.add_reader(&*rsock, move || {
//!     let mut buf = [0u8; 16];
//!     let n = (&*sock).read(&mut buf).unwrap();
//!     println!("received {:?}", &buf[..n]);
//!     l.remove_reader(&*sock); // -> bool; add_writer/remove_writer alike
//! })?;
//! wsock.write_all(b"abc")?;
//!
//! let stopper = lp.clone();
//! lp.call_later(Duration::from_millis(10), move || stopper.stop())?;
//! lp.run_forever()?; // is_running(), time()
//! assert!(!h.cancelled() && !t.cancelled());
//!
//! // A LoopHandle is Send + Sync + Clone: the way in from other threads.
//! let handle = lp.threadsafe_handle()?;
//! std::thread::spawn(move || handle.call_soon_threadsafe(|| println!("from a thread")))
//!     .join()
//!     .unwrap()?;
//! let stopper = lp.clone();
//! lp.call_soon(move || stopper.stop())?;
//! lp.run_forever()?; // runs the call from the thread, then stops
//! lp.close()?; // is_closed()
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! What works, with asyncio's order and error messages (`RuntimeError` "This event loop is
//! already running", "Cannot run the event loop while another loop is running", "Cannot close a
//! running event loop", "Event loop is closed", "no running event loop" from
//! [`get_running_loop`](crate::get_running_loop)):
//!
//! - **One iteration is asyncio's `_run_once`**: cancelled-timer clean-up (heap rebuilt when it
//!   holds over 100 entries and more than half are cancelled); poll with timeout 0 if callbacks
//!   are ready or a stop is pending, else until the next deadline (at most 24 h), else without
//!   limit; then calls from other threads, I/O callbacks (READ before WRITE per fd) and due
//!   timers are queued; then only the callbacks queued at that point run. `stop()` is a flag: the
//!   batch finishes; before `run_forever` it makes exactly one iteration.
//! - **Timers** fire in deadline order once `when < now + 1 ns`. Equal deadlines fire FIFO
//!   (CPython's heap gives another order; asyncio documents it as undefined). A timer cancelled
//!   after it became due does not run.
//! - **Level triggering**: mio is edge-triggered, asyncio's `add_reader` is not. An fd that
//!   reported readiness is re-armed before the next poll, so a reader that leaves data unread is
//!   called again in the next iteration. One registration per fd holds its reader and writer;
//!   replacing a reader cancels the old one; the fd is deregistered as soon as nothing is left on
//!   it, so it may be closed right after `remove_reader`. Any `RawFd` or `&impl AsRawFd` works.
//! - **Fast paths**: no allocation per callback for closures of up to two words (one `Rc`
//!   included); no `epoll_wait` at all while no fd is registered and the timeout is zero (the
//!   thread-safe waker is registered only on the first `threadsafe_handle()`).
//! - **Timers** allocate nothing per timer: a 4-ary heap of 16-byte entries over a slab of
//!   32-byte slots where each closure is built in place. When a big share of the heap is due at
//!   once, the due timers are taken out in one pass and sorted instead of popped one by one.
//! - **Errors in callbacks**: a panic is caught and handed to the exception handler as an
//!   [`ExceptionContext`](crate::ExceptionContext) (`message: "Exception in callback NAME()"`,
//!   `exception: Some(Panic)`, `fields: [("handle", ...)]`), and the batch goes on.
//!   `set_exception_handler(Some(|lp, ctx| ...))` replaces the default; if it panics, the default
//!   reports "Unhandled error in exception handler". The default handler writes asyncio's report
//!   (message, sorted `key: value` lines, the exception) to the `log` crate, target `tulip`,
//!   level error, when a logger is installed, and to stderr otherwise. Rust's panic hook still
//!   prints its own line for each caught panic; install a hook with `std::panic::set_hook` to
//!   silence it.
//!
//! ```rust
//! use std::cell::RefCell;
//! use std::rc::Rc;
//!
//! use tulip::{EventLoop, ExceptionContext};
//!
//! let lp = EventLoop::new()?;
//! let seen = Rc::new(RefCell::new(Vec::new()));
//! let s = seen.clone();
//! lp.set_exception_handler(Some(move |_: &EventLoop, ctx: &ExceptionContext| {
//!     s.borrow_mut().push(ctx.message.clone());
//! }));
//! lp.call_soon(|| panic!("boom"))?;
//! lp.call_soon(|| println!("the batch goes on"))?;
//! let stopper = lp.clone();
//! lp.call_soon(move || stopper.stop())?;
//! lp.run_forever()?;
//! assert!(seen.borrow()[0].starts_with("Exception in callback"));
//! lp.close()?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! The examples `callbacks`, `timers`, `selector` and `run_forever` (`cargo run --example
//! NAME`) each print what their Python twin in `tests/python/` prints. Tests:
//! `tests/loop_cases.rs` ports the loop cases of CPython's `test_base_events.py` and
//! `test_events.py` (`tests/cases/loop/*.py`); `tests/loop_behaviour.rs` covers level
//! triggering, wake-ups from other threads, `EINTR`, 100k timers in order, panics mid-batch and
//! `close`.
