//! asyncio's exceptions as Rust error types (layer 0).
//!
//! They travel inside `anyhow::Error`, so `?` is Python's exception propagation and
//! [`ErrorExt::find`] is `except SomeError`. [`py_repr`] prints an error the way Python's
//! `repr(exc)` does, which is what the parity tests compare.

/// `$m!(...)` over tulip's own exception types, then `$extra`: the one list the checks
/// that go type by type share.
macro_rules! own_types {
    ($m:ident $(, $extra:ty)*) => {
        $m!(
            CancelledError,
            InvalidStateError,
            RuntimeError,
            ValueError,
            TypeError,
            NotImplementedError,
            GeneratorExit,
            StopIteration,
            TimeoutError,
            KeyboardInterrupt,
            SystemExit,
            Exception,
            Panic
            $(, $extra)*
        )
    };
}

mod args;
mod asyncio;
mod chain;
mod os;
mod repr;

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

pub use args::{Exception, PyArg};
pub use asyncio::{
    BrokenBarrierError, IncompleteReadError, LimitOverrunError, QueueEmpty, QueueFull,
};
pub(crate) use chain::{Delivered, with_context};
pub use chain::{RaisedFrom, cause, context, py_format_exception, raise_from};
use chain::{Snapshot, top};
pub use os::OsError;
pub use repr::{
    Limits, PyRepr, py_bytes_repr, py_float_repr, py_qualname, py_reprlib, py_str_repr,
};

/// An error that has a Python class name and Python `args` (all of tulip's errors do).
pub trait PyException: StdError + Send + Sync + 'static {
    /// The Python class name, e.g. `"CancelledError"`.
    fn py_name(&self) -> &str;
    /// The message, Python's `args[0]`, or `None` when `args == ()`.
    fn py_arg(&self) -> Option<&str>;
    /// Python's `args` as `repr` shows them between the parentheses (one message by default;
    /// `OSError` overrides it with `errno, 'message'`).
    fn py_args_repr(&self) -> String {
        self.py_arg().map(py_str_repr).unwrap_or_default()
    }
    /// Python's `str(exc)`: the message by default (`OSError` prints `[Errno N] message`).
    fn py_str(&self) -> String {
        self.py_arg().unwrap_or("").to_string()
    }
    /// Whether the Python class derives from the exception type `base` (Rust has no
    /// subclassing: [`ErrorExt::isinstance`] asks here when the type itself differs). None
    /// by default.
    fn py_subclass_of(&self, _base: std::any::TypeId) -> bool {
        false
    }
}

macro_rules! message_error {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(pub String);

        impl $name {
            /// Makes the error with Python's message.
            pub fn new(msg: impl Into<String>) -> Self {
                Self(msg.into())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl StdError for $name {}

        impl PyException for $name {
            fn py_name(&self) -> &str {
                stringify!($name)
            }
            fn py_arg(&self) -> Option<&str> {
                Some(&self.0)
            }
        }
    };
}

message_error!(
    /// asyncio's `InvalidStateError`: the future is in the wrong state for the call.
    InvalidStateError
);
message_error!(
    /// Python's `RuntimeError`: misuse of the loop, a task or a generator.
    RuntimeError
);
message_error!(
    /// Python's `ValueError`, e.g. `generator already executing`.
    ValueError
);
message_error!(
    /// Python's `TypeError`, e.g. `can't send non-None value to a just-started generator`.
    TypeError
);
message_error!(
    /// Python's `NotImplementedError`, e.g. `write_eof()` on a TLS stream.
    NotImplementedError
);

macro_rules! bare_error {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct $name;

        impl fmt::Display for $name {
            fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
                Ok(())
            }
        }

        impl StdError for $name {}

        impl PyException for $name {
            fn py_name(&self) -> &str {
                stringify!($name)
            }
            fn py_arg(&self) -> Option<&str> {
                None
            }
        }
    };
}

bare_error!(
    /// Python's `GeneratorExit`: what `close()` delivers at a generator's yield point.
    GeneratorExit
);
bare_error!(
    /// asyncio's `TimeoutError` (the builtin `TimeoutError` since 3.11).
    TimeoutError
);
bare_error!(
    /// Python's `KeyboardInterrupt` (a `BaseException`): a task that ends with it marks
    /// itself failed and the error leaves `run_until_complete` / `run_forever` at once, as in
    /// asyncio (the rest of the loop's iteration stays queued).
    KeyboardInterrupt
);

