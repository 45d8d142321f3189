//! std futures, both ways (layer 8): a task awaits any [`std::future::Future`] with
//! [`TaskCo::wait_std`], and `async` code polled that way awaits tulip's [`Future`]s and
//! [`Task`]s with `.await` (they implement [`IntoFuture`], yielding `anyhow::Result<T>`).
//!
//! # Cost model
//!
//! `wait_std` polls the future on the task's own stack. While it is pending, the task waits
//! on a tulip future that the future's [`Waker`] resolves. The waker knows the loop's thread:
//! woken there (a tulip future's done callback, a channel fed by another task), it resolves
//! that tulip future directly, with no syscall and no lock (an atomic flag, then `call_soon`);
//! woken from another thread, it goes through the loop's thread-safe queue
//! ([`LoopHandle::call_soon_threadsafe`]), which takes a lock and writes the loop's eventfd,
//! once per wait however many times it is woken. Each pending round costs one tulip future;
//! one `wait_std` call costs one `Arc`. Waking a wait that ended does nothing. The loop's
//! first `wait_std` sets its thread-safe queue up (an eventfd the loop then polls), as
//! [`EventLoop::threadsafe_handle`] does.
//!
//! # Using a tokio-only library
//!
//! A library that needs a tokio runtime (its timers, its reactor) runs on a runtime of its
//! own on another thread; the tulip task hands it work with `Handle::spawn` and awaits the
//! `JoinHandle` through `wait_std`; the tokio thread wakes the task through the loop's
//! thread-safe queue.
//!
//! ```
//! use std::time::Duration;
//!
//! tulip::run(|co| {
//!     let rt = tokio::runtime::Builder::new_current_thread().build()?;
//!     let handle = rt.handle().clone();
//!     let (stop, stopped) = futures::channel::oneshot::channel::<()>();
//!     let thread = std::thread::spawn(move || rt.block_on(stopped));
//!     // The tokio-only call runs on the runtime's thread; its result comes back here.
//!     let job = handle.spawn(async {
//!         tokio::task::spawn_blocking(|| {
//!             std::thread::sleep(Duration::from_millis(10));
//!             6 * 7
//!         })
//!         .await
//!     });
//!     let answer = co.wait_std(job)??.unwrap();
//!     assert_eq!(answer, 42);
//!     let _ = stop.send(());
//!     thread.join().unwrap().unwrap();
//!     Ok(())
//! })
//! .unwrap();
//! ```

use std::cell::{Cell, UnsafeCell};
use std::future::IntoFuture;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, Wake as StdWake, Waker};

use anyhow::Result;

#[cfg(doc)]
use crate::event_loop::EventLoop;
use crate::event_loop::{LoopHandle, get_running_loop};
use crate::futures::{CallbackId, Future};
use crate::tasks::{Task, TaskCo};

thread_local! {
    /// This thread's number, 0 until first asked.
    static THREAD_NUMBER: Cell<u64> = const { Cell::new(0) };
}

/// A process-unique number per thread (std's `ThreadId` costs an `Arc` clone to read).
fn thread_number() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    THREAD_NUMBER.with(|n| match n.get() {
        0 => {
            let id = NEXT.fetch_add(1, Ordering::Relaxed);
            n.set(id);
            id
        }
        id => id,
    })
}

/// The waker of one `wait_std` call.
struct WaitWaker {
    /// The loop thread's number.
    owner: u64,
    /// Set by a wake; cleared by the task before each poll. While set, further wakes do
    /// nothing: a poll is already due. Left set once the wait ends.
    woken: AtomicBool,
    /// The tulip future the task waits on while the std future is pending. Only touched on
    /// the `owner` thread; emptied there before the wait ends.
    slot: UnsafeCell<Option<Future<()>>>,
    /// The way in from other threads.
    handle: LoopHandle,
}

// SAFETY: `slot`, the one field that is neither `Send` nor `Sync`, is only read or written on
// the `owner` thread (every access checks it or runs in a callback of that thread's loop), and
// it is emptied there before `wait_std` returns, so it is never dropped elsewhere (`Drop`
// checks again).
unsafe impl Send for WaitWaker {}
// SAFETY: as above: other threads touch only the atomic flag and the `Sync` handle.
unsafe impl Sync for WaitWaker {}

