//! Exception chaining: `raise exc from cause` (`__cause__`), the implicit `__context__` of
//! an error raised while another was being handled, and Python's traceback-like text of a
//! chain ([`py_format_exception`]).

use std::error::Error as StdError;
use std::fmt;

use super::{
    CancelledError, Exception, GeneratorExit, InvalidStateError, KeyboardInterrupt,
    NotImplementedError, OsError, Panic, PyException, RuntimeError, SharedError, StopIteration,
    SystemExit, TimeoutError, TypeError, ValueError, py_args_repr, py_name, py_repr, py_str,
};

/// Python's `raise exc from cause`: `exc`, with `cause` as its `__cause__`.
///
/// `anyhow::Error::context` is no substitute: its result also downcasts to the cause, so a
/// `TimeoutError` raised from a `CancelledError` would still look cancelled to a task.
/// [`ErrorExt::exc`](super::ErrorExt::exc) sees only `exc` here; [`ErrorExt::find`](super::ErrorExt::find) and [`cause`] reach the cause.
pub struct RaisedFrom {
    /// The exception raised.
    pub exc: anyhow::Error,
    /// Its `__cause__`.
    pub cause: anyhow::Error,
}

impl fmt::Debug for RaisedFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} from {:?}", self.exc, self.cause)
    }
}

impl fmt::Display for RaisedFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.exc, f)
    }
}

impl StdError for RaisedFrom {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(self.cause.as_ref())
    }
}

/// `raise exc from cause`.
pub fn raise_from(exc: impl Into<anyhow::Error>, cause: anyhow::Error) -> anyhow::Error {
    anyhow::Error::new(RaisedFrom {
        exc: exc.into(),
        cause,
    })
}

/// Python's `exc.__cause__`: the cause given by [`raise_from`], looking through sharing.
pub fn cause(err: &anyhow::Error) -> Option<&anyhow::Error> {
    let mut e: &(dyn StdError + 'static) = top(err);
    loop {
        if let Some(shared) = e.downcast_ref::<SharedError>() {
            e = top(&shared.0);
        } else {
            return e.downcast_ref::<RaisedFrom>().map(|raised| &raised.cause);
        }
    }
}

/// Python's implicit `__context__`: the exception that was being handled when `err` was
/// raised. tulip records it where it delivers an exception into a body (a generator's
/// `throw`, `close`'s `GeneratorExit`, a task's `CancelledError`) and the body fails with
/// another error before it suspends again (for a task: while it is being cancelled). Looks
/// through sharing. `None` when the body let the delivered error itself out (Python: the
/// same object), or raised nothing while handling one.
///
/// The context is a copy of the delivered error made when it was delivered (the body owns
/// the original): tulip's own error types are cloned, so `isinstance` works on it as on
/// the original; another type is kept as its Python name, `repr` and `str`, which is
/// what [`py_repr`] and the reports print.
pub fn context(err: &anyhow::Error) -> Option<&anyhow::Error> {
    if let Some(layer) = err.downcast_ref::<ContextLayer>() {
        return Some(&layer.context);
    }
    let shared = err.downcast_ref::<SharedError>()?;
    context(&shared.0)
}

/// The layer that carries a `__context__`: an `anyhow` context on the new error, so that
/// `downcast_ref`, `is` and `isinstance` still find the new error's own type (and only
/// it: the context is a field, not a source). Its `Display` is the new error's, so `{}`
/// prints as before; `{:#}` and `{:?}` list the message twice (the layer, then the error).
struct ContextLayer {
    context: anyhow::Error,
    /// The new error's `Display`, which the layer repeats.
    display: String,
    /// Where the new error's object lives: tells this layer from one deeper in a chain.
    inner: *const (),
}

// SAFETY: `inner` is only compared, never dereferenced.
unsafe impl Send for ContextLayer {}
// SAFETY: as above.
unsafe impl Sync for ContextLayer {}

impl fmt::Display for ContextLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

impl fmt::Debug for ContextLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

/// Where an error's object lives (stable while it moves, as it is boxed).
fn error_addr(err: &anyhow::Error) -> *const () {
    err.as_ref() as *const (dyn StdError + 'static) as *const ()
}

/// Records `context` as `err.__context__`, unless `err` has one already (a deeper body
/// recorded the one it was handling).
#[cold]
pub(crate) fn with_context(err: anyhow::Error, context: anyhow::Error) -> anyhow::Error {
    if self::context(&err).is_some() {
        return err;
    }
    let layer = ContextLayer {
        context,
        display: err.to_string(),
        inner: error_addr(&err),
    };
    err.context(layer)
}

/// What a body received, kept to become the `__context__` of an error it raises instead
/// (see [`context`]).
pub(crate) struct Delivered {
    addr: *const (),
    /// `None` for `GeneratorExit`, rebuilt only if needed (`close` is frequent).
    copy: Option<anyhow::Error>,
}

impl Delivered {
    /// Notes `err` before it is handed to a body.
    #[cold]
    pub(crate) fn note(err: &anyhow::Error) -> Self {
        let copy = (!err.is::<GeneratorExit>()).then(|| snapshot(err));
        Delivered {
            addr: error_addr(err),
            copy,
        }
    }

    /// What the body raised, with the delivered error as its context unless it is that
    /// same error.
    #[cold]
    pub(crate) fn raised(self, err: anyhow::Error) -> anyhow::Error {
        // The address alone could be a new error allocated where the delivered one was
        // freed: the same object also prints the same.
        let same = error_addr(&err) == self.addr
            && match &self.copy {
                None => err.is::<GeneratorExit>(),
                Some(copy) => py_repr(copy) == py_repr(&err) && copy.to_string() == err.to_string(),
            };
        if same {
            return err;
        }
        with_context(err, self.copy.unwrap_or_else(|| GeneratorExit.into()))
    }
}

/// A copy of an error, to keep as a context: tulip's own (cloneable) types are cloned, a
/// shared error is shared once more, any other is kept as its Python name, repr and str.
fn snapshot(err: &anyhow::Error) -> anyhow::Error {
    macro_rules! try_clone {
        ($($t:ty),*) => {
            $(if let Some(x) = err.downcast_ref::<$t>() {
                return anyhow::Error::new(x.clone());
            })*
        };
    }
    if let Some(shared) = err.downcast_ref::<SharedError>() {
        return shared.to_error();
    }
    own_types!(try_clone, OsError);
    anyhow::Error::new(Snapshot {
        name: py_name(err),
        args: py_args_repr(err),
        str: py_str(err),
    })
}

/// A delivered error of a type tulip cannot clone, kept as Python shows it.
#[derive(Debug)]
pub(super) struct Snapshot {
    name: String,
    args: String,
    str: String,
}

impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.str)
    }
}

