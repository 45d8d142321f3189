//! asyncio's own exception classes: the streams', the queues' and the barrier's.

use std::fmt;

use super::{ErrorExt, PyException};

/// asyncio's `IncompleteReadError`: EOF came before `readexactly(n)` or `readuntil(sep)` was
/// satisfied. `partial` holds the bytes read before EOF.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncompleteReadError {
    /// The bytes read before EOF.
    pub partial: Vec<u8>,
    /// How many bytes were expected (`None` for `readuntil`: Python's "undefined").
    pub expected: Option<usize>,
    msg: String,
}

impl IncompleteReadError {
    /// `IncompleteReadError(partial, expected)`.
    pub fn new(partial: Vec<u8>, expected: Option<usize>) -> Self {
        crate::errors::register_py_exception::<IncompleteReadError>();
        let total = expected.map_or_else(|| "undefined".to_string(), |n| n.to_string());
        let msg = format!(
            "{} bytes read on a total of {total} expected bytes",
            partial.len()
        );
        IncompleteReadError {
            partial,
            expected,
            msg,
        }
    }
}

impl fmt::Display for IncompleteReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for IncompleteReadError {}

impl PyException for IncompleteReadError {
    fn py_name(&self) -> &str {
        "IncompleteReadError"
    }
    fn py_arg(&self) -> Option<&str> {
        Some(&self.msg)
    }
}

/// asyncio's `LimitOverrunError`: `readuntil` found no separator within the limit.
/// `consumed` is how many bytes a caller should skip to get past the chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitOverrunError {
    pub(crate) msg: String,
    /// How many bytes are to be consumed (Python's `consumed`).
    pub consumed: usize,
}

impl LimitOverrunError {
    /// `LimitOverrunError(message, consumed)`.
    pub fn new(msg: impl Into<String>, consumed: usize) -> Self {
        crate::errors::register_py_exception::<LimitOverrunError>();
        LimitOverrunError {
            msg: msg.into(),
            consumed,
        }
    }
}

impl fmt::Display for LimitOverrunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

impl std::error::Error for LimitOverrunError {}

impl PyException for LimitOverrunError {
    fn py_name(&self) -> &str {
        "LimitOverrunError"
    }
    fn py_arg(&self) -> Option<&str> {
        Some(&self.msg)
    }
}

/// Defines one of asyncio's argument-less queue errors as a real error type:
/// `err.isinstance::<T>()` is Python's `except asyncio.T`, and `py_repr` prints `T()`.
macro_rules! queue_error {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct $name;

        impl $name {
            /// The Python class name.
            pub const NAME: &'static str = stringify!($name);

            /// `except asyncio.NAME` (the same as `err.isinstance::<Self>()`).
            pub fn is(err: &anyhow::Error) -> bool {
                err.isinstance::<Self>()
            }

            /// The error, with its Python name known to `py_repr`.
            pub(crate) fn raise() -> anyhow::Error {
                crate::errors::register_py_exception::<Self>();
                Self.into()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, _f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                Ok(())
            }
        }

        impl std::error::Error for $name {}

        impl crate::errors::PyException for $name {
            fn py_name(&self) -> &str {
                Self::NAME
            }
            fn py_arg(&self) -> Option<&str> {
                None
            }
        }
    };
}

queue_error!(
    /// asyncio's `QueueEmpty`: `get_nowait()` on an empty queue.
    QueueEmpty
);
queue_error!(
    /// asyncio's `QueueFull`: `put_nowait()` on a full queue (the item is dropped).
    QueueFull
);

/// asyncio's `BrokenBarrierError` (a `RuntimeError` subclass in Python): raised by
/// [`Barrier::wait`](crate::Barrier::wait) when the barrier is aborted or reset. A real error type:
/// `err.isinstance::<BrokenBarrierError>()` matches it and `py_repr` prints
/// `BrokenBarrierError('Barrier aborted')`; as in Python, it is also a `RuntimeError`
/// (`isinstance::<RuntimeError>()`), though `exc::<RuntimeError>()` finds no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenBarrierError(pub String);

impl BrokenBarrierError {
    /// The Python class name.
    pub const NAME: &'static str = "BrokenBarrierError";

    /// `BrokenBarrierError(msg)`, as an error.
    pub fn with_message(msg: &str) -> anyhow::Error {
        crate::errors::register_py_exception::<Self>();
        BrokenBarrierError(msg.to_string()).into()
    }

    /// `except BrokenBarrierError` (the same as `err.isinstance::<BrokenBarrierError>()`).
    pub fn is(err: &anyhow::Error) -> bool {
        err.isinstance::<Self>()
    }
}

impl fmt::Display for BrokenBarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BrokenBarrierError {}

impl crate::errors::PyException for BrokenBarrierError {
    fn py_subclass_of(&self, base: std::any::TypeId) -> bool {
        base == std::any::TypeId::of::<crate::errors::RuntimeError>()
    }
    fn py_name(&self) -> &str {
        Self::NAME
    }
    fn py_arg(&self) -> Option<&str> {
        Some(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_match_asyncio() {
        let e = IncompleteReadError::new(b"ab".to_vec(), Some(5));
        assert_eq!(e.to_string(), "2 bytes read on a total of 5 expected bytes");
        let e = IncompleteReadError::new(Vec::new(), None);
        assert_eq!(
            e.to_string(),
            "0 bytes read on a total of undefined expected bytes"
        );
    }
}
