//! Differences from asyncio, in one place.
//!
//! tulip follows CPython 3.11's asyncio, order of events and error messages included; the
//! parity tests compare every ported case with its Python twin's output. What differs, by
//! design or not yet done:
//!
//! # Everywhere
//!
//! - **No `async`/`await`**: a coroutine is a closure that receives `co`; `await x` is
//!   `co.wait(&x)?`, and any function given `co` can wait. Nothing marks a call that may
//!   suspend, so mind [the suspension hazard](crate#the-suspension-hazard).
//! - **Exceptions are `anyhow::Error`** carrying asyncio's types; `except E` is
//!   `e.isinstance::<E>()`. A panic is caught and becomes a [`Panic`](crate::Panic) error.
//!   Of the `BaseException`s, a task failing with [`SystemExit`](crate::SystemExit) or
//!   [`KeyboardInterrupt`](crate::KeyboardInterrupt) lets the error leave the loop as asyncio
//!   does, and `tulip::run` handles Ctrl-C as asyncio's `Runner`; a plain callback cannot raise
//!   them (it returns nothing).
//! - **No global loop or policies**: `get_running_loop()` finds the running loop; there is no
//!   `get_event_loop()` that makes one.
//! - **Debug mode** ([debugging](crate::guide::debugging)) records one frame where asyncio
//!   records a traceback (`#[track_caller]`: where a callback, future or task was created),
//!   and names a callback by its type, not by where its function is defined.
//!   `sock_accept` refuses a blocking listener even with debug mode off (accept has no
//!   per-call non-blocking flag, so it would stall the loop); the other `sock_*` calls check
//!   in debug mode only, as asyncio's all do.
//! - **Implicit `__context__`** ([`errors::context`](crate::errors::context)) is recorded
//!   only for the exceptions tulip delivers into a body (`throw`, `close`'s `GeneratorExit`, a
//!   task's `CancelledError`), not for any error a body catches and replaces: Rust has no
//!   `except` block for tulip to see. For a generator, the window is from the delivery to
//!   the body's next suspension (an error raised after it yields again gets none, as in
//!   Python, but neither does one raised after an `except` block ended before that); for a
//!   task, an error ending a task being cancelled (not uncancelled) gets the
//!   `CancelledError`. The context is a copy: tulip's own types are cloned, others kept as
//!   their Python name, `repr` and `str`. `{:#}` and `{:?}` of such an error show its
//!   message twice (the layer that carries the context repeats it).
//! - **Arguments of tulip's own error types**: `StopIteration` carries an optional value
//!   (`StopIteration(3)`, its `value()` and `args()`), `SystemExit` a code, `CancelledError`
//!   an optional message; `RuntimeError`, `ValueError`, `TypeError`, `InvalidStateError` and
//!   `NotImplementedError` carry exactly one message, as asyncio raises them (it never raises
//!   `RuntimeError()` bare; `RuntimeError::new("")` is Python's `RuntimeError('')`). Other
//!   arguments: [`Exception::with_args`](crate::errors::Exception::with_args) prints any
//!   class that way, but it is not `isinstance` of tulip's types.
//! - **Not yet**: on the stackless backend, native versions of `open_connection`,
//!   `start_server`, `start_tls`, `getaddrinfo` and the subprocess waits (they are reached
//!   through `stackless::stackful`; the sync primitives, `wait_for`, `timeout`, `wait`,
//!   `TaskGroup`, the stream reads and drains and the `sock_*` calls are native); the TLS
//!   `ssl_shutdown_timeout` and the system trust store (pass the roots to rustls).
//! - **Context variables** hold `Clone + Send + Sync` values, and a token of another value
//!   type is a compile error: see [contextvars](crate::guide::contextvars#differences-from-python).
//!
//! # Futures and tasks
//!
//! - Rust closures have no identity, so `add_done_callback` returns a `CallbackId` to remove.
//! - Python finds unreachable pending tasks with its garbage collector; tulip reports them when
//!   the loop closes ("Task was destroyed but it is pending!").
//! - Done callbacks of a task receive its result future (`&Future<T>`), not the task.
//! - Equal timer deadlines fire FIFO (CPython's heap gives an order asyncio documents as
//!   undefined).
//! - The helpers take tasks, not coroutines: make them with `lp.create_task(...)` first.
//! - Async generators ([generators](crate::guide::generators#async-generators)): one dropped
//!   unfinished is closed at once, without a loop (asyncio's finalizer hook schedules
//!   `aclose()` as a task, whose clean-up may wait); `shutdown_asyncgens` closes them in the
//!   order they started (asyncio's `WeakSet` has none); no `sys.set_asyncgen_hooks`.
//! - `yield from` a plain iterator (`co.yield_from_iter`, or `stackless::from_iter` on the
//!   stackless backend) names it in its `AttributeError` as Python would for a `Vec`, slice,
//!   array, range or `HashSet`, and as `iterator` otherwise.
//! - A child that nobody else holds (a future created inline and never resolved) is dropped
//!   rather than kept alive by a gathering: the helpers point back at children weakly.
//!
//! # Timeouts and task groups (3.11)
//!
//! - `Timeout`'s `Debug` shows the deadline as seconds from now (`when=+0.500`): an `Instant` has
//!   no printable epoch like `loop.time()`.
//! - `ExceptionGroup` has `exceptions()`, `message()` and `contains::<E>()`, but no `split` or
//!   `subgroup`; `except*` is spelled by hand. There is no `BaseExceptionGroup`, and a panic in a
//!   child is gathered like any error.
//! - A task group is held by its scope, not by its children's done callbacks: if the parent's
//!   body panics, the group goes with it (its children are cancelled), and a child that fails
//!   afterwards is reported as "Task exception was never retrieved" rather than "... has errored
//!   out but its parent task ... is already completed" (kept when a handle to the group lives on).
//! - As in 3.11 (changed in 3.12), a group that cancels its parent only after `__aexit__` began
//!   does not `uncancel()` it.
//!
//! # Locks and queues
//!
//! - `put_nowait` on a full queue (or a cancelled `put`) drops the item, since the caller handed
//!   it over; in Python the caller still holds the object. `try_put(item)` is `put_nowait` that
//!   hands the item back (`Err(item)`) when the queue is full.
//! - `Semaphore::new` and `Barrier::new` take an `i64` and return `Result`, to keep Python's
//!   `ValueError`.
//! - `Condition::wait_for` takes a `bool` predicate, so it returns `true` (Python returns the
//!   predicate's last value, any truthy object).
//!
//! # Sockets and streams
//!
//! - `Server::wait_closed` waits for the server's connections as in 3.12 (3.11 returns at once).
//! - Host names resolve with a blocking `getaddrinfo`, which is instant for numeric addresses.
//! - A `sock_*` call that waits adds and removes its fd (`epoll_ctl` twice, as asyncio; kept
//!   across the waits of one call, never past it: the socket is only borrowed, and epoll cannot
//!   forget an fd closed while a duplicate of it is open).
//! - `sock_connect` makes the socket (std has no unconnected one).
//!
//! # Threads, subprocesses and signals
//!
//! - No `set_default_executor` or custom executors.
//! - No subprocess protocols or transports (`subprocess_exec`), no `StreamReader`s on the pipes
//!   (whole-stream reads only), no `limit=`, `cwd=`/`env=` options; the pipe size is the
//!   kernel's.
//! - Signal dispositions are process-wide: if two loops register the same signal, the later one
//!   gets it. Removing a handler restores `SIG_DFL`, for SIGINT too.