/// Python's `StopIteration`: `StopIteration()` (resuming a generator that already finished;
/// `StopIteration(None)` is `StopIteration(Some(PyArg::None))`), or `StopIteration(value)`,
/// whose `value` and `args` are Python's and which [`py_repr`] prints as `StopIteration(3)`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StopIteration(pub Option<PyArg>);

impl StopIteration {
    /// `StopIteration(value)`.
    pub fn with_value(value: impl Into<PyArg>) -> Self {
        StopIteration(Some(value.into()))
    }

    /// Python's `exc.value`: the argument, `None` when there is none.
    pub fn value(&self) -> PyArg {
        self.0.clone().unwrap_or(PyArg::None)
    }

    /// Python's `exc.args`: `()` or `(value,)`.
    pub fn args(&self) -> &[PyArg] {
        self.0.as_slice()
    }
}

impl fmt::Display for StopIteration {
    /// Python's `str(exc)`: the value's `str`, or nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(v) => f.write_str(&v.str()),
            None => Ok(()),
        }
    }
}

impl StdError for StopIteration {}

impl PyException for StopIteration {
    fn py_name(&self) -> &str {
        "StopIteration"
    }
    fn py_arg(&self) -> Option<&str> {
        match &self.0 {
            Some(PyArg::Str(s)) => Some(s),
            _ => None,
        }
    }
    fn py_args_repr(&self) -> String {
        self.0.as_ref().map(PyArg::repr).unwrap_or_default()
    }
    fn py_str(&self) -> String {
        self.to_string()
    }
}

/// Python's `SystemExit(code)` (a `BaseException`): leaves the loop as
/// [`KeyboardInterrupt`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SystemExit(pub Option<i64>);

impl fmt::Display for SystemExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(code) => write!(f, "{code}"),
            None => Ok(()),
        }
    }
}

impl StdError for SystemExit {}

impl PyException for SystemExit {
    fn py_name(&self) -> &str {
        "SystemExit"
    }
    fn py_arg(&self) -> Option<&str> {
        None
    }
    fn py_args_repr(&self) -> String {
        self.0.map(|c| c.to_string()).unwrap_or_default()
    }
    fn py_str(&self) -> String {
        self.to_string()
    }
}

/// Python's `isinstance(err, Exception)`: false for the `BaseException`s that are not
/// `Exception`s (`CancelledError` since 3.8, `KeyboardInterrupt`, `SystemExit`,
/// `GeneratorExit`), true for every other error, as for an `except Exception:` clause.
pub fn is_exception(err: &anyhow::Error) -> bool {
    !(err.isinstance::<CancelledError>()
        || err.isinstance::<KeyboardInterrupt>()
        || err.isinstance::<SystemExit>()
        || err.isinstance::<GeneratorExit>())
}

/// Whether `err` is one of the `BaseException`s that asyncio lets leave the loop
/// (`SystemExit`, `KeyboardInterrupt`) instead of keeping them as a task's exception only.
pub fn leaves_the_loop(err: &anyhow::Error) -> bool {
    err.isinstance::<KeyboardInterrupt>() || err.isinstance::<SystemExit>()
}

/// asyncio's `CancelledError`, with the message given to `cancel(msg)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CancelledError {
    /// The message passed to `cancel(msg)`; `None` gives Python's `CancelledError()`.
    pub msg: Option<String>,
}

impl CancelledError {
    /// `CancelledError()` or `CancelledError(msg)`.
    pub fn new(msg: Option<String>) -> Self {
        Self { msg }
    }
}

impl fmt::Display for CancelledError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.msg.as_deref().unwrap_or(""))
    }
}

impl StdError for CancelledError {}

impl PyException for CancelledError {
    fn py_name(&self) -> &str {
        "CancelledError"
    }
    fn py_arg(&self) -> Option<&str> {
        self.msg.as_deref()
    }
}

/// A panic caught at a boundary (a callback, a generator, a task), carried as an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panic {
    /// The panic's message when it was a string, else `"Box<dyn Any>"`.
    pub msg: String,
}

impl Panic {
    /// Builds the error from a payload caught by `std::panic::catch_unwind`.
    pub fn from_payload(payload: &(dyn std::any::Any + Send)) -> Self {
        let msg = if let Some(s) = payload.downcast_ref::<&'static str>() {
            (*s).to_string()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "Box<dyn Any>".to_string()
        };
        Self { msg }
    }
}

impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "panicked: {}", self.msg)
    }
}

impl StdError for Panic {}

impl PyException for Panic {
    fn py_name(&self) -> &str {
        "Panic"
    }
    fn py_arg(&self) -> Option<&str> {
        Some(&self.msg)
    }
}

/// One error delivered to many receivers (a future's awaiters): `anyhow::Error` is not
/// `Clone`, so they share it. [`ErrorExt::find`] looks through it to the concrete type.
#[derive(Clone)]
pub struct SharedError(pub Arc<anyhow::Error>);

impl SharedError {
    /// Shares `err`.
    pub fn new(err: anyhow::Error) -> Self {
        Self(Arc::new(err))
    }

    /// A new `anyhow::Error` for one receiver; it still downcasts through [`ErrorExt::find`].
    pub fn to_error(&self) -> anyhow::Error {
        anyhow::Error::new(self.clone())
    }

    /// The error for its last receiver: the one that was raised, unwrapped, when no other
    /// handle shares it (so `downcast_ref` finds it and its backtrace is its own); a shared
    /// handle as [`SharedError::to_error`] otherwise.
    pub fn into_error(self) -> anyhow::Error {
        match Arc::try_unwrap(self.0) {
            Ok(err) => err,
            Err(shared) => anyhow::Error::new(SharedError(shared)),
        }
    }
}

impl fmt::Debug for SharedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for SharedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl StdError for SharedError {
    /// The shared error's own source: the handle is transparent, so a chain (`{:#}`, `{:?}`)
    /// shows the message once, not the handle's and then the error's. [`ErrorExt::find`]
    /// looks through the handle itself.
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

/// Python 3.11's `ExceptionGroup(message, exceptions)`: what a `TaskGroup` raises when
/// children failed. `str()` is `"message (N sub-exceptions)"`, as in Python.
#[derive(Debug)]
pub struct ExceptionGroup {
    message: String,
    exceptions: Vec<anyhow::Error>,
}

impl ExceptionGroup {
    /// A group of `exceptions` (Python refuses an empty list; so does this, by panicking).
    pub fn new(message: impl Into<String>, exceptions: Vec<anyhow::Error>) -> Self {
        assert!(
            !exceptions.is_empty(),
            "second argument (exceptions) must be a non-empty sequence"
        );
        Self {
            message: message.into(),
            exceptions,
        }
    }

    /// `eg.message`: the message without the count.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// `eg.exceptions`: the errors, in the order they were gathered.
    pub fn exceptions(&self) -> &[anyhow::Error] {
        &self.exceptions
    }

    /// Whether some exception in the group (or in nested groups) is an `E`.
    pub fn contains<E: StdError + Send + Sync + 'static>(&self) -> bool {
        self.exceptions.iter().any(|e| {
            e.isinstance::<E>() || e.exc::<ExceptionGroup>().is_some_and(|g| g.contains::<E>())
        })
    }
}

impl fmt::Display for ExceptionGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.exceptions.len();
        let s = if n == 1 { "" } else { "s" };
        write!(f, "{} ({n} sub-exception{s})", self.message)
    }
}

impl StdError for ExceptionGroup {}

/// `except` for `anyhow::Error`: finds a concrete error type, looking through sharing.
pub trait ErrorExt {
    /// The exception itself as an `E` (Python's `isinstance` on the raised exception):
    /// looks through `anyhow` context layers and shared errors, not through causes.
    fn exc<E: StdError + Send + Sync + 'static>(&self) -> Option<&E>;

    /// The first error of type `E` in the chain (context layers and shared errors included).
    fn find<E: StdError + 'static>(&self) -> Option<&E>;

    /// Python's `isinstance(exc, E)`: [`ErrorExt::exc`] finds an `E`, or the exception's
    /// class derives from `E` ([`PyException::py_subclass_of`]: `BrokenBarrierError` is a
    /// `RuntimeError`). Named so because `anyhow::Error::is` does not look through shared
    /// errors.
    fn isinstance<E: StdError + Send + Sync + 'static>(&self) -> bool;
}