impl StdError for Snapshot {}

impl PyException for Snapshot {
    fn py_name(&self) -> &str {
        &self.name
    }
    fn py_arg(&self) -> Option<&str> {
        None
    }
    fn py_args_repr(&self) -> String {
        self.args.clone()
    }
    fn py_str(&self) -> String {
        self.str.clone()
    }
}

/// The exception object itself under a [`ContextLayer`] at the top of `err`, if any.
pub(super) fn top(err: &anyhow::Error) -> &(dyn StdError + 'static) {
    let e: &(dyn StdError + 'static) = err.as_ref();
    if let Some(layer) = err.downcast_ref::<ContextLayer>()
        && let Some(inner) = e.source()
        && inner as *const (dyn StdError + 'static) as *const () == layer.inner
    {
        return inner;
    }
    e
}

/// Python's traceback text without the frames: each exception of the chain as
/// `Class: message` (`Class` alone when the message is empty), oldest first, joined by
/// Python's "The above exception was the direct cause of the following exception:"
/// (a [`cause`]) or "During handling of the above exception, another exception
/// occurred:" (a [`context`]; a cause wins, as `raise ... from` suppresses the context).
pub fn py_format_exception(err: &anyhow::Error) -> String {
    let mut parts = Vec::new();
    let mut e = err;
    // A chain is finite (each link owns the next), but stay bounded as Python's is.
    for _ in 0..64 {
        let msg = py_str(e);
        let line = if msg.is_empty() {
            py_name(e)
        } else {
            format!("{}: {msg}", py_name(e))
        };
        let (next, joint) = match (cause(e), context(e)) {
            (Some(c), _) => (
                Some(c),
                "The above exception was the direct cause of the following exception:",
            ),
            (None, Some(c)) => (
                Some(c),
                "During handling of the above exception, another exception occurred:",
            ),
            (None, None) => (None, ""),
        };
        parts.push(line);
        match next {
            Some(n) => {
                parts.push(format!("\n{joint}\n"));
                e = n;
            }
            None => break,
        }
    }
    parts.reverse();
    parts.join("\n")
}
