//! The event loop (layer 4, the talk's "Run forever, stop"): [`EventLoop`].
//!
//! This is the only place where callbacks are called. One iteration ([`EventLoop::run_forever`]
//! repeats it) is asyncio's `_run_once`:
//!
//! 1. timer clean-up (rebuild the heap or pop cancelled heads);
//! 2. the poll timeout: zero when callbacks are ready or a stop is pending, else until the
//!    next deadline (at most 24 h), else without limit;
//! 3. poll for I/O; then calls from other threads are queued, then the ready readers and
//!    writers (READ before WRITE per fd), then the timers that are due;
//! 4. run exactly the callbacks that were queued at that point; what they schedule runs in the
//!    next iteration.
//!
//! When no fd of the user's is registered, step 3 makes no syscall at all for a zero timeout,
//! and sleeps on the clock for a finite one. When callbacks are ready and there is nothing
//! else (no timer, no fd, no owned source due, no call from another thread), steps 1 to 3
//! would do nothing, and the iteration is step 4 alone.

use std::any::{Any, TypeId};
use std::cell::{Cell, OnceCell, RefCell};
use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::Duration;

use crate::callbacks::{CallbackPanic, ReadyQueue};
use crate::errors::RuntimeError;
use crate::selector::Selector;
use crate::timers::{Cancelled, Timers};

mod debug;
mod exceptions;
mod handles;
mod io;
mod scheduling;
mod threadsafe;

pub(crate) use debug::write_source;

pub use exceptions::{ExceptionContext, ExceptionHandler};
pub use handles::{Handle, TimerHandle};
pub use threadsafe::LoopHandle;
use threadsafe::{Threadsafe, ThreadsafeCall};

/// asyncio's `MAXIMUM_SELECT_TIMEOUT`: the longest single poll.
const MAXIMUM_SELECT_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

thread_local! {
    /// The loop running on this thread: [`get_running_loop`].
    static RUNNING: RefCell<Option<EventLoop>> = const { RefCell::new(None) };
}

/// `asyncio.get_running_loop()`: the loop running on this thread.
///
/// # Errors
///
/// `RuntimeError("no running event loop")` outside a running loop.
pub fn get_running_loop() -> anyhow::Result<EventLoop> {
    RUNNING
        .with(|r| r.borrow().clone())
        .ok_or_else(|| RuntimeError::new("no running event loop").into())
}

/// Whether the loop running on this thread is in debug mode (no handle made).
pub(crate) fn running_debug() -> bool {
    RUNNING.with(|r| r.borrow().as_ref().is_some_and(EventLoop::get_debug))
}

type CloseHook = Box<dyn FnOnce(&EventLoop)>;
type IterationHook = Box<dyn FnMut(&EventLoop)>;

/// The loop's state. Every `RefCell` here is borrowed only briefly, never while user code runs.
pub(crate) struct Inner {
    ready: RefCell<ReadyQueue>,
    timers: RefCell<Timers>,
    selector: RefCell<Selector>,
    stopping: Cell<bool>,
    /// No timer, no fd of the user's and no owned source due, for sure: an iteration with
    /// callbacks ready then only runs them. Cleared by whatever may add one of these (all of
    /// them go through `EventLoop`); set again by a full iteration that finds none.
    quiet: Cell<bool>,
    running: Cell<bool>,
    closed: Cell<bool>,
    /// The owner was dropped while the loop ran: close when `run_forever` returns.
    orphaned: Cell<bool>,
    handler: RefCell<Option<Rc<ExceptionHandler>>>,
    threadsafe: OnceCell<Arc<Threadsafe>>,
    /// The other half of the thread-safe queue's double buffer (keeps its capacity).
    threadsafe_spare: RefCell<Vec<ThreadsafeCall>>,
    extensions: RefCell<Vec<(TypeId, Rc<dyn Any>)>>,
    /// The extension found last (every task creation looks up the same one).
    extension_last: Cell<Option<(TypeId, *const ())>>,
    close_hooks: RefCell<Vec<CloseHook>>,
    /// asyncio's debug mode (see [`EventLoop::set_debug`]).
    debug: Cell<bool>,
    /// Iterations run ([`EventLoop::iteration`]).
    iterations: Cell<u64>,
    /// Whether `hook` is set: the one branch an iteration pays when it is not.
    hooked: Cell<bool>,
    hook: RefCell<Option<IterationHook>>,
    slow_callback: Cell<Duration>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Not closed (its owner closes it when dropped, so this is a safety net): other
        // threads' handles must get "Event loop is closed" rather than queue into a loop that
        // is gone.
        if let Some(ts) = self.threadsafe.get() {
            drop(ts.close());
        }
    }
}

