//! Calls from other threads: [`LoopHandle`] and the loop's thread-safe queue, which wakes
//! the loop through the selector's waker.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{EventLoop, get_running_loop};
use crate::callbacks::{Callable, Callback};
use crate::errors::RuntimeError;
use crate::selector::Waker;

/// A callback from another thread.
trait SendCallable: Send {
    fn name(&self) -> &'static str;
    fn call(self: Box<Self>);
}

impl<F: FnOnce() + Send + 'static> SendCallable for F {
    fn name(&self) -> &'static str {
        std::any::type_name::<F>()
    }
    fn call(self: Box<Self>) {
        (*self)()
    }
}

/// A queued callback from another thread (one box; two words, stored inline in the queue).
pub(super) struct ThreadsafeCall(Box<dyn SendCallable>);

impl Callable for ThreadsafeCall {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn call(self) {
        self.0.call()
    }
}

/// The part of the loop other threads can reach.
pub(super) struct Threadsafe {
    /// Set when `calls` may be non-empty: the loop looks at it before taking the lock.
    pending: AtomicBool,
    calls: Mutex<ThreadsafeCalls>,
}

struct ThreadsafeCalls {
    closed: bool,
    calls: Vec<ThreadsafeCall>,
    /// `None` once closed: a `LoopHandle` that outlives its loop keeps no eventfd open.
    waker: Option<Arc<Waker>>,
}

impl Threadsafe {
    fn lock(&self) -> MutexGuard<'_, ThreadsafeCalls> {
        // No user code runs under the lock, so poisoning carries no meaning here.
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether calls may be queued (read before taking the lock).
    #[inline]
    pub(super) fn is_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Refuses further calls ("Event loop is closed") and hands back the queued ones, to be
    /// dropped by the caller outside the lock; lets the waker go.
    pub(super) fn close(&self) -> Vec<ThreadsafeCall> {
        let (calls, waker) = {
            let mut q = self.lock();
            q.closed = true;
            (std::mem::take(&mut q.calls), q.waker.take())
        };
        drop(waker);
        calls
    }

    fn push(&self, call: ThreadsafeCall) -> anyhow::Result<()> {
        let waker = {
            let mut q = self.lock();
            if q.closed {
                return Err(RuntimeError::new("Event loop is closed").into());
            }
            q.calls.push(call);
            // Only the call that raises the flag wakes the loop; the loop clears the flag
            // before it takes the queue, so no call is left behind.
            if self.pending.swap(true, Ordering::AcqRel) {
                return Ok(());
            }
            q.waker.clone()
        };
        // Woken outside the lock; the clone keeps the eventfd open should the loop close.
        if let Some(w) = waker {
            w.wake()?;
        }
        Ok(())
    }
}

/// A `Send + Sync` handle to a loop, for other threads: asyncio's `call_soon_threadsafe`.
#[derive(Clone)]
pub struct LoopHandle {
    shared: Arc<Threadsafe>,
}

impl LoopHandle {
    /// Schedules `f` on the loop's thread and wakes the loop if it is waiting in poll.
    /// `RuntimeError("Event loop is closed")` once the loop is closed.
    pub fn call_soon_threadsafe(&self, f: impl FnOnce() + Send + 'static) -> anyhow::Result<()> {
        self.shared.push(ThreadsafeCall(Box::new(f)))
    }

    /// Stops the loop from another thread: `call_soon_threadsafe(loop.stop)`.
    pub fn stop(&self) -> anyhow::Result<()> {
        self.call_soon_threadsafe(|| {
            if let Ok(lp) = get_running_loop() {
                lp.stop();
            }
        })
    }
}

impl fmt::Debug for LoopHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<LoopHandle>")
    }
}

impl EventLoop {
    pub(super) fn threadsafe(&self) -> anyhow::Result<&Arc<Threadsafe>> {
        self.check_closed()?;
        if let Some(ts) = self.inner().threadsafe.get() {
            return Ok(ts);
        }
        let waker = self.inner().selector.borrow_mut().waker()?;
        Ok(self.inner().threadsafe.get_or_init(|| {
            Arc::new(Threadsafe {
                pending: AtomicBool::new(false),
                calls: Mutex::new(ThreadsafeCalls {
                    closed: false,
                    calls: Vec::new(),
                    waker: Some(waker),
                }),
            })
        }))
    }

    /// `call_soon` for a `Send` callback. Called on the loop's own thread (an `EventLoop`
    /// never leaves it), it queues `f` like `call_soon`, FIFO with it; other threads use
    /// [`EventLoop::threadsafe_handle`].
    pub fn call_soon_threadsafe(&self, f: impl FnOnce() + Send + 'static) -> anyhow::Result<()> {
        self.schedule(f)
    }

    /// A `Send + Sync` handle through which other threads schedule callbacks on this loop and
    /// wake it. The first call registers the loop's waker (an eventfd): from then on, every
    /// iteration that may block polls.
    pub fn threadsafe_handle(&self) -> anyhow::Result<LoopHandle> {
        Ok(LoopHandle {
            shared: self.threadsafe()?.clone(),
        })
    }

    /// Queues the calls made from other threads since the last iteration.
    #[inline]
    pub(super) fn take_threadsafe_calls(&self) {
        if let Some(ts) = self.inner().threadsafe.get()
            && ts.is_pending()
        {
            self.take_threadsafe_calls_now(ts);
        }
    }

    #[cold]
    fn take_threadsafe_calls_now(&self, ts: &Threadsafe) {
        if !ts.pending.swap(false, Ordering::AcqRel) {
            return;
        }
        let mut batch = self.inner().threadsafe_spare.borrow_mut();
        std::mem::swap(&mut *batch, &mut ts.lock().calls);
        let mut ready = self.inner().ready.borrow_mut();
        for call in batch.drain(..) {
            ready.push(Callback::from_callable(call));
        }
    }
}
