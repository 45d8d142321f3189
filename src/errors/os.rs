//! Python's `OSError` family, as the loop's socket, stream and subprocess calls raise it.

use std::{fmt, io};

use super::PyException;

/// Python's `OSError` family: `ConnectionRefusedError`, `ConnectionResetError`,
/// `BrokenPipeError`, plain `OSError` (e.g. `EMFILE`), ...; the class follows the errno as in
/// Python (PEP 3151). `str()` is `[Errno N] message`, or the message alone without an errno
/// (`ConnectionResetError('Connection lost')`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsError {
    name: &'static str,
    errno: Option<i32>,
    msg: String,
}

/// Python's class for an errno (PEP 3151's mapping; the rest are `OSError`).
fn class_of(errno: i32) -> &'static str {
    match errno {
        libc::EAGAIN | libc::EALREADY | libc::EINPROGRESS => "BlockingIOError",
        libc::EPIPE | libc::ESHUTDOWN => "BrokenPipeError",
        libc::ECONNABORTED => "ConnectionAbortedError",
        libc::ECONNREFUSED => "ConnectionRefusedError",
        libc::ECONNRESET => "ConnectionResetError",
        libc::EEXIST => "FileExistsError",
        libc::ENOENT => "FileNotFoundError",
        libc::EINTR => "InterruptedError",
        libc::EACCES | libc::EPERM => "PermissionError",
        libc::ETIMEDOUT => "TimeoutError",
        _ => "OSError",
    }
}

/// The C library's message for an errno (`os.strerror`): std's text without its
/// " (os error N)" suffix.
fn strerror(errno: i32) -> String {
    let text = io::Error::from_raw_os_error(errno).to_string();
    match text.rfind(" (os error ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

impl OsError {
    /// `OSError(errno, msg)`: the class follows the errno.
    pub fn with_errno(errno: i32, msg: impl Into<String>) -> Self {
        crate::errors::register_py_exception::<OsError>();
        OsError {
            name: class_of(errno),
            errno: Some(errno),
            msg: msg.into(),
        }
    }

    /// An error of class `name` without an errno, e.g.
    /// `OsError::named("ConnectionResetError", "Connection lost")`.
    pub fn named(name: &'static str, msg: impl Into<String>) -> Self {
        crate::errors::register_py_exception::<OsError>();
        OsError {
            name,
            errno: None,
            msg: msg.into(),
        }
    }

    /// The error a failed syscall raises in Python: `[Errno N] strerror`.
    pub fn from_io(e: &io::Error) -> Self {
        match e.raw_os_error() {
            Some(errno) => Self::with_errno(errno, strerror(errno)),
            None => Self::named("OSError", e.to_string()),
        }
    }

    /// Python's class name, e.g. `"ConnectionRefusedError"`.
    pub fn py_name(&self) -> &'static str {
        self.name
    }

    /// Python's `errno` attribute.
    pub fn errno(&self) -> Option<i32> {
        self.errno
    }

    /// Python's `strerror` (the message without the `[Errno N]` prefix).
    pub fn message(&self) -> &str {
        &self.msg
    }

    /// The std error kind of the errno (`Other` without one).
    pub fn kind(&self) -> io::ErrorKind {
        match self.errno {
            Some(e) => io::Error::from_raw_os_error(e).kind(),
            None => match self.name {
                "ConnectionResetError" => io::ErrorKind::ConnectionReset,
                "BrokenPipeError" => io::ErrorKind::BrokenPipe,
                _ => io::ErrorKind::Other,
            },
        }
    }

    /// Python's `isinstance(e, ConnectionError)`: refused, reset, aborted or broken pipe.
    pub fn is_connection_error(&self) -> bool {
        matches!(
            self.name,
            "ConnectionRefusedError"
                | "ConnectionResetError"
                | "ConnectionAbortedError"
                | "BrokenPipeError"
        )
    }
}

impl fmt::Display for OsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errno {
            Some(n) => write!(f, "[Errno {n}] {}", self.msg),
            None => f.write_str(&self.msg),
        }
    }
}

impl std::error::Error for OsError {}

impl PyException for OsError {
    fn py_name(&self) -> &str {
        self.name
    }
    fn py_arg(&self) -> Option<&str> {
        Some(&self.msg)
    }
    fn py_args_repr(&self) -> String {
        match self.errno {
            Some(errno) => format!("{errno}, {}", crate::errors::py_str_repr(&self.msg)),
            None => crate::errors::py_str_repr(&self.msg),
        }
    }
    fn py_str(&self) -> String {
        self.to_string()
    }
}