impl Inner {
    /// Cancels queued callback `seq` (a [`Handle`]'s), if it has not run yet.
    pub(super) fn cancel_ready(&self, seq: u64) {
        let cb = self.ready.borrow_mut().cancel(seq);
        // Dropped here, after the borrow: the closure's captures may run user code.
        drop(cb);
    }
}

impl Inner {
    /// Cancels timer `(slot, seq)` (a [`TimerHandle`]'s), if it has not run yet.
    #[inline]
    pub(super) fn cancel_timer(&self, slot: u32, seq: u64) {
        let found = self.timers.borrow_mut().cancel(slot, seq);
        match found {
            Cancelled::Scheduled(cb) => drop(cb),
            Cancelled::Due(ready_seq) => self.cancel_ready(ready_seq),
            Cancelled::Gone => {}
        }
    }
}

/// asyncio's event loop: callbacks, timers, readers and writers, run on one thread.
///
/// A cheap clonable handle (`Rc` inside); clones are the same loop. It is `!Send`: other
/// threads use a [`LoopHandle`].
///
/// asyncio's debug mode raises "Non-thread-safe operation invoked on an event loop other
/// than the current one" (asyncio-cases.md case 29); in tulip the compiler refuses it:
///
/// ```compile_fail
/// let lp = tulip::EventLoop::new().unwrap();
/// std::thread::spawn(move || lp.call_soon(|| ()));
/// ```
///
/// # Owner and handles
///
/// The value [`EventLoop::new`] returns owns the loop; its clones (and what
/// [`get_running_loop`], `Future::get_loop` and `Task::get_loop` give) are handles that
/// reach the same loop but do not keep it open. Callbacks, tasks and futures hold such
/// handles, so they never keep a loop alive by themselves, even in a cycle.
///
/// When the owner is dropped and the loop is not closed, tulip does what CPython's
/// `BaseEventLoop.__del__` does for a garbage-collected loop: it reports
/// `unclosed event loop <EventLoop running=False closed=False debug=False>` (the `log`
/// crate, target `"tulip"`, level warn, when a logger is installed, else stderr; Python's
/// `ResourceWarning`) and closes the loop, which reports every pending task to the exception
/// handler ("Task was destroyed but it is pending!", key `task`), unwinds its stack, and
/// frees the queued callbacks, timers, readers and writers, the epoll instance and the
/// waker. A loop whose owner is dropped while it runs closes when `run_forever` returns.
/// From then on the handles left get `RuntimeError("Event loop is closed")`.
///
/// A panicking callback is caught and reported to the exception handler; the loop goes on.
/// Rust's panic hook still runs first and prints `thread '...' panicked at ...` to stderr
/// (tulip leaves the hook alone: it is process-wide). An application that wants only the
/// handler's report installs its own hook with [`std::panic::set_hook`].
///
/// # Examples
///
/// Callbacks and timers, run until a timer stops the loop:
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// use tulip::EventLoop;
///
/// let lp = EventLoop::new()?; // asyncio: loop = asyncio.new_event_loop()
/// let log = Rc::new(RefCell::new(Vec::new()));
/// let l = log.clone();
/// lp.call_later(Duration::from_millis(5), move || l.borrow_mut().push("later"))?;
/// let l = log.clone();
/// lp.call_soon(move || l.borrow_mut().push("soon"))?; // loop.call_soon(f)
/// let stopper = lp.clone();
/// // loop.call_later(0.01, loop.stop)
/// lp.call_later(Duration::from_millis(10), move || stopper.stop())?;
/// lp.run_forever()?; // returns once stop() ran
/// lp.close()?;
/// assert_eq!(*log.borrow(), ["soon", "later"]);
/// # Ok(()) }
/// ```
pub struct EventLoop {
    /// `Rc::into_raw` of the loop's state, with [`OWNER`] set in the owner's. One word: every
    /// future holds one, and the hot paths only mask a bit.
    tagged: NonNull<Inner>,
    /// Owns a strong count of `Rc<Inner>` (auto traits and drop check as `Rc`).
    _rc: PhantomData<Rc<Inner>>,
}