impl ErrorExt for anyhow::Error {
    fn exc<E: StdError + Send + Sync + 'static>(&self) -> Option<&E> {
        if let Some(e) = self.downcast_ref::<E>() {
            return Some(e);
        }
        // Wrappers that are not the exception itself: sharing, `raise ... from`, and
        // the layer that carries a `__context__`.
        let mut e: &(dyn StdError + 'static) = top(self);
        loop {
            let next = if let Some(shared) = e.downcast_ref::<SharedError>() {
                &*shared.0
            } else {
                &e.downcast_ref::<RaisedFrom>()?.exc
            };
            if let Some(found) = next.downcast_ref::<E>() {
                return Some(found);
            }
            e = top(next);
        }
    }

    fn find<E: StdError + 'static>(&self) -> Option<&E> {
        for e in self.chain() {
            if let Some(found) = e.downcast_ref::<E>() {
                return Some(found);
            }
            if let Some(shared) = e.downcast_ref::<SharedError>() {
                // The rest of the chain is the shared error's: search it from its top.
                return shared.0.find::<E>();
            }
        }
        None
    }

    fn isinstance<E: StdError + Send + Sync + 'static>(&self) -> bool {
        self.exc::<E>().is_some() || subclass_of(self, std::any::TypeId::of::<E>())
    }
}

