//! asyncio's debug mode: slow callbacks reported, and where handles, futures and tasks were
//! created shown in the reports that name them.

use std::panic::Location;
use std::sync::OnceLock;
use std::time::Duration;

use super::EventLoop;
use crate::callbacks::{Ran, ReadyQueue};
use crate::errors::{py_float_repr, py_qualname};

/// asyncio's default `slow_callback_duration`: 0.1 s.
pub(super) const DEFAULT_SLOW_CALLBACK: Duration = Duration::from_millis(100);

/// Whether a new loop starts in debug mode: `TULIP_DEBUG` set to anything non-empty, read
/// once per process (asyncio reads `PYTHONASYNCIODEBUG` the same way, at import).
pub(super) fn default_debug() -> bool {
    static DEFAULT: OnceLock<bool> = OnceLock::new();
    *DEFAULT.get_or_init(|| std::env::var_os("TULIP_DEBUG").is_some_and(|v| !v.is_empty()))
}

/// The `source_traceback` field of an exception context: asyncio prints the traceback of
/// where the object was created; tulip knows that one frame.
pub(crate) fn write_source(at: &Location<'_>) -> String {
    format!(
        "Object created at (most recent call last):\n  File \"{}\", line {}, column {}",
        at.file(),
        at.line(),
        at.column()
    )
}

/// A warning as the default exception handler routes its reports: the `log` crate (target
/// `"tulip"`) when a logger is installed, else stderr.
pub(super) fn warn(text: &str) {
    if log::max_level() != log::LevelFilter::Off {
        log::warn!(target: "tulip", "{text}");
    } else {
        eprintln!("{text}");
    }
}

impl EventLoop {
    /// `loop.set_debug(enabled)`: asyncio's debug mode. With it on:
    ///
    /// - a callback or task step that runs longer than
    ///   [`slow_callback_duration`](EventLoop::slow_callback_duration) is logged as
    ///   `Executing <Handle NAME() created at FILE:LINE:COL> took 0.150 seconds` (a task step
    ///   as `Executing <Task pending name='Task-1' created at FILE:LINE:COL> took ...`), at
    ///   warning level through the `log` crate (target `"tulip"`) when a logger is installed,
    ///   else on stderr;
    /// - callbacks remember where `call_soon`, `call_later` or `call_at` was called; task and
    ///   future reprs show `created at FILE:LINE:COL`, and the reports that name a callback, a
    ///   future or a task ("Exception in callback", "exception was never retrieved", "Task
    ///   was destroyed but it is pending!") get asyncio's `source_traceback` key;
    /// - the `sock_*` calls refuse a blocking socket with
    ///   `ValueError("the socket must be non-blocking")`.
    ///
    /// It is off by default, on for loops made while the environment variable `TULIP_DEBUG` is
    /// set to a non-empty value (read once per process; asyncio's `PYTHONASYNCIODEBUG`). Off,
    /// it costs one flag read per loop iteration. The guide's
    /// [Debugging](crate::guide::debugging) page has examples.
    pub fn set_debug(&self, enabled: bool) {
        self.inner().debug.set(enabled);
    }

    /// `loop.get_debug()`: whether debug mode is on.
    pub fn get_debug(&self) -> bool {
        self.inner().debug.get()
    }

    /// `loop.slow_callback_duration = d`: in debug mode, callbacks and task steps that take
    /// longer are logged (default 100 ms).
    pub fn set_slow_callback_duration(&self, d: Duration) {
        self.inner().slow_callback.set(d);
    }

    /// The threshold of [`EventLoop::set_slow_callback_duration`].
    pub fn slow_callback_duration(&self) -> Duration {
        self.inner().slow_callback.get()
    }

    /// Step 4 in debug mode: each callback timed, the slow ones reported.
    #[cold]
    #[inline(never)]
    pub(super) fn run_ready_debug(&self) -> anyhow::Result<()> {
        let inner = self.inner();
        let threshold = inner.slow_callback.get();
        ReadyQueue::run_batch_debug(
            &inner.ready,
            |p| self.report_panic(p),
            |ran: Ran| {
                if ran.elapsed < threshold {
                    return;
                }
                // Formatted after the call, as asyncio does: a task shows its new state.
                let what = match ran.subject {
                    Some(s) => s.subject_repr(),
                    None => {
                        let name = py_qualname(ran.name);
                        match inner.timers.borrow().due_deadline(ran.seq) {
                            Some(when) => {
                                timer_handle_repr(&name, when.monotonic_secs(), ran.location)
                            }
                            None => handle_repr(&name, ran.location),
                        }
                    }
                };
                warn(&format!(
                    "Executing {what} took {:.3} seconds",
                    ran.elapsed.as_secs_f64()
                ));
            },
        )
    }
}

/// asyncio's `repr(handle)`: `<Handle NAME()>`, in debug mode
/// `<Handle NAME() created at FILE:LINE:COL>`.
pub(super) fn handle_repr(name: &str, at: Option<&Location<'_>>) -> String {
    match at {
        Some(at) => format!("<Handle {name}() created at {at}>"),
        None => format!("<Handle {name}()>"),
    }
}

/// asyncio's `repr(timer_handle)`: `<TimerHandle when=SECS NAME()>` (`when` as Python prints
/// a float), in debug mode with ` created at FILE:LINE:COL`.
pub(super) fn timer_handle_repr(name: &str, when: f64, at: Option<&Location<'_>>) -> String {
    let when = py_float_repr(when);
    match at {
        Some(at) => format!("<TimerHandle when={when} {name}() created at {at}>"),
        None => format!("<TimerHandle when={when} {name}()>"),
    }
}

impl EventLoop {
    /// asyncio's `loop.time()`: the loop's clock in seconds (`CLOCK_MONOTONIC`, which is
    /// Python's `time.monotonic()` and what [`EventLoop::time`] reads), as the reprs of timer
    /// handles print it. [`TimerHandle::when_secs`](crate::TimerHandle::when_secs) is on the
    /// same scale.
    pub fn time_secs(&self) -> f64 {
        crate::timers::Deadline::of(self.time()).monotonic_secs()
    }
}