/// The low bit of [`EventLoop::tagged`] in the value `EventLoop::new` returned (`Inner` is
/// 8-aligned, so the bit is free).
const OWNER: usize = 1;
const _: () = assert!(std::mem::align_of::<Inner>() > OWNER);

impl Clone for EventLoop {
    /// A handle: never the owner.
    #[inline]
    fn clone(&self) -> Self {
        let raw = self.raw();
        // SAFETY: `raw` comes from `Rc::into_raw` and `self` holds one strong count, so the
        // allocation is alive; the new value owns the count made here.
        unsafe { Rc::increment_strong_count(raw) };
        EventLoop {
            // SAFETY: `raw` is non-null (from an `Rc`).
            tagged: unsafe { NonNull::new_unchecked(raw.cast_mut()) },
            _rc: PhantomData,
        }
    }
}

impl Drop for EventLoop {
    #[inline]
    fn drop(&mut self) {
        let tagged = self.tagged.as_ptr();
        if tagged.addr() & OWNER != 0 {
            // By value: `self` need not live in memory for the hot path's sake.
            return drop_owner(tagged);
        }
        // SAFETY: a handle's pointer is `Rc::into_raw`'s as is (no tag), and this value owns
        // one strong count of it.
        unsafe { Rc::decrement_strong_count(tagged) };
    }
}

/// The owner's drop: it becomes a handle (the same strong count, untagged), reports and
/// closes the loop, and is dropped as a handle.
#[cold]
#[inline(never)]
fn drop_owner(tagged: *mut Inner) {
    let handle = EventLoop {
        // SAFETY: non-null: it is `Rc::into_raw`'s pointer with the owner bit cleared.
        tagged: unsafe { NonNull::new_unchecked(tagged.map_addr(|a| a & !OWNER)) },
        _rc: PhantomData,
    };
    handle.owner_dropped();
}

/// Resets the running state when `run_forever` returns (or unwinds).
struct RunGuard<'a>(&'a EventLoop);

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        let inner = self.0.inner();
        inner.stopping.set(false);
        inner.running.set(false);
        let running = RUNNING.with(|r| r.borrow_mut().take());
        // Dropped with no borrow of `RUNNING` held (it is a handle: this closes nothing).
        drop(running);
        if inner.orphaned.replace(false) {
            // The owner was dropped while the loop ran.
            let _ = self.0.close();
        }
    }
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

fn closed_error() -> anyhow::Error {
    RuntimeError::new("Event loop is closed").into()
}

impl EventLoop {
    /// A new loop (asyncio's `new_event_loop()`). It makes one epoll instance; the thread-safe
    /// waker is only made when first needed.
    ///
    /// # Errors
    ///
    /// The `io::Error` of `epoll_create1` (e.g. `EMFILE`: too many open files).
    pub fn new() -> anyhow::Result<EventLoop> {
        let inner = Inner {
            ready: RefCell::default(),
            timers: RefCell::new(Timers::new()),
            selector: RefCell::new(Selector::new()?),
            stopping: Cell::new(false),
            quiet: Cell::new(true),
            running: Cell::new(false),
            closed: Cell::new(false),
            orphaned: Cell::new(false),
            handler: RefCell::new(None),
            threadsafe: OnceCell::new(),
            threadsafe_spare: RefCell::default(),
            extensions: RefCell::default(),
            extension_last: Cell::new(None),
            close_hooks: RefCell::default(),
            debug: Cell::new(debug::default_debug()),
            iterations: Cell::new(0),
            hooked: Cell::new(false),
            hook: RefCell::new(None),
            slow_callback: Cell::new(debug::DEFAULT_SLOW_CALLBACK),
        };
        let raw = Rc::into_raw(Rc::new(inner));
        Ok(EventLoop {
            // SAFETY: `Rc::into_raw` is never null; `Inner`'s alignment keeps the low bit free.
            tagged: unsafe { NonNull::new_unchecked(raw.cast_mut().map_addr(|a| a | OWNER)) },
            _rc: PhantomData,
        })
    }

    /// The `Rc::into_raw` pointer, without the owner bit.
    #[inline(always)]
    fn raw(&self) -> *const Inner {
        self.tagged.as_ptr().map_addr(|a| a & !OWNER)
    }

