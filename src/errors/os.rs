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
    /// The kind of a std error without an errno, which the class may not tell.
    io_kind: Option<io::ErrorKind>,
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

/// Python's class for a std error kind without an errno (the inverse of `OsError::kind`).
fn class_of_kind(kind: io::ErrorKind) -> &'static str {
    match kind {
        io::ErrorKind::WouldBlock => "BlockingIOError",
        io::ErrorKind::BrokenPipe => "BrokenPipeError",
        io::ErrorKind::ConnectionAborted => "ConnectionAbortedError",
        io::ErrorKind::ConnectionRefused => "ConnectionRefusedError",
        io::ErrorKind::ConnectionReset => "ConnectionResetError",
        io::ErrorKind::AlreadyExists => "FileExistsError",
        io::ErrorKind::NotFound => "FileNotFoundError",
        io::ErrorKind::Interrupted => "InterruptedError",
        io::ErrorKind::PermissionDenied => "PermissionError",
        io::ErrorKind::TimedOut => "TimeoutError",
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
            io_kind: None,
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
            io_kind: None,
        }
    }

    /// `socket.gaierror(code, msg)`: a failed name lookup, with getaddrinfo's `EAI_*` code
    /// (negative on Linux, as Python reports it) and `gai_strerror`'s text.
    pub fn gaierror(code: i32, msg: impl Into<String>) -> Self {
        crate::errors::register_py_exception::<OsError>();
        OsError {
            name: "gaierror",
            errno: Some(code),
            msg: msg.into(),
            io_kind: Some(io::ErrorKind::Other),
        }
    }

    /// The error a failed syscall raises in Python: `[Errno N] strerror`. A std error without
    /// an errno keeps its message and kind (the class follows the kind: `TimedOut` is a
    /// `TimeoutError`); one made from an `OsError` (see `From<OsError> for io::Error`) gives
    /// that `OsError` back.
    pub fn from_io(e: &io::Error) -> Self {
        if let Some(errno) = e.raw_os_error() {
            return Self::with_errno(errno, strerror(errno));
        }
        if let Some(os) = e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<OsError>())
        {
            return os.clone();
        }
        let kind = e.kind();
        let mut os = Self::named(class_of_kind(kind), e.to_string());
        os.io_kind = Some(kind);
        os
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
        if let Some(kind) = self.io_kind {
            return kind;
        }
        match self.errno {
            Some(e) => io::Error::from_raw_os_error(e).kind(),
            None => match self.name {
                "BlockingIOError" => io::ErrorKind::WouldBlock,
                "BrokenPipeError" => io::ErrorKind::BrokenPipe,
                "ConnectionAbortedError" => io::ErrorKind::ConnectionAborted,
                "ConnectionRefusedError" => io::ErrorKind::ConnectionRefused,
                "ConnectionResetError" => io::ErrorKind::ConnectionReset,
                "FileExistsError" => io::ErrorKind::AlreadyExists,
                "FileNotFoundError" => io::ErrorKind::NotFound,
                "InterruptedError" => io::ErrorKind::Interrupted,
                "PermissionError" => io::ErrorKind::PermissionDenied,
                "TimeoutError" => io::ErrorKind::TimedOut,
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

impl From<io::Error> for OsError {
    /// As [`OsError::from_io`].
    fn from(e: io::Error) -> Self {
        OsError::from_io(&e)
    }
}

impl From<OsError> for io::Error {
    /// A syscall's error (errno and its `strerror`) becomes the plain OS error, so
    /// `raw_os_error()` and `kind()` answer as for the syscall. Any other keeps its message
    /// and kind and carries the `OsError` (errno included) inside: `get_ref()` finds it, and
    /// `OsError::from` gives it back.
    fn from(e: OsError) -> Self {
        match e.errno {
            Some(errno) if e.msg == strerror(errno) => io::Error::from_raw_os_error(errno),
            _ => io::Error::new(e.kind(), e),
        }
    }
}

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
