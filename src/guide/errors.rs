//! Errors: asyncio's exceptions as Rust error types.
//!
//! [`tulip::errors`](crate::errors) holds asyncio's exceptions as Rust error types:
//! `CancelledError` (with the message given to `cancel(msg)`), `InvalidStateError`,
//! `TimeoutError`, `GeneratorExit`, `StopIteration`, `RuntimeError`, `ValueError`, `TypeError`,
//! `OsError` (with the class from the errno), `ExceptionGroup` (what a `TaskGroup` raises),
//! `Panic` (a panic caught in a callback, a generator or a task), and `Exception` for any other
//! Python class by name (`Exception::new("ZeroDivisionError", "...")`). They travel inside
//! `anyhow::Error`, so `?` is Python's exception propagation:
//!
//! | Python | tulip |
//! |---|---|
//! | `except CancelledError as e:` | `Err(e) if e.isinstance::<CancelledError>()` (trait `ErrorExt`) |
//! | `isinstance(e, MyError)` anywhere in the chain | `e.find::<MyError>()` |
//! | `raise TimeoutError() from exc` / `e.__cause__` | `raise_from(TimeoutError, exc)` / `cause(&e)` |
//! | `e.__context__` (the exception being handled when `e` was raised) | [`errors::context(&e)`](crate::errors::context), for what tulip delivered (`throw`, `close`, cancellation) |
//! | `traceback.format_exception(e)` without the frames | [`py_format_exception(&e)`](crate::py_format_exception): the chain, with "During handling of the above exception, another exception occurred:" |
//! | `repr(e)`, `str(e)` | `py_repr(&e)`, `py_str(&e)` |
//! | `StopIteration(3)`, `e.value`, `e.args` | `StopIteration::with_value(3)`, `.value()`, `.args()` ([`StopIteration`](crate::StopIteration)); `StopIteration::default()` is `StopIteration()` |
//! | `Exception('spam', 'eggs')`, `e.args` | `Exception::with_args("Exception", ["spam".into(), "eggs".into()])`, `.args` ([`PyArg`](crate::PyArg)) |
//! | `isinstance(e, Exception)` (not `CancelledError`, `KeyboardInterrupt`, ...) | [`errors::is_exception(&e)`](crate::errors::is_exception) |
//!
//! ```rust
//! use tulip::{
//!     CancelledError, ErrorExt, Exception, TimeoutError, ValueError, cause, py_repr, py_str,
//!     raise_from,
//! };
//!
//! let e: anyhow::Error = ValueError::new("bad value").into();
//! assert!(e.isinstance::<ValueError>() && !e.isinstance::<CancelledError>());
//! assert_eq!(py_repr(&e), "ValueError('bad value')");
//! assert_eq!(py_str(&e), "bad value");
//!
//! let other: anyhow::Error = Exception::new("ZeroDivisionError", "division by zero").into();
//! assert_eq!(py_repr(&other), "ZeroDivisionError('division by zero')");
//!
//! // raise TimeoutError from exc
//! let exc: anyhow::Error = CancelledError::new(None).into();
//! let t = raise_from(TimeoutError, exc);
//! assert!(t.isinstance::<TimeoutError>());
//! assert!(cause(&t).unwrap().isinstance::<CancelledError>());
//! ```
//!
//! # Errors that leave the loop
//!
//! [`SystemExit`](crate::SystemExit) and [`KeyboardInterrupt`](crate::KeyboardInterrupt) are
//! Python's `BaseException`s that asyncio does not keep inside a task: a task whose body ends
//! with one is marked failed with it, and the error leaves `run_forever` and
//! `run_until_complete` at once, as in asyncio's `Task.__step`. The rest of that iteration
//! stays queued and runs when the loop runs again; the task that was being waited for
//! remains pending and can be run again (tests/cases/task/base_exceptions.py).
//!
//! ```rust
//! use tulip::{ErrorExt, EventLoop, SystemExit};
//!
//! let lp = EventLoop::new()?;
//! let t = lp.create_task(|_co| -> anyhow::Result<()> { Err(SystemExit(Some(3)).into()) })?;
//! let err = lp.run_until_complete(&t).unwrap_err(); // raise SystemExit(3) reached the caller
//! assert_eq!(err.exc::<SystemExit>(), Some(&SystemExit(Some(3))));
//! assert!(t.exception()?.unwrap().isinstance::<SystemExit>()); // and the task failed with it
//! lp.close()?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! # Errors that leave the loop
//!
//! [`SystemExit`](crate::SystemExit) and [`KeyboardInterrupt`](crate::KeyboardInterrupt) are
//! Python's `BaseException`s that asyncio does not keep inside a task: a task whose body ends
//! with one is marked failed with it, and the error leaves `run_forever` and
//! `run_until_complete` at once, as in asyncio's `Task.__step`. The rest of that iteration
//! stays queued and runs when the loop runs again; the task that was being waited for
//! remains pending and can be run again (tests/cases/task/base_exceptions.py).
//!
//! ```rust
//! use tulip::{ErrorExt, EventLoop, SystemExit};
//!
//! let lp = EventLoop::new()?;
//! let t = lp.create_task(|_co| -> anyhow::Result<()> { Err(SystemExit(Some(3)).into()) })?;
//! let err = lp.run_until_complete(&t).unwrap_err(); // raise SystemExit(3) reached the caller
//! assert_eq!(err.exc::<SystemExit>(), Some(&SystemExit(Some(3))));
//! assert!(t.exception()?.unwrap().isinstance::<SystemExit>()); // and the task failed with it
//! lp.close()?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! # Implicit context
//!
//! An error a body raises while it handles one tulip delivered into it records that one
//! as its `__context__`, as Python does; its own type is untouched (`downcast_ref`,
//! `isinstance`), and the default exception handler prints the chain
//! (tests/cases/gen/exc_context.py):
//!
//! ```rust
//! use tulip::errors::context;
//! use tulip::{ErrorExt, Generator, GeneratorExit, RuntimeError, py_format_exception, py_repr};
//!
//! // def g():
//! //     try: yield 1
//! //     except GeneratorExit: raise RuntimeError("cleanup failed")
//! let g = Generator::<i32>::new(|co| match co.yield_(1) {
//!     Err(e) if e.is::<GeneratorExit>() => Err(RuntimeError::new("cleanup failed").into()),
//!     r => r,
//! });
//! g.next()?;
//! let e = g.close().unwrap_err();
//! assert!(e.downcast_ref::<RuntimeError>().is_some());
//! assert_eq!(py_repr(context(&e).unwrap()), "GeneratorExit()");
//! assert!(py_format_exception(&e).contains("During handling of the above exception"));
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! One failure delivered to many awaiters is shared ([`SharedError`](crate::SharedError));
//! `isinstance`, `find` and `py_repr` look through the sharing to the concrete type. A panic in
//! a callback, a generator or a task becomes a [`Panic`](crate::Panic) error: the process goes
//! on.