    #[inline(always)]
    fn inner(&self) -> &Inner {
        // SAFETY: `self` holds a strong count, so the `Inner` is alive while `self` is.
        unsafe { &*self.raw() }
    }

    /// A weak reference, for [`Handle`] and [`TimerHandle`].
    #[inline]
    fn downgrade(&self) -> Weak<Inner> {
        // SAFETY: `raw` is from `Rc::into_raw` and alive; `ManuallyDrop` leaves the strong
        // count held by `self` untouched.
        let rc = ManuallyDrop::new(unsafe { Rc::from_raw(self.raw()) });
        Rc::downgrade(&rc)
    }

    /// The owner is dropped: asyncio's `BaseEventLoop.__del__` (see "Owner and handles").
    fn owner_dropped(&self) {
        if self.is_closed() {
            return;
        }
        let text = format!(
            "unclosed event loop <EventLoop running={} closed=False debug={}>",
            py_bool(self.is_running()),
            py_bool(self.get_debug())
        );
        if log::max_level() != log::LevelFilter::Off {
            log::warn!(target: "tulip", "{text}");
        } else {
            eprintln!("{text}");
        }
        if self.is_running() {
            // `run_forever` closes it on its way out.
            self.inner().orphaned.set(true);
        } else {
            let _ = self.close();
        }
    }

    #[inline]
    fn check_closed(&self) -> anyhow::Result<()> {
        if self.inner().closed.get() {
            Err(closed_error())
        } else {
            Ok(())
        }
    }

    /// Runs iterations until [`EventLoop::stop`] is called. A stop requested before the call
    /// makes exactly one iteration.
    ///
    /// # Errors
    ///
    /// - `RuntimeError("Event loop is closed")` on a closed loop.
    /// - `RuntimeError("This event loop is already running")` from inside its own callbacks.
    /// - `RuntimeError("Cannot run the event loop while another loop is running")` when
    ///   another loop runs on this thread.
    /// - An I/O error of the poll.
    pub fn run_forever(&self) -> anyhow::Result<()> {
        self.check_closed()?;
        if self.is_running() {
            return Err(RuntimeError::new("This event loop is already running").into());
        }
        if RUNNING.with(|r| r.borrow().is_some()) {
            return Err(RuntimeError::new(
                "Cannot run the event loop while another loop is running",
            )
            .into());
        }
        self.inner().running.set(true);
        RUNNING.with(|r| *r.borrow_mut() = Some(self.clone()));
        let _guard = RunGuard(self);
        loop {
            self.run_once()?;
            if self.inner().stopping.get() {
                return Ok(());
            }
        }
    }

    /// One iteration: asyncio's `_run_once`.
    fn run_once(&self) -> anyhow::Result<()> {
        let inner = self.inner();
        inner.iterations.set(inner.iterations.get() + 1);
        if inner.hooked.get() {
            self.run_hook();
        }
        if self.only_ready() {
            // The busy iteration with nothing else to do: steps 1 to 3 would clean no timer,
            // poll nothing (zero timeout, no fd) and move nothing to the queue.
            if inner.debug.get() {
                self.run_ready_debug()?;
            } else {
                ReadyQueue::run_batch(&inner.ready, |p| self.report_panic(p))?;
            }
            return Ok(());
        }
        let timeout = {
            let mut timers = inner.timers.borrow_mut();
            timers.cleanup();
            if !inner.ready.borrow().is_empty()
                || inner.stopping.get()
                || inner.selector.borrow().has_pending()
            {
                Some(Duration::ZERO)
            } else {
                timers
                    .next_timeout(self.time())
                    .map(|t| t.min(MAXIMUM_SELECT_TIMEOUT))
            }
        };
        self.wait_for_io(timeout)?;
        self.take_threadsafe_calls();
        {
            let mut ready = inner.ready.borrow_mut();
            inner.selector.borrow_mut().process(|cb| {
                ready.push(cb);
            });
            let mut timers = inner.timers.borrow_mut();
            // Reading the clock is half the cost of an idle iteration: only when needed.
            if !timers.is_empty() {
                timers.pop_due(self.time(), |cb| ready.push(cb));
            }
        }
        // Run only what is ready now; callbacks scheduled meanwhile wait for the next
        // iteration (and its poll). Debug mode is one flag read per batch, not per callback.
        // (Each call site keeps its own closure, so that `run_batch` has one caller per
        // instance and is inlined, as before debug mode existed.)
        if inner.debug.get() {
            self.run_ready_debug()?;
        } else {
            ReadyQueue::run_batch(&inner.ready, |p| self.report_panic(p))?;
        }
        let mut timers = inner.timers.borrow_mut();
        timers.free_due();
        inner
            .quiet
            .set(timers.is_idle() && inner.selector.borrow().is_idle());
        Ok(())
    }

