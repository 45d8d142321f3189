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
//! | `repr(e)`, `str(e)` | `py_repr(&e)`, `py_str(&e)` |
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
//! One failure delivered to many awaiters is shared ([`SharedError`](crate::SharedError));
//! `isinstance`, `find` and `py_repr` look through the sharing to the concrete type. A panic in
//! a callback, a generator or a task becomes a [`Panic`](crate::Panic) error: the process goes
//! on.
