//! tulip: asyncio's event loop rebuilt in Rust, with coroutines that behave like Python
//! generators.
//!
//! A task's body is a plain closure that receives the coroutine handle `co`; `co.wait(&fut)`
//! is Python's `await fut`, and any function the handle is passed to can wait, at any call
//! depth: there is no `async` colouring. Coroutines are stackful (corosensei), I/O readiness
//! comes from mio, and errors are `anyhow::Error` carrying asyncio's exception types, so `?`
//! is Python's exception propagation.
//!
//! # Quick start
//!
//! `tulip::run` is `asyncio.run`: it makes a loop, runs the main task to completion, cancels
//! whatever is left and closes the loop.
//!
//! ```rust
//! use std::time::Duration;
//!
//! use tulip::{gather, get_running_loop, sleep};
//!
//! fn main() -> anyhow::Result<()> {
//!     let total = tulip::run(|co| {
//!         let lp = get_running_loop()?;
//!         // asyncio.create_task(fetch(i)) for three i
//!         let mut tasks = Vec::new();
//!         for i in 1..=3u64 {
//!             tasks.push(lp.create_task(move |co| {
//!                 sleep(co, Duration::from_millis(5 * (4 - i)))?; // await asyncio.sleep(...)
//!                 println!("task {i} woke up");
//!                 Ok(i * 10)
//!             })?);
//!         }
//!         // results = await asyncio.gather(*tasks): in argument order, not finishing order
//!         let results: Vec<u64> = co.wait(&gather(&tasks)?)?;
//!         assert_eq!(results, [10, 20, 30]);
//!         Ok(results.iter().sum::<u64>())
//!     })?;
//!     assert_eq!(total, 60);
//!     Ok(())
//! }
//! ```
//!
//! The [`guide`] has the reference, topic by topic, beside asyncio: the loop, generators,
//! futures and tasks, gather and friends, timeouts and task groups, locks and queues, sockets
//! and streams, threads, subprocesses and signals, errors, and the differences from asyncio.
//!
//! # The layers
//!
//! The crate follows the talk "Discover the asyncio event loop" layer by layer, one module
//! each, with dependencies pointing down only. The public names are re-exported flat at the
//! root; only [`errors`] and [`generator`] are public modules (and, with the `nightly`
//! feature, `stackless`: the stackless backend, below).
//!
//! | layer | module | what it does |
//! |---|---|---|
//! | 0 | `errors/`, `recycle.rs` | asyncio's exceptions as Rust error types ([`CancelledError`], [`TimeoutError`], [`OsError`], …), Python's `repr`; a per-thread pool of the `Rc` allocations of futures and tasks |
//! | 0 | `contextvars.rs` | [`ContextVar`], [`Context`], [`copy_context`]: Python's context variables, which callbacks and tasks run in |
//! | 1 | `callbacks.rs` | [`Handle`]: one-shot callbacks and the ready queue (`call_soon`) |
//! | 2 | `timers.rs` | [`TimerHandle`]: the timer heap (`call_later`, `call_at`) |
//! | 3 | `selector.rs` | readers and writers on file descriptors over mio, level-triggered as asyncio's `add_reader` |
//! | 4 | `event_loop/` | [`EventLoop`]: `run_forever`/`stop`/`close`, one iteration as asyncio's `_run_once`, the exception handler, [`LoopHandle`] for other threads |
//! | 5 | `futures/` | [`Future`]: results, exceptions, cancellation, done callbacks; `run_until_complete` |
//! | 6 | `generator/` | [`Generator`] and [`Co`]: Python generators on stackful coroutines (`send`, `throw`, `close`, `yield_from`); with the `nightly` feature, `generator/stackless.rs`: the same generators on Rust's nightly coroutines (`yield_!`, `yield_from!`) |
//! | 7 | `tasks/` | [`Task`]: drives a coroutine of either backend (`tasks/body.rs`) from loop callbacks; [`Co::wait`] is `await` (`await_!` in a stackless body, `tasks/stackless.rs`); [`Coroutine`] objects |
//! | 8 | `helpers/` | [`run`], [`sleep`], [`gather`], [`shield`], [`wait()`], [`as_completed`], [`wait_for`], [`timeout`], [`TaskGroup`], [`AsyncGenerator`] |
//! | 8 | `sync/` | [`Lock`], [`Event`], [`Condition`], [`Semaphore`], [`BoundedSemaphore`], [`Barrier`], [`Queue`], [`LifoQueue`], [`PriorityQueue`] |
//! | 8 | `net/` | `sock_*` calls ([`sock_recv`], [`sock_sendall`], …) and streams ([`open_connection`], [`start_server`], [`StreamReader`], [`StreamWriter`]) |
//! | 8 | `os/` | threads ([`to_thread`], `run_in_executor`, [`run_coroutine_threadsafe`]), subprocesses ([`create_subprocess_exec`]), signals (`add_signal_handler`) |
//!
//! # Two backends
//!
//! Coroutines are stackful on stable Rust: any function given `co` can wait. Built with the
//! nightly toolchain and the `nightly` feature (`cargo +nightly test --features nightly`),
//! `tulip::stackless` adds a stackless backend on Rust's nightly coroutines, Python's own
//! model: explicit `yield_from!` at every level, and a few dozen bytes per suspended
//! coroutine instead of a stack. Generators and tasks of both backends share one `Task`, one
//! loop and one set of parity cases ([`guide::generators`], [`guide::tasks`]).
//!
//! # Design principles
//!
//! - **Each effect has one home.** mio is imported only by the selector (`selector.rs`);
//!   corosensei only by the generator layer, whose stack memory lives in
//!   `generator/stacks.rs`; stacks switch only there (in through a resume, out through
//!   [`Co::yield_`]).
//! - **Dependencies point down.** A layer names only the layers below it. The loop never
//!   names futures, tasks or anything above: it offers *extensions* instead, per-loop state
//!   that a higher layer registers by type and finds again (the task registry, the default
//!   executor, the signal watchers), and a higher layer adds methods to a lower type with an
//!   `impl` in its own file (`run_until_complete` is written in `futures/`, `create_task` in
//!   `tasks.rs`, `run_in_executor` in `os/`).
//! - **Callbacks run in one place**: the loop's run-once step. `set_result`, `call_soon`,
//!   readiness and due timers only queue; what a batch schedules runs in the next iteration,
//!   as in asyncio.
//! - **No user code under a borrow.** A `RefCell` borrow of the loop's, a future's or a
//!   primitive's state ends before any callback, body or destructor of the user's runs, so user
//!   code may re-enter anything (release builds skip the borrow flag of a future's state).
//! - **No global loop.** A loop is a value; `get_running_loop()` only finds the loop that
//!   is running on this thread.
//!
//! # The suspension hazard
//!
//! Every function that takes `co` ([`Co::wait`], [`sleep`], [`Lock::acquire`],
//! [`StreamReader::readline`], …) may suspend the task, and while it is suspended the loop
//! runs other tasks. Nothing marks such a call, as `await` does in Python. So **do not hold a
//! `RefCell` borrow, or any other guard, across a call that takes `co`**: if another task
//! borrows the same cell while yours is suspended, it panics with "already borrowed" (a
//! `std::sync::Mutex` guard deadlocks instead). The type checker does not see it; it happens
//! at run time, and only when the timing lines up.
//!
//! Here the first task holds its borrow across a `sleep`; the second task's `borrow_mut`
//! panics, and the panic becomes that task's exception ([`Panic`]):
//!
//! ```rust
//! use std::cell::RefCell;
//! use std::rc::Rc;
//! use std::time::Duration;
//!
//! use tulip::{ErrorExt, Panic, get_running_loop, sleep};
//!
//! let log = Rc::new(RefCell::new(Vec::new()));
//! let result = tulip::run({
//!     let log = log.clone();
//!     move |co| {
//!         let lp = get_running_loop()?;
//!         let other = lp.create_task({
//!             let log = log.clone();
//!             move |_co| {
//!                 log.borrow_mut().push("other"); // panics: the main task holds the borrow
//!                 Ok(())
//!             }
//!         })?;
//!         let mut entries = log.borrow_mut();
//!         entries.push("main");
//!         sleep(co, Duration::ZERO)?; // WRONG: suspends with `entries` still borrowed
//!         entries.push("main again");
//!         drop(entries);
//!         co.wait(&other)
//!     }
//! });
//! assert!(result.unwrap_err().isinstance::<Panic>());
//! ```
//!
//! The pattern that avoids it: take (or clone) what you need out of the cell, let the borrow
//! end, then call anything that takes `co`; borrow again afterwards if you must. Keep each
//! borrow inside one statement or one block that makes no such call:
//!
//! ```rust
//! use std::cell::RefCell;
//! use std::rc::Rc;
//! use std::time::Duration;
//!
//! use tulip::{get_running_loop, sleep};
//!
//! let log = Rc::new(RefCell::new(Vec::new()));
//! tulip::run({
//!     let log = log.clone();
//!     move |co| {
//!         let lp = get_running_loop()?;
//!         let other = lp.create_task({
//!             let log = log.clone();
//!             move |_co| {
//!                 log.borrow_mut().push("other");
//!                 Ok(())
//!             }
//!         })?;
//!         log.borrow_mut().push("main"); // the borrow ends at the `;`
//!         let seen = log.borrow().len(); // copy out what the wait needs...
//!         sleep(co, Duration::ZERO)?; // ...then suspend with no borrow held
//!         log.borrow_mut().push("main again");
//!         co.wait(&other)?;
//!         assert_eq!(seen, 1);
//!         Ok(())
//!     }
//! })?;
//! assert_eq!(*log.borrow(), ["main", "other", "main again"]);
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! For a value that must stay exclusive across waits, use tulip's own [`Lock`]
//! (`lock.with(co, |co| ...)`): a second task then waits for it instead of panicking. For a
//! value you move in and out, `RefCell::take` or `Option::take` leaves the cell free while
//! you hold the value.