    /// Calls the iteration hook, taken out meanwhile (it may set another); a panic is
    /// reported and the loop goes on.
    #[cold]
    #[inline(never)]
    fn run_hook(&self) {
        let Some(mut hook) = self.inner().hook.borrow_mut().take() else {
            return;
        };
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| hook(self))) {
            self.report_panic(CallbackPanic {
                name: "iteration hook",
                payload,
                location: None,
                seq: u64::MAX,
            });
        }
        let mut slot = self.inner().hook.borrow_mut();
        if slot.is_none() && self.inner().hooked.get() {
            *slot = Some(hook);
        } else {
            drop(slot);
            drop(hook);
        }
    }

    /// Sets `f` to be called once at the start of every loop iteration, before its poll
    /// (`None` removes it): what overriding `_run_once` gives an asyncio test, for tests
    /// and tracing. Unset, it costs one branch per iteration. A panic in it is reported to
    /// the exception handler and the loop goes on.
    pub fn set_iteration_hook(&self, f: Option<impl FnMut(&EventLoop) + 'static>) {
        let old = {
            let mut slot = self.inner().hook.borrow_mut();
            self.inner().hooked.set(f.is_some());
            std::mem::replace(&mut *slot, f.map(|f| Box::new(f) as IterationHook))
        };
        drop(old);
    }

    /// How many iterations (`_run_once` calls) the loop has run.
    pub fn iteration(&self) -> u64 {
        self.inner().iterations.get()
    }

    /// How many callbacks are queued to run: asyncio's `len(loop._ready)` (cancelled ones
    /// still count until their turn, as in asyncio).
    pub fn ready_len(&self) -> usize {
        self.inner().ready.borrow().len()
    }

    /// Whether callbacks are ready and nothing else is: no timer, no fd of the user's, no
    /// owned source due, no call from another thread.
    #[inline]
    fn only_ready(&self) -> bool {
        let inner = self.inner();
        let only = inner.quiet.get()
            && !inner.ready.borrow().is_empty()
            && !inner.threadsafe.get().is_some_and(|ts| ts.is_pending());
        debug_assert!(
            !only || (inner.timers.borrow().is_idle() && inner.selector.borrow().is_idle()),
            "`quiet` was left set"
        );
        only
    }

    /// Step 3 of an iteration, with the fast paths when no fd of the user's is registered.
    fn wait_for_io(&self, timeout: Option<Duration>) -> anyhow::Result<()> {
        let mut selector = self.inner().selector.borrow_mut();
        let zero = timeout == Some(Duration::ZERO);
        if selector.has_fds() || (selector.has_waker() && !zero) {
            selector.select(timeout)?;
            return Ok(());
        }
        match timeout {
            // Nothing to poll: no syscall (a pending thread-safe call is seen by its flag).
            Some(t) if t.is_zero() => {}
            // Nothing can become ready: sleeping on the clock is the same wait.
            Some(t) => {
                drop(selector);
                std::thread::sleep(t);
            }
            // Nothing scheduled and nothing to wake us: block as asyncio does.
            None => selector.select(None)?,
        }
        Ok(())
    }

    /// Asks the loop to stop: the current iteration finishes, then `run_forever` returns.
    /// Called before `run_forever`, it makes `run_forever` run exactly one iteration.
    pub fn stop(&self) {
        self.inner().stopping.set(true);
    }

    /// Whether `run_forever` is running.
    pub fn is_running(&self) -> bool {
        self.inner().running.get()
    }

    /// Closes the loop: runs the close hooks (each pending task is reported as "Task was
    /// destroyed but it is pending!" and its stack unwound), then drops every queued callback,
    /// timer, reader and writer, and closes the epoll instance and the waker. Idempotent.
    ///
    /// Dropping the owner (the value [`EventLoop::new`] returned) of a loop not closed
    /// reports "unclosed event loop ..." and closes it (see "Owner and handles" on
    /// [`EventLoop`]).
    ///
    /// # Errors
    ///
    /// `RuntimeError("Cannot close a running event loop")` while running.
    pub fn close(&self) -> anyhow::Result<()> {
        if self.is_running() {
            return Err(RuntimeError::new("Cannot close a running event loop").into());
        }
        if self.inner().closed.get() {
            return Ok(());
        }
        loop {
            let hooks = std::mem::take(&mut *self.inner().close_hooks.borrow_mut());
            if hooks.is_empty() {
                break;
            }
            for hook in hooks {
                if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| hook(self))) {
                    self.report_panic(CallbackPanic {
                        name: "close hook",
                        payload,
                        location: None,
                        seq: u64::MAX,
                    });
                }
            }
        }
        self.inner().closed.set(true);
        // Take everything out first, drop it after: drops may run user code, which may call
        // back into the (now closed) loop.
        let ready = self.inner().ready.borrow_mut().take_all();
        let timers = self.inner().timers.borrow_mut().clear();
        let io = self.inner().selector.borrow_mut().close();
        let calls = match self.inner().threadsafe.get() {
            Some(ts) => ts.close(),
            None => Vec::new(),
        };
        drop(ready);
        drop(timers);
        for h in io {
            h.cancel();
        }
        drop(calls);
        Ok(())
    }

    /// Whether [`EventLoop::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner().closed.get()
    }

    /// Per-loop state of a higher layer (e.g. the task registry), made on first use, so the
    /// loop never names the layers above it.
    #[cfg_attr(not(test), allow(dead_code))] // for the futures and tasks layers
    #[inline]
    pub(crate) fn extension<T: Default + 'static>(&self) -> Rc<T> {
        if let Some((id, raw)) = self.inner().extension_last.get()
            && id == TypeId::of::<T>()
        {
            // SAFETY: `raw` is the `Rc<T>` stored under `T`'s id, which the loop keeps until
            // it is dropped (entries are never removed); this makes one more reference.
            unsafe {
                Rc::increment_strong_count(raw as *const T);
                return Rc::from_raw(raw as *const T);
            }
        }
        self.extension_slow()
    }

    #[inline(never)]
    fn extension_slow<T: Default + 'static>(&self) -> Rc<T> {
        let find = || {
            let exts = self.inner().extensions.borrow();
            let (_, ext) = exts.iter().find(|(id, _)| *id == TypeId::of::<T>())?;
            let raw = Rc::into_raw(ext.clone()) as *const T;
            self.inner()
                .extension_last
                .set(Some((TypeId::of::<T>(), raw as *const ())));
            // SAFETY: stored under `TypeId::of::<T>()`, so it is an `Rc<T>` (no dynamic
            // `downcast` check: this runs for every task created).
            Some(unsafe { Rc::from_raw(raw) })
        };
        if let Some(ext) = find() {
            return ext;
        }
        // Made with no borrow held: `T::default()` may itself use the loop.
        let ext = Rc::new(T::default());
        if let Some(ext) = find() {
            return ext;
        }
        self.inner()
            .extensions
            .borrow_mut()
            .push((TypeId::of::<T>(), ext.clone()));
        ext
    }

    /// Runs `f` at the start of [`EventLoop::close`], while the loop can still schedule (tasks
    /// use it to report or unwind what is still pending).
    #[cfg_attr(not(test), allow(dead_code))] // for the tasks layer
    pub(crate) fn add_close_hook(&self, f: impl FnOnce(&EventLoop) + 'static) {
        self.inner().close_hooks.borrow_mut().push(Box::new(f));
    }

    /// Timer heap entries and how many of them are cancelled: asyncio's `len(loop._scheduled)`
    /// and `loop._timer_cancelled_count`, for tests and diagnostics.
    pub fn timer_stats(&self) -> (usize, usize) {
        let timers = self.inner().timers.borrow();
        (timers.scheduled(), timers.cancelled())
    }
}

/// Two handles are equal when they are the same loop (Python's `is`).
impl PartialEq for EventLoop {
    fn eq(&self, other: &Self) -> bool {
        self.raw() == other.raw()
    }
}

impl Eq for EventLoop {}

impl fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "<EventLoop running={} closed={}>",
            py_bool(self.is_running()),
            py_bool(self.is_closed())
        )
    }
}

#[cfg(test)]
mod tests;