/// Whether the exception (through sharing and `raise ... from`, as [`ErrorExt::exc`]) is of
/// a class that derives from `base`.
#[cold]
fn subclass_of(err: &anyhow::Error, base: std::any::TypeId) -> bool {
    let mut e: &(dyn StdError + 'static) = top(err);
    loop {
        if as_py(e).is_some_and(|p| p.py_subclass_of(base)) {
            return true;
        }
        e = if let Some(shared) = e.downcast_ref::<SharedError>() {
            top(&shared.0)
        } else if let Some(raised) = e.downcast_ref::<RaisedFrom>() {
            top(&raised.exc)
        } else {
            return false;
        };
    }
}

/// The exception itself under any [`SharedError`] and [`RaisedFrom`] wrappers.
fn unshare(err: &anyhow::Error) -> &(dyn StdError + 'static) {
    let mut e: &(dyn StdError + 'static) = top(err);
    loop {
        if let Some(shared) = e.downcast_ref::<SharedError>() {
            e = top(&shared.0);
        } else if let Some(raised) = e.downcast_ref::<RaisedFrom>() {
            e = top(&raised.exc);
        } else {
            return e;
        }
    }
}

/// Finds a registered exception type in an error (see [`register_py_exception`]).
type Probe = for<'a> fn(&'a (dyn StdError + 'static)) -> Option<&'a dyn PyException>;

/// Exception types of higher layers (streams, sockets, ...), registered by their constructors,
/// so that this layer prints them without naming the modules that define them.
static PROBES: std::sync::RwLock<Vec<(std::any::TypeId, Probe)>> =
    std::sync::RwLock::new(Vec::new());

/// Makes [`py_repr`], [`py_str`] and [`py_name`] know `E` (a higher layer's exception type).
/// Call it from `E`'s constructors: it costs one read lock once the type is known.
pub fn register_py_exception<E: PyException>() {
    fn probe<'a, E: PyException>(e: &'a (dyn StdError + 'static)) -> Option<&'a dyn PyException> {
        e.downcast_ref::<E>().map(|x| x as &dyn PyException)
    }
    let id = std::any::TypeId::of::<E>();
    let known = |v: &Vec<(std::any::TypeId, Probe)>| v.iter().any(|(t, _)| *t == id);
    if known(&PROBES.read().unwrap_or_else(|p| p.into_inner())) {
        return;
    }
    let mut probes = PROBES.write().unwrap_or_else(|p| p.into_inner());
    if !known(&probes) {
        probes.push((id, probe::<E>));
    }
}

fn as_py<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a dyn PyException> {
    macro_rules! try_types {
        ($($t:ty),*) => {
            $(if let Some(x) = e.downcast_ref::<$t>() { return Some(x); })*
        };
    }
    own_types!(try_types, Snapshot);
    let probes = PROBES.read().unwrap_or_else(|p| p.into_inner());
    probes.iter().find_map(|(_, probe)| probe(e))
}

/// Python's class name of an error: tulip's own types by name, `Exception` otherwise.
pub fn py_name(err: &anyhow::Error) -> String {
    if unshare(err).is::<ExceptionGroup>() {
        return "ExceptionGroup".to_string();
    }
    match as_py(unshare(err)) {
        Some(p) => p.py_name().to_string(),
        None => "Exception".to_string(),
    }
}

/// Python's `repr(exc)`: `CancelledError('m')`, `CancelledError()`, `ValueError('boom')`;
/// errors tulip does not know print as `Exception('<Display>')`.
pub fn py_repr(err: &anyhow::Error) -> String {
    format!("{}({})", py_name(err), py_args_repr(err))
}

/// What `repr` shows between the parentheses.
fn py_args_repr(err: &anyhow::Error) -> String {
    let inner = unshare(err);
    if let Some(group) = inner.downcast_ref::<ExceptionGroup>() {
        let items: Vec<String> = group.exceptions.iter().map(py_repr).collect();
        return format!("{}, [{}]", py_str_repr(&group.message), items.join(", "));
    }
    match as_py(inner) {
        Some(p) => p.py_args_repr(),
        None => py_str_repr(&err.to_string()),
    }
}

/// Python's `str(exc)`: the message, or the empty string.
pub fn py_str(err: &anyhow::Error) -> String {
    let inner = unshare(err);
    match as_py(inner) {
        Some(p) => p.py_str(),
        None => inner.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_matches_python() {
        let e = anyhow::Error::new(CancelledError::new(Some("m".into())));
        assert_eq!(py_repr(&e), "CancelledError('m')");
        let e = anyhow::Error::new(CancelledError::default());
        assert_eq!(py_repr(&e), "CancelledError()");
        let e = anyhow::Error::new(ValueError::new("it's"));
        assert_eq!(py_repr(&e), "ValueError(\"it's\")");
        assert_eq!(py_bytes_repr(b"abc\x00'"), "b\"abc\\x00'\"");
        assert_eq!(py_str_repr("a\nb"), "'a\\nb'");
    }

    #[derive(Debug)]
    struct Later;
    impl fmt::Display for Later {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("made above")
        }
    }
    impl StdError for Later {}
    impl PyException for Later {
        fn py_name(&self) -> &str {
            "LaterError"
        }
        fn py_arg(&self) -> Option<&str> {
            Some("made above")
        }
    }

    #[test]
    fn registered_types_print_as_python() {
        let e = anyhow::Error::new(Later);
        assert_eq!(py_repr(&e), "Exception('made above')");
        register_py_exception::<Later>();
        register_py_exception::<Later>();
        assert_eq!(py_repr(&e), "LaterError('made above')");
        assert_eq!(py_name(&SharedError::new(e).to_error()), "LaterError");
    }

    #[test]
    fn shared_errors_still_downcast() {
        let shared = SharedError::new(anyhow::Error::new(TimeoutError));
        let a = shared.to_error();
        let b = shared.to_error();
        assert!(a.isinstance::<TimeoutError>());
        assert!(b.find::<TimeoutError>().is_some());
        assert!(!a.isinstance::<CancelledError>());
        let caused = anyhow::Error::new(ValueError::new("x")).context(TimeoutError);
        assert!(caused.isinstance::<TimeoutError>());
        assert_eq!(py_repr(&a), "TimeoutError()");
    }

    #[test]
    fn a_shared_error_prints_its_message_once() {
        let inner = anyhow::Error::new(ValueError::new("inner")).context("outer");
        let e = SharedError::new(inner).to_error();
        assert_eq!(format!("{e}"), "outer");
        assert_eq!(format!("{e:#}"), "outer: inner");
        assert_eq!(format!("{e:?}").matches("outer").count(), 1);
        assert_eq!(format!("{e:?}").matches("inner").count(), 1);
        assert!(e.find::<ValueError>().is_some(), "found through the handle");
        let twice = SharedError::new(SharedError::new(ValueError::new("x").into()).to_error());
        assert_eq!(format!("{:#}", twice.to_error()), "x");
        assert!(twice.to_error().find::<ValueError>().is_some());
    }

    #[test]
    fn raise_from_keeps_the_cause_out_of_isinstance() {
        let e = raise_from(TimeoutError, CancelledError::default().into());
        assert!(e.isinstance::<TimeoutError>());
        assert!(!e.isinstance::<CancelledError>());
        assert!(cause(&e).is_some_and(|c| c.isinstance::<CancelledError>()));
        assert_eq!(py_repr(&e), "TimeoutError()");
        let shared = SharedError::new(e).to_error();
        assert!(shared.isinstance::<TimeoutError>());
        assert!(!shared.isinstance::<CancelledError>());
        assert!(cause(&shared).is_some());
    }

    #[test]
    fn stop_iteration_carries_its_value() {
        let e = StopIteration::with_value(3);
        assert_eq!(e.value(), PyArg::Int(3));
        assert_eq!(e.args(), &[PyArg::Int(3)]);
        assert_eq!(py_repr(&e.clone().into()), "StopIteration(3)");
        assert_eq!(py_str(&e.into()), "3");
        let bare = StopIteration::default();
        assert_eq!(bare.value(), PyArg::None);
        assert!(bare.args().is_empty());
        assert_eq!(py_repr(&bare.into()), "StopIteration()");
        assert_eq!(
            py_repr(&StopIteration(Some(PyArg::None)).into()),
            "StopIteration(None)"
        );
        assert_eq!(py_repr(&RuntimeError::new("").into()), "RuntimeError('')");
        assert_eq!(py_repr(&TimeoutError.into()), "TimeoutError()");
    }

    #[test]
    fn a_context_keeps_the_error_its_own() {
        #[derive(Debug)]
        struct Mine;
        impl fmt::Display for Mine {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("mine")
            }
        }
        impl StdError for Mine {}

        let delivered: anyhow::Error = ValueError::new("v").into();
        let noted = Delivered::note(&delivered);
        let e = noted.raised(Mine.into());
        assert!(e.downcast_ref::<Mine>().is_some() && e.is::<Mine>());
        assert!(e.exc::<Mine>().is_some() && e.isinstance::<Mine>());
        assert!(!e.isinstance::<ValueError>() && e.find::<ValueError>().is_none());
        assert_eq!(e.to_string(), "mine");
        assert_eq!(py_repr(&e), "Exception('mine')");
        assert_eq!(py_repr(context(&e).unwrap()), "ValueError('v')");
        assert!(context(&e).unwrap().isinstance::<ValueError>());
        let shared = SharedError::new(e).to_error();
        assert!(context(&shared).is_some() && shared.isinstance::<Mine>());

        // The delivered error itself, let out: no context.
        let noted = Delivered::note(&delivered);
        assert!(context(&noted.raised(delivered)).is_none());

        // `raise ... from` while handling: both, and the type still shows through.
        let noted = Delivered::note(&anyhow::Error::new(GeneratorExit));
        let e = noted.raised(raise_from(TimeoutError, ValueError::new("c").into()));
        assert!(e.isinstance::<TimeoutError>() && e.exc::<TimeoutError>().is_some());
        assert_eq!(py_repr(&e), "TimeoutError()");
        assert!(cause(&e).is_some());
        assert_eq!(py_repr(context(&e).unwrap()), "GeneratorExit()");
    }

    #[test]
    fn the_chain_prints_as_python_s_traceback() {
        let e = with_context(
            RuntimeError::new("cleanup failed").into(),
            CancelledError::new(Some("stop".into())).into(),
        );
        assert_eq!(
            py_format_exception(&e),
            "CancelledError: stop\n\nDuring handling of the above exception, another \
             exception occurred:\n\nRuntimeError: cleanup failed"
        );
        let e = raise_from(TimeoutError, ValueError::new("v").into());
        assert_eq!(
            py_format_exception(&e),
            "ValueError: v\n\nThe above exception was the direct cause of the following \
             exception:\n\nTimeoutError"
        );
        assert_eq!(
            py_format_exception(&ValueError::new("x").into()),
            "ValueError: x"
        );
    }

    #[test]
    fn exception_group_prints_like_python() {
        let g = ExceptionGroup::new(
            "unhandled errors in a TaskGroup",
            vec![
                ValueError::new("a").into(),
                Exception::new("ZeroDivisionError", "division by zero").into(),
            ],
        );
        assert_eq!(
            g.to_string(),
            "unhandled errors in a TaskGroup (2 sub-exceptions)"
        );
        assert!(g.contains::<ValueError>());
        let e = anyhow::Error::new(g);
        assert_eq!(
            py_str(&e),
            "unhandled errors in a TaskGroup (2 sub-exceptions)"
        );
        assert_eq!(py_name(&e), "ExceptionGroup");
        assert_eq!(
            py_repr(&e),
            "ExceptionGroup('unhandled errors in a TaskGroup', [ValueError('a'), ZeroDivisionError('division by zero')])"
        );
    }
}