impl WaitWaker {
    /// Resolves the awaited tulip future, if any. On the owner thread only.
    fn resolve(&self) {
        debug_assert_eq!(thread_number(), self.owner);
        // SAFETY: on the owner thread, and no other reference into the slot is alive (they
        // are all as short as this one).
        let fut = unsafe { (*self.slot.get()).take() };
        if let Some(f) = fut
            && !f.done()
        {
            let _ = f.set_result(());
        }
    }

    /// Puts `fut` in the slot (or empties it). On the owner thread only.
    fn set_slot(&self, fut: Option<Future<()>>) {
        debug_assert_eq!(thread_number(), self.owner);
        // SAFETY: as in `resolve`. The old future is dropped after the write, outside it.
        let old = unsafe { std::mem::replace(&mut *self.slot.get(), fut) };
        drop(old);
    }
}

impl StdWake for WaitWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.woken.swap(true, Ordering::AcqRel) {
            // A wake-up is already due, or the wait is over.
            return;
        }
        if thread_number() == self.owner {
            self.resolve();
        } else {
            let me = self.clone();
            // A closed loop refuses it: its tasks were unwound, nothing waits any more.
            let _ = self.handle.call_soon_threadsafe(move || me.resolve());
        }
    }
}

impl Drop for WaitWaker {
    fn drop(&mut self) {
        // Emptied before the wait ends (see `slot`); should a future be left here on another
        // thread, leaking it beats dropping a loop-bound `Rc` there.
        if let Some(f) = self.slot.get_mut().take()
            && thread_number() != self.owner
        {
            std::mem::forget(f);
        }
    }
}

/// Ends a wait however it ends: the slot emptied, later wakes ignored.
struct WaitEnd<'a>(&'a WaitWaker);

impl Drop for WaitEnd<'_> {
    fn drop(&mut self) {
        self.0.woken.store(true, Ordering::Release);
        self.0.set_slot(None);
    }
}

impl TaskCo {
    /// `await fut` for any [`std::future::Future`] (or [`IntoFuture`]): polls it on the task's
    /// stack and suspends the task while it is pending; returns its output. If the task is
    /// cancelled meanwhile, the future is dropped and the `CancelledError` returned (as any
    /// wait's).
    ///
    /// The future need not be `Send`: it stays on the loop's thread. Its [`Waker`] may be
    /// woken from any thread: on the loop's thread a wake costs no syscall and no lock;
    /// from another it goes through the loop's thread-safe queue (once per wait). Waking a
    /// wait that ended does nothing. Inside, tulip's futures and tasks can be `.await`ed
    /// (they implement [`IntoFuture`]), as can the futures, channels and combinators of the
    /// `futures` ecosystem. A future that wakes itself while being polled gets one loop
    /// iteration before its next poll, so it cannot starve the loop. Must be called from a
    /// task of the running loop.
    ///
    /// A tokio-only library runs on a tokio runtime of its own thread: spawn its work there
    /// with `Handle::spawn` and `wait_std` the `JoinHandle`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// tulip::run(|co| {
    ///     let lp = tulip::get_running_loop()?;
    ///     // A tulip future resolved later, and a channel fed by another thread.
    ///     let fut = lp.create_future::<u32>();
    ///     let f = fut.clone();
    ///     lp.call_later(Duration::from_millis(5), move || {
    ///         let _ = f.set_result(40);
    ///     })?;
    ///     let (tx, rx) = futures::channel::oneshot::channel::<u32>();
    ///     std::thread::spawn(move || tx.send(2));
    ///     let sum = co.wait_std(async move {
    ///         let a = fut.await?;
    ///         let b = rx.await?;
    ///         anyhow::Ok(a + b)
    ///     })??;
    ///     assert_eq!(sum, 42);
    ///     Ok(())
    /// })
    /// .unwrap();
    /// ```
    pub fn wait_std<F: IntoFuture>(&self, fut: F) -> Result<F::Output> {
        let lp = get_running_loop()?;
        let state = Arc::new(WaitWaker {
            owner: thread_number(),
            woken: AtomicBool::new(false),
            slot: UnsafeCell::new(None),
            handle: lp.threadsafe_handle()?,
        });
        let waker = Waker::from(state.clone());
        let mut cx = Context::from_waker(&waker);
        // Declared after it, dropped before it: the future's drop may wake, to no effect.
        let mut fut = pin!(fut.into_future());
        let _end = WaitEnd(&state);
        loop {
            // Acquire: whatever a wake published before its swap is seen by this poll.
            state.woken.swap(false, Ordering::AcqRel);
            if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                return Ok(v);
            }
            if state.woken.load(Ordering::Acquire) {
                // Woken during the poll (a wake-up is never lost): poll again after one
                // iteration. A stale cross-thread wake may still resolve a later slot: a
                // spurious wake-up, which only costs a poll.
                self.yield_now()?;
                continue;
            }
            // A wake from now on finds the slot filled (another thread's wake runs on this
            // thread, after this task suspends).
            let wake = lp.create_future::<()>();
            state.set_slot(Some(wake.clone()));
            let r = self.wait(&wake);
            state.set_slot(None);
            r?;
        }
    }
}

