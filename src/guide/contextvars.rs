//! Context variables: Python's `contextvars`, as asyncio runs code in them.
//!
//! | Python | tulip |
//! |---|---|
//! | `var = ContextVar("name")` | `let var = ContextVar::<T>::new("name");` |
//! | `ContextVar("name", default=0)` | `ContextVar::with_default("name", 0)` |
//! | `var.get()` / `var.get(d)` | `var.get()?` (`LookupError` when unset) / `var.get_or(d)` |
//! | `token = var.set(v)`; `var.reset(token)` | `let token = var.set(v);` `var.reset(&token)?` |
//! | `token.old_value` (`Token.MISSING`) | `token.old_value()` (`None`) |
//! | `ctx = contextvars.copy_context()` | `let ctx = copy_context();` |
//! | `contextvars.Context()` | `Context::new()` |
//! | `ctx.run(f)`; `ctx[var]`, `var in ctx`, `len(ctx)` | `ctx.run(f)?`; `ctx.get(&var)`, `ctx.contains(&var)`, `ctx.len()` |
//! | `loop.call_soon(f, context=ctx)` | `lp.call_soon_in(&ctx, f)?` (and `call_later_in`, `call_at_in`) |
//! | `loop.create_task(coro, context=ctx)` | `lp.create_task_in(&ctx, body)?` |
//!
//! # Where code runs
//!
//! As in asyncio:
//! - a task runs in a **copy of the context current when it was created**: what its body sets
//!   is invisible to its parent and its siblings, and a child sees what the parent had set
//!   when it created the child;
//! - `call_soon`, `call_later` and `call_at` run their callback in a copy of the context
//!   current when they were called; a done callback in a copy of the context current when it
//!   was added; what such a callback sets is lost when it returns;
//! - the `_in` forms (and `create_task_in`) run in the context given, not a copy, so what the
//!   callback or the task sets stays in that context;
//! - `to_thread` runs the function in a copy of the caller's context, on the worker thread.
//!
//! ```
//! # fn main() -> anyhow::Result<()> {
//! use std::sync::LazyLock;
//! use std::time::Duration;
//!
//! use tulip::{ContextVar, get_running_loop, sleep};
//!
//! static REQUEST_ID: LazyLock<ContextVar<u32>> = LazyLock::new(|| ContextVar::new("request_id"));
//!
//! fn handle(co: &tulip::TaskCo, id: u32) -> anyhow::Result<u32> {
//!     REQUEST_ID.set(id); // this task's own copy
//!     sleep(co, Duration::from_millis(1))?;
//!     REQUEST_ID.get() // still this task's id, whatever the others set meanwhile
//! }
//!
//! let ids = tulip::run(|co| {
//!     let lp = get_running_loop()?;
//!     REQUEST_ID.set(0);
//!     let tasks: Vec<_> = (1..=3)
//!         .map(|i| lp.create_task(move |co| handle(co, i)))
//!         .collect::<anyhow::Result<_>>()?;
//!     let ids = co.wait(&tulip::gather(&tasks)?)?;
//!     assert_eq!(REQUEST_ID.get()?, 0); // the children's sets did not reach the parent
//!     Ok(ids)
//! })?;
//! assert_eq!(ids, [1, 2, 3]);
//! # Ok(()) }
//! ```
//!
//! # Errors
//!
//! The misuse errors are CPython's, with the same reprs (`0x...` is an address):
//! - `var.get()` unset, no default: `LookupError(<ContextVar name='x' at 0x...>)`;
//! - a token reset twice: `RuntimeError("<Token used var=<ContextVar name='x' at 0x...> at
//!   0x...> has already been used once")`;
//! - a token of another variable: `ValueError("<Token var=... at 0x...> was created by a
//!   different ContextVar")` (with a token of another value type it does not compile);
//! - a token made in another context: `ValueError("<Token var=... at 0x...> was created in a
//!   different Context")`;
//! - entering a context already entered: `RuntimeError('cannot enter context:
//!   <_contextvars.Context object at 0x...> is already entered')`, also from inside a task
//!   or a callback running in that context (each step of a task is run in its context).
//!
//! # Differences from Python
//!
//! - Values are `Clone + Send + Sync`: `get` returns a clone, and `to_thread` carries the
//!   context to another thread (an `Rc` value does not compile; wrap it in an `Arc`).
//! - A [`Token`](crate::Token) is typed by its variable's value type: resetting a variable of
//!   another type with it is a compile error, not a `ValueError`.
//! - A [`Context`](crate::Context) is `!Send` (it belongs to one thread, and two threads may
//!   not enter it at once in Python either); `copy_context` inside the thread makes another.
//!
//! # Cost
//!
//! Nothing until the first [`ContextVar`](crate::ContextVar) or [`Context`](crate::Context) of
//! the process is made: until then `call_soon` and a task's step read one flag. Afterwards a
//! callback captures the current context's map (one reference count), a task step swaps the
//! current context in and out, and `copy_context` is O(1); `set` copies the map's entries (a
//! context holds a handful). A callback scheduled before the first variable existed runs in
//! the context current when it runs.
