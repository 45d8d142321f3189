//! Exception reporting: asyncio's exception context, the custom handler and the default one.

use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;

use super::EventLoop;
use super::debug::{handle_repr, timer_handle_repr, write_source};
use crate::callbacks::CallbackPanic;
use crate::errors::{Panic, py_format_exception, py_qualname, py_repr, py_str_repr};

/// A custom exception handler (see [`EventLoop::set_exception_handler`]).
pub type ExceptionHandler = dyn Fn(&EventLoop, &ExceptionContext);

/// What went wrong, for the exception handler: asyncio's context dict.
///
/// `message` and `exception` are the dict's keys of the same names; `fields` are its other
/// keys with the `repr` of their values, e.g. `("handle", "<Handle main::hello()>")`.
#[derive(Debug)]
pub struct ExceptionContext {
    /// What happened, e.g. `"Exception in callback main::hello()"`.
    pub message: String,
    /// The error, if there is one (a callback's panic arrives as [`Panic`]).
    pub exception: Option<anyhow::Error>,
    /// The other keys and their values' repr, e.g. `("handle", ...)`, `("future", ...)`.
    pub fields: Vec<(&'static str, String)>,
}

impl ExceptionContext {
    /// A context with a message only.
    pub fn new(message: impl Into<String>) -> Self {
        ExceptionContext {
            message: message.into(),
            exception: None,
            fields: Vec::new(),
        }
    }

    /// Sets the exception.
    pub fn with_exception(mut self, exception: anyhow::Error) -> Self {
        self.exception = Some(exception);
        self
    }

    /// Adds a key and its value's repr.
    pub fn with_field(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.fields.push((key, value.into()));
        self
    }

    /// The repr of the value of `key` among the other keys.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every key, sorted: Python's `sorted(context)`.
    pub fn keys(&self) -> Vec<&'static str> {
        let mut keys = vec!["message"];
        if self.exception.is_some() {
            keys.push("exception");
        }
        keys.extend(self.fields.iter().map(|(k, _)| *k));
        keys.sort_unstable();
        keys
    }

    /// The context as Python prints the dict:
    /// `{'message': '...', 'exception': Panic('boom'), 'handle': <Handle ...>}`.
    pub fn repr(&self) -> String {
        let mut parts = vec![format!("'message': {}", py_str_repr(&self.message))];
        if let Some(e) = &self.exception {
            parts.push(format!("'exception': {}", py_repr(e)));
        }
        for (k, v) in &self.fields {
            parts.push(format!("'{k}': {v}"));
        }
        format!("{{{}}}", parts.join(", "))
    }
}

impl EventLoop {
    /// Sets the handler called with every error the loop catches (`None`: the default,
    /// [`EventLoop::default_exception_handler`]). To reset it:
    /// `set_exception_handler(None::<fn(&EventLoop, &ExceptionContext)>)`.
    pub fn set_exception_handler(
        &self,
        h: Option<impl Fn(&EventLoop, &ExceptionContext) + 'static>,
    ) {
        let h = h.map(|h| Rc::new(h) as Rc<ExceptionHandler>);
        *self.inner().handler.borrow_mut() = h;
    }

    /// `loop.get_exception_handler()`: the custom handler set with
    /// [`EventLoop::set_exception_handler`], `None` for the default one.
    pub fn get_exception_handler(&self) -> Option<Rc<ExceptionHandler>> {
        self.inner().handler.borrow().clone()
    }

    /// Reports an error: calls the custom handler, or the default one. If the custom handler
    /// panics, the default one reports "Unhandled error in exception handler".
    pub fn call_exception_handler(&self, ctx: ExceptionContext) {
        let handler = self.inner().handler.borrow().clone();
        let Some(handler) = handler else {
            self.default_handler_guarded(&ctx);
            return;
        };
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| handler(self, &ctx))) {
            let ctx2 = ExceptionContext::new("Unhandled error in exception handler")
                .with_exception(Panic::from_payload(&*payload).into())
                .with_field("context", ctx.repr());
            self.default_handler_guarded(&ctx2);
        }
    }

    fn default_handler_guarded(&self, ctx: &ExceptionContext) {
        if panic::catch_unwind(AssertUnwindSafe(|| self.default_exception_handler(ctx))).is_err() {
            eprintln!("Exception in default exception handler");
        }
    }

    /// asyncio's default handler: the message, one `key: value` line per other key (sorted),
    /// then the exception as `Class: message`, after
    /// the exceptions it was raised from or while handling (see [`py_format_exception`](crate::py_format_exception)). It goes to the `log` crate (target `"tulip"`,
    /// level error) when a logger is installed, else to stderr.
    pub fn default_exception_handler(&self, ctx: &ExceptionContext) {
        let mut text = if ctx.message.is_empty() {
            "Unhandled exception in event loop".to_string()
        } else {
            ctx.message.clone()
        };
        let mut fields: Vec<_> = ctx.fields.iter().collect();
        fields.sort_by_key(|(k, _)| *k);
        for (k, v) in fields {
            text.push_str(&format!("\n{k}: {v}"));
        }
        if let Some(e) = &ctx.exception {
            // Python's traceback minus the frames: the chain of causes and contexts first.
            text.push('\n');
            text.push_str(&py_format_exception(e));
        }
        if log::max_level() != log::LevelFilter::Off {
            log::error!(target: "tulip", "{text}");
        } else {
            eprintln!("{text}");
        }
    }

    /// A callback of a higher layer's (a future's done callback) panicked and was caught
    /// there: reported as asyncio does, under the user's callback name with its arguments,
    /// `Exception in callback on_done(<Future cancelled>)`.
    pub(crate) fn report_callback_panic(
        &self,
        name: &str,
        args: &str,
        payload: Box<dyn std::any::Any + Send>,
    ) {
        let cb = format!("{}({args})", py_qualname(name));
        let ctx = ExceptionContext::new(format!("Exception in callback {cb}"))
            .with_exception(Panic::from_payload(&*payload).into())
            .with_field("handle", format!("<Handle {cb}>"));
        self.call_exception_handler(ctx);
    }

    /// A callback panicked: asyncio's "Exception in callback NAME()" report, the handle as
    /// `<Handle NAME()>`, or `<TimerHandle when=... NAME()>` for a timer's callback.
    pub(super) fn report_panic(&self, p: CallbackPanic) {
        let name = py_qualname(p.name);
        let when = self.inner().timers.borrow().due_deadline(p.seq);
        let handle = match when {
            Some(when) => timer_handle_repr(&name, when.monotonic_secs(), p.location),
            None => handle_repr(&name, p.location),
        };
        let mut ctx = ExceptionContext::new(format!("Exception in callback {name}()"))
            .with_exception(Panic::from_payload(&*p.payload).into())
            .with_field("handle", handle);
        if let Some(at) = p.location {
            ctx = ctx.with_field("source_traceback", write_source(at));
        }
        self.call_exception_handler(ctx);
    }
}