/// The [`IntoFuture`] of a tulip [`Future`] or [`Task`]: `fut.await` in `async` code (run
/// by [`TaskCo::wait_std`]) is `await fut`, giving its result, its error or `CancelledError`.
/// Dropping it (a `select!` that went the other way) removes its done callback and cancels
/// nothing, as in asyncio.
pub struct FutureAwait<T: 'static> {
    fut: Future<T>,
    /// The last poll's waker, taken by the done callback.
    waker: Rc<Cell<Option<Waker>>>,
    cb: Option<CallbackId>,
}

impl<T> std::fmt::Debug for FutureAwait<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FutureAwait")
            .field("fut", &self.fut)
            .finish_non_exhaustive()
    }
}

impl<T: 'static> FutureAwait<T> {
    fn new(fut: Future<T>) -> Self {
        FutureAwait {
            fut,
            waker: Rc::new(Cell::new(None)),
            cb: None,
        }
    }
}

impl<T: Clone + 'static> std::future::Future for FutureAwait<T> {
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = self.get_mut();
        if this.fut.done() {
            // Its callback ran, or is due and finds no waker.
            this.cb = None;
            this.waker.set(None);
            return Poll::Ready(this.fut.result());
        }
        let waker = match this.waker.take() {
            Some(w) if w.will_wake(cx.waker()) => w,
            _ => cx.waker().clone(),
        };
        this.waker.set(Some(waker));
        if this.cb.is_none() {
            let slot = this.waker.clone();
            this.cb = Some(this.fut.add_done_callback(move |_| {
                if let Some(w) = slot.take() {
                    w.wake();
                }
            }));
        }
        Poll::Pending
    }
}

impl<T: 'static> Drop for FutureAwait<T> {
    fn drop(&mut self) {
        if let Some(id) = self.cb.take() {
            self.fut.remove_done_callback(id);
        }
    }
}

impl<T: Clone + 'static> IntoFuture for Future<T> {
    type Output = Result<T>;
    type IntoFuture = FutureAwait<T>;
    fn into_future(self) -> FutureAwait<T> {
        FutureAwait::new(self)
    }
}

impl<T: Clone + 'static> IntoFuture for &Future<T> {
    type Output = Result<T>;
    type IntoFuture = FutureAwait<T>;
    fn into_future(self) -> FutureAwait<T> {
        FutureAwait::new(self.clone())
    }
}

impl<T: Clone + 'static> IntoFuture for Task<T> {
    type Output = Result<T>;
    type IntoFuture = FutureAwait<T>;
    fn into_future(self) -> FutureAwait<T> {
        FutureAwait::new(self.future().clone())
    }
}

impl<T: Clone + 'static> IntoFuture for &Task<T> {
    type Output = Result<T>;
    type IntoFuture = FutureAwait<T>;
    fn into_future(self) -> FutureAwait<T> {
        FutureAwait::new(self.future().clone())
    }
}
