//! tulip: asyncio's event loop rebuilt in Rust, with coroutines that behave like Python
//! generators.
//!
//! The crate is built in layers, each one module, dependencies pointing down only:
//! errors (0), callbacks (1), timers (2), selector (3), the loop (4), futures (5),
//! generators (6), tasks (7), and the helpers above them (8+).

pub mod errors;
pub mod taskgroups;
pub mod timeouts;

pub use errors::{
    CancelledError, ErrorExt, Exception, GeneratorExit, InvalidStateError, Panic, RuntimeError,
    SharedError, StopIteration, TimeoutError, TypeError, ValueError, py_repr, py_str,
};
pub use errors::{ExceptionGroup, RaisedFrom, cause, raise_from};
pub use taskgroups::{TaskGroup, task_group};
pub use timeouts::{Timeout, TimeoutState, timeout, timeout_at, wait_for, wait_for_fn};