// The stackless backend (feature `nightly`) is built on Rust's nightly coroutines.
#![cfg_attr(feature = "nightly", feature(coroutine_trait))]
#![cfg_attr(all(feature = "nightly", test), feature(coroutines))]
#![warn(missing_docs, missing_debug_implementations)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod callbacks;
mod contextvars;
pub mod errors;
mod event_loop;
mod futures;
pub mod generator;
pub mod guide;
mod helpers;
mod net;
mod os;
mod recycle;
mod selector;
#[cfg(feature = "nightly")]
pub mod stackless;
mod sync;
mod sys;
mod task_tree;
mod tasks;
mod timers;

pub use contextvars::{Context, ContextVar, LookupError, Token, copy_context};
pub use errors::{
    BrokenBarrierError, CancelledError, ErrorExt, Exception, ExceptionGroup, GeneratorExit,
    IncompleteReadError, InvalidStateError, KeyboardInterrupt, LimitOverrunError, Limits,
    NotImplementedError, OsError, Panic, PyArg, PyRepr, QueueEmpty, QueueFull, RaisedFrom,
    RuntimeError, SharedError, StopIteration, SystemExit, TimeoutError, TypeError, ValueError,
    cause, py_bytes_repr, py_float_repr, py_format_exception, py_qualname, py_repr, py_reprlib,
    py_str, raise_from,
};
pub use event_loop::{
    EventLoop, ExceptionContext, ExceptionHandler, Handle, LoopHandle, TimerHandle,
    get_running_loop,
};
pub use futures::{Awaitable, CallbackId, Future, Suspend};
pub use generator::{Co, Generator, GeneratorState};
pub use helpers::asyncgen::{AsyncCo, AsyncGenerator, StopAsyncIteration};
pub use helpers::gather::{Gathering, gather, gather_settled};
pub use helpers::runners::run;
pub use helpers::shield::shield;
pub use helpers::sleep::{sleep, sleep_with};
pub use helpers::std_future::FutureAwait;
pub use helpers::taskgroups::{TaskGroup, task_group};
pub use helpers::timeouts::{Timeout, TimeoutState, timeout, timeout_at, wait_for, wait_for_fn};
pub use helpers::wait::{AsCompleted, NextDone, ReturnWhen, as_completed, wait};
pub use net::datagram::{
    DatagramOptions, DatagramProtocol, DatagramTransport, ExtraInfo, create_datagram_endpoint,
    wrap_datagram,
};
pub use net::io_traits::StreamPair;
pub use net::reader::StreamReader;
pub use net::resolve::{
    AF_INET, AF_INET6, AF_UNSPEC, AI_CANONNAME, AI_PASSIVE, AddrInfo, AddrInfoHints, SOCK_DGRAM,
    SOCK_STREAM, getaddrinfo, getaddrinfo_with,
};
pub use net::server::{Server, ServerOptions, start_server, start_server_tls, start_server_with};
pub use net::sockets::{
    Listener, py_addr, sock_accept, sock_connect, sock_recv, sock_recv_into, sock_recvfrom,
    sock_recvfrom_into, sock_sendall, sock_sendto,
};
pub use net::streams::{
    ConnectOptions, DEFAULT_LIMIT, open_connection, open_connection_opts, open_connection_tls,
    open_connection_tls_with, open_connection_with, wrap_stream,
};
pub use net::tls::{SSL_HANDSHAKE_TIMEOUT, SslError, SslObject, TlsAcceptor, TlsConnector};
pub use net::transport::StreamSocket;
pub use net::unix::{
    open_unix_connection, open_unix_connection_with, start_unix_server, start_unix_server_with,
};
pub use net::writer::StreamWriter;
pub use os::executor::{ConcurrentFuture, run_coroutine_threadsafe, to_thread};
pub use os::subprocess::{
    Command, Communicated, Process, Stdio, create_subprocess_exec, create_subprocess_shell,
};
/// The rustls crate tulip's TLS is made with (its configs go into [`TlsConnector`] and
/// [`TlsAcceptor`]; its `pki_types` name certificates and keys).
pub use rustls;
pub use selector::FdLike;
pub use sync::queues::{LifoQueue, PriorityQueue, Queue};
pub use sync::{Barrier, BarrierState, BoundedSemaphore, Condition, Event, Lock, Semaphore};
pub use task_tree::{format_call_graph, print_call_graph};
pub use tasks::{AnyFuture, AnyTask, Coroutine, Task, TaskCo, all_tasks, current_task};
