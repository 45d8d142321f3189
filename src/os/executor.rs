//! Threads (layer 9): asyncio's `run_in_executor`, `to_thread`, `shutdown_default_executor`
//! and `run_coroutine_threadsafe`.
//!
//! The rule that makes this safe: **only a [`LoopHandle`] crosses threads**. A loop, its
//! futures and tasks are `Rc` state and stay on the loop's thread. A worker thread runs the
//! user's `Send` closure and hands the outcome back with `call_soon_threadsafe`; the callback
//! that receives it runs on the loop's thread and finds the waiting [`Future`] in a per-loop
//! registry by a plain integer id. The registry is what Python's `wrap_future` chain does with
//! object references; here it keeps `Rc`s from ever being captured by a `Send` closure.
//!
//! The default executor is a small thread pool made on first use per loop, like
//! `ThreadPoolExecutor(thread_name_prefix='asyncio')`: threads named `asyncio_0`,
//! `asyncio_1`, …, at most `min(32, cpus + 4)`, a new one only when no thread is idle.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::errors::{
    CancelledError, InvalidStateError, Panic, RuntimeError, SharedError, TimeoutError,
};
use crate::event_loop::{EventLoop, LoopHandle, get_running_loop};
use crate::futures::Future;
use crate::tasks::{AnyTask, TaskCo};

// ---------------------------------------------------------------------------------------------
// The thread pool
// ---------------------------------------------------------------------------------------------

type Job = Box<dyn FnOnce() + Send>;

struct PoolState {
    queue: VecDeque<Job>,
    /// Workers waiting for a job: a submit wakes one of them instead of spawning.
    idle: usize,
    threads: Vec<JoinHandle<()>>,
    shutdown: bool,
}

/// A bounded pool of worker threads: `concurrent.futures.ThreadPoolExecutor`, reduced to what
/// the loop needs. Jobs catch their own panics, so a worker never dies of one.
struct Pool {
    prefix: &'static str,
    max_workers: usize,
    state: Mutex<PoolState>,
    work: Condvar,
}

impl Pool {
    fn new(prefix: &'static str) -> Arc<Pool> {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Arc::new(Pool {
            prefix,
            max_workers: default_max_workers(cpus),
            state: Mutex::new(PoolState {
                queue: VecDeque::new(),
                idle: 0,
                threads: Vec::new(),
                shutdown: false,
            }),
            work: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // Jobs never run under the lock, so a poisoned lock holds consistent state.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `job`; spawns a worker when none is idle and the bound allows it (Python's
    /// `_adjust_thread_count`).
    fn submit(self: &Arc<Self>, job: Job) -> Result<()> {
        let mut st = self.lock();
        if st.shutdown {
            return Err(RuntimeError::new("cannot schedule new futures after shutdown").into());
        }
        st.queue.push_back(job);
        if st.idle >= st.queue.len() || st.threads.len() >= self.max_workers {
            drop(st);
            self.work.notify_one();
            return Ok(());
        }
        let name = format!("{}_{}", self.prefix, st.threads.len());
        let pool = self.clone();
        let spawned = std::thread::Builder::new()
            .name(name)
            .spawn(move || pool.worker());
        match spawned {
            Ok(handle) => st.threads.push(handle),
            // No thread could be made: the job waits for a worker if there is one at all.
            Err(e) if st.threads.is_empty() => {
                st.queue.pop_back();
                return Err(RuntimeError::new(format!("can't start new thread: {e}")).into());
            }
            Err(_) => self.work.notify_one(),
        }
        Ok(())
    }

    fn worker(&self) {
        loop {
            let job = {
                let mut st = self.lock();
                loop {
                    if let Some(job) = st.queue.pop_front() {
                        break Some(job);
                    }
                    if st.shutdown {
                        break None;
                    }
                    st.idle += 1;
                    st = self.work.wait(st).unwrap_or_else(|e| e.into_inner());
                    st.idle -= 1;
                }
            };
            match job {
                Some(job) => job(),
                None => return,
            }
        }
    }

    /// `executor.shutdown(wait)`: no new jobs; the queued ones still run; then the workers
    /// exit. With `wait`, joins them; without, they are detached and finish on their own (they
    /// own nothing of the loop's, only `LoopHandle`s, which fail once the loop is closed).
    fn shutdown(&self, wait: bool) {
        let threads = {
            let mut st = self.lock();
            st.shutdown = true;
            std::mem::take(&mut st.threads)
        };
        self.work.notify_all();
        if wait {
            for t in threads {
                // A worker cannot panic (jobs catch their panics); nothing to report.
                let _ = t.join();
            }
        }
    }

    fn thread_count(&self) -> usize {
        self.lock().threads.len()
    }
}

/// `ThreadPoolExecutor`'s default bound: `min(32, cpus + 4)`.
fn default_max_workers(cpus: usize) -> usize {
    (cpus + 4).min(32)
}

// ---------------------------------------------------------------------------------------------
// Per-loop state
// ---------------------------------------------------------------------------------------------

/// The loop-side ends of work running in other threads, by id: futures waiting for a
/// worker's result, tasks a `ConcurrentFuture` may cancel. Ids are what `Send` closures carry.
#[derive(Default)]
struct Registry {
    next: Cell<u64>,
    items: RefCell<HashMap<u64, Box<dyn Any>>>,
}

impl Registry {
    fn insert(&self, item: Box<dyn Any>) -> u64 {
        let id = self.next.get();
        self.next.set(id + 1);
        self.items.borrow_mut().insert(id, item);
        id
    }

    fn remove(&self, id: u64) -> Option<Box<dyn Any>> {
        // Edition 2024 drops the borrow before returning: the item is dropped by the caller,
        // outside it (its destructor may reach the registry again).
        self.items.borrow_mut().remove(&id)
    }
}

/// The default executor of one loop, and the registry.
#[derive(Default)]
struct Executors {
    pool: RefCell<Option<Arc<Pool>>>,
    /// `_executor_shutdown_called`.
    shutdown_called: Cell<bool>,
    registry: Registry,
    hooked: Cell<bool>,
}

impl Executors {
    fn for_loop(lp: &EventLoop) -> Rc<Executors> {
        let ex = lp.extension::<Executors>();
        if !ex.hooked.replace(true) {
            lp.add_close_hook(|lp| {
                // asyncio's close(): `_executor_shutdown_called = True` and
                // `executor.shutdown(wait=False)`: running jobs finish in their threads, and
                // their results are dropped there (the loop refuses them).
                let ex = lp.extension::<Executors>();
                ex.shutdown_called.set(true);
                let pool = ex.pool.borrow_mut().take();
                if let Some(pool) = pool {
                    pool.shutdown(false);
                }
                // The registry's futures hold the loop (a cycle). They are dropped in a second
                // round of hooks, after the tasks layer has unwound the tasks waiting on them.
                lp.add_close_hook(|lp| {
                    let ex = lp.extension::<Executors>();
                    let items = std::mem::take(&mut *ex.registry.items.borrow_mut());
                    drop(items);
                });
            });
        }
        ex
    }

    /// `_check_default_executor`, then the pool (made on first use).
    fn pool(&self) -> Result<Arc<Pool>> {
        if self.shutdown_called.get() {
            return Err(RuntimeError::new("Executor shutdown has been called").into());
        }
        let mut pool = self.pool.borrow_mut();
        Ok(pool.get_or_insert_with(|| Pool::new("asyncio")).clone())
    }
}

/// Runs on the loop's thread (a `call_soon_threadsafe` callback): hands a worker's outcome to
/// the future registered under `id`. A future that is gone or already done (cancelled)
/// ignores it, as asyncio's `_set_state` does.
fn deliver<R: 'static, T: 'static>(id: u64, outcome: Result<R, Panic>, map: fn(R) -> T) {
    let Ok(lp) = get_running_loop() else {
        return;
    };
    let Some(item) = Executors::for_loop(&lp).registry.remove(id) else {
        return;
    };
    let Ok(fut) = item.downcast::<Future<T>>() else {
        return;
    };
    if fut.done() {
        return;
    }
    let _ = match outcome {
        Ok(v) => fut.set_result(map(v)),
        Err(p) => fut.set_exception(p.into()),
    };
}

/// The common part of `run_in_executor` and `to_thread`: `f` runs in the pool; its value
/// becomes the future's result through `map`, applied on the loop's thread.
fn submit<R, T>(
    lp: &EventLoop,
    f: impl FnOnce() -> R + Send + 'static,
    map: fn(R) -> T,
) -> Result<Future<T>>
where
    R: Send + 'static,
    T: 'static,
{
    if lp.is_closed() {
        return Err(RuntimeError::new("Event loop is closed").into());
    }
    let ex = Executors::for_loop(lp);
    let pool = ex.pool()?;
    let handle = lp.threadsafe_handle()?;
    let fut = lp.create_future::<T>();
    let id = ex.registry.insert(Box::new(fut.clone()));
    // wrap_future's chain: cancelling the asyncio future cancels the job if it has not
    // started yet (concurrent futures cannot stop a running job).
    let cancelled = Arc::new(AtomicBool::new(false));
    let flag = cancelled.clone();
    fut.add_done_callback(move |f| {
        if f.cancelled() {
            flag.store(true, Ordering::Release);
        }
        let _ = get_running_loop().map(|lp| Executors::for_loop(&lp).registry.remove(id));
    });
    let job: Job = Box::new(move || {
        if cancelled.load(Ordering::Acquire) {
            return;
        }
        let outcome = panic::catch_unwind(AssertUnwindSafe(f))
            .map_err(|payload| Panic::from_payload(&*payload));
        // Refused once the loop is closed: the outcome is dropped here, and it is `Send`.
        let _ = handle.call_soon_threadsafe(move || deliver(id, outcome, map));
    });
    if let Err(e) = pool.submit(job) {
        drop(ex.registry.remove(id));
        return Err(e);
    }
    Ok(fut)
}

fn identity<T>(v: T) -> T {
    v
}

impl EventLoop {
    /// `loop.run_in_executor(None, f)`: runs `f` in the loop's default thread pool and returns
    /// a future of its value. A panic in `f` becomes the future's exception ([`Panic`]).
    /// Cancelling the future before a worker picks `f` up means `f` never runs; after that,
    /// `f` runs to the end and its value is dropped.
    ///
    /// # Errors
    ///
    /// As asyncio: `RuntimeError("Event loop is closed")` on a closed loop,
    /// `RuntimeError("Executor shutdown has been called")` after
    /// [`EventLoop::shutdown_default_executor`].
    pub fn run_in_executor<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<Future<T>> {
        submit(self, f, identity)
    }

    /// `await loop.shutdown_default_executor()`: refuses further `run_in_executor` calls, then
    /// waits (in a helper thread, so the loop keeps running) until the queued and running
    /// jobs are done and the pool's threads have exited.
    pub fn shutdown_default_executor(&self, co: &TaskCo) -> Result<()> {
        let ex = Executors::for_loop(self);
        ex.shutdown_called.set(true);
        let Some(pool) = ex.pool.borrow_mut().take() else {
            return Ok(());
        };
        let fut = self.create_future::<()>();
        let id = ex.registry.insert(Box::new(fut.clone()));
        let handle = self.threadsafe_handle()?;
        let joiner = std::thread::Builder::new()
            .name("asyncio_shutdown".into())
            .spawn(move || {
                pool.shutdown(true);
                let _ = handle.call_soon_threadsafe(move || deliver(id, Ok(()), identity));
            })?;
        let waited = co.wait(&fut);
        // As asyncio's `finally: thread.join()`: the joiner has finished or is about to.
        if waited.is_ok() {
            let _ = joiner.join();
        }
        waited
    }

    /// How many threads the default executor has started (0 before first use and after
    /// shutdown or close): for tests and diagnostics.
    pub fn default_executor_threads(&self) -> usize {
        let ex = self.extension::<Executors>();
        let pool = ex.pool.borrow();
        pool.as_ref().map_or(0, |p| p.thread_count())
    }
}

/// `await asyncio.to_thread(f)`: runs `f` in the running loop's default executor while the
/// loop goes on, and returns its value (or its panic as [`Panic`]). The value needs no
/// `Clone`: it is moved out once.
///
/// # Examples
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use std::sync::{Arc, Barrier};
/// use std::time::Duration;
///
/// use tulip::{get_running_loop, sleep, to_thread};
///
/// let total = tulip::run(|co| {
///     let go = Arc::new(Barrier::new(2));
///     let release = go.clone();
///     let ticker = get_running_loop()?.create_task(move |co| {
///         for _ in 0..3 {
///             sleep(co, Duration::ZERO)?; // the loop keeps running...
///         }
///         release.wait(); // ...while the worker blocks; now let it go on
///         Ok(3)
///     })?;
///     // asyncio: total = await asyncio.to_thread(blocking_sum)
///     let total = to_thread(co, move || {
///         go.wait(); // blocks this worker thread, not the loop
///         (1..=100u64).sum::<u64>()
///     })?;
///     assert_eq!(co.wait(&ticker)?, 3);
///     Ok(total)
/// })?;
/// assert_eq!(total, 5050);
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// - A panic in `f`, as [`Panic`].
/// - `CancelledError` when the waiting task is cancelled (`f`, once started, still runs to
///   its end).
/// - `RuntimeError("no running event loop")`, `RuntimeError("Executor shutdown has been
///   called")`, or `RuntimeError("can't start new thread: ...")`.
pub fn to_thread<T: Send + 'static>(
    co: &TaskCo,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    let lp = get_running_loop()?;
    // asyncio's to_thread runs `f` in a copy of the caller's context.
    let fut = if crate::contextvars::in_use() {
        let vars = crate::contextvars::capture();
        submit(
            &lp,
            move || crate::contextvars::run_in(vars, f),
            |v| Rc::new(Cell::new(Some(v))),
        )?
    } else {
        submit(&lp, f, |v| Rc::new(Cell::new(Some(v))))?
    };
    let slot = co.wait(&fut)?;
    slot.take()
        .ok_or_else(|| InvalidStateError::new("to_thread result already taken").into())
}

// ---------------------------------------------------------------------------------------------
// run_coroutine_threadsafe
// ---------------------------------------------------------------------------------------------

enum CfState<T> {
    Pending,
    Finished(T),
    Failed(SharedError),
    Cancelled,
}

struct CfInner<T> {
    state: Mutex<CfState<T>>,
    done: Condvar,
}

/// A `concurrent.futures.Future`: `Send + Sync`, waited for by blocking a thread. What
/// [`run_coroutine_threadsafe`] returns. Clones share one future.
pub struct ConcurrentFuture<T> {
    inner: Arc<CfInner<T>>,
    /// Where to send the cancellation of the task (`None` for a plain future).
    link: Option<(LoopHandle, u64)>,
}

impl<T> Clone for ConcurrentFuture<T> {
    fn clone(&self) -> Self {
        ConcurrentFuture {
            inner: self.inner.clone(),
            link: self.link.clone(),
        }
    }
}

impl<T: Send + 'static> fmt::Debug for ConcurrentFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &*self.lock() {
            CfState::Pending => "pending",
            CfState::Finished(_) => "finished",
            CfState::Failed(_) => "finished raised",
            CfState::Cancelled => "cancelled",
        };
        write!(f, "<Future state={state}>")
    }
}

impl<T: Send + 'static> Default for ConcurrentFuture<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Send + 'static> ConcurrentFuture<T> {
    /// A pending future, completed with [`ConcurrentFuture::set_result`] or
    /// [`ConcurrentFuture::set_exception`] from any thread.
    pub fn new() -> Self {
        ConcurrentFuture {
            inner: Arc::new(CfInner {
                state: Mutex::new(CfState::Pending),
                done: Condvar::new(),
            }),
            link: None,
        }
    }

    fn lock(&self) -> MutexGuard<'_, CfState<T>> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves a pending future to `state`; false if it was already done.
    fn complete(&self, state: CfState<T>) -> bool {
        let mut st = self.lock();
        if !matches!(*st, CfState::Pending) {
            return false;
        }
        *st = state;
        drop(st);
        self.inner.done.notify_all();
        true
    }

    /// `set_result(v)`; `InvalidStateError` if already done.
    pub fn set_result(&self, value: T) -> Result<()> {
        if self.complete(CfState::Finished(value)) {
            Ok(())
        } else {
            Err(InvalidStateError::new("invalid state").into())
        }
    }

    /// `set_exception(e)`; `InvalidStateError` if already done.
    pub fn set_exception(&self, err: anyhow::Error) -> Result<()> {
        // One error for every reader; an error already shared is not wrapped again.
        let shared = match err.downcast::<SharedError>() {
            Ok(shared) => shared,
            Err(err) => SharedError::new(err),
        };
        if self.complete(CfState::Failed(shared)) {
            Ok(())
        } else {
            Err(InvalidStateError::new("invalid state").into())
        }
    }

    /// `cancel()`: cancels a pending future (and, for [`run_coroutine_threadsafe`], the task,
    /// on its loop's thread); false once done.
    pub fn cancel(&self) -> bool {
        if !self.complete(CfState::Cancelled) {
            return false;
        }
        if let Some((handle, id)) = &self.link {
            let id = *id;
            let _ = handle.call_soon_threadsafe(move || cancel_linked_task(id));
        }
        true
    }

    /// Whether the future has a result, an exception, or was cancelled.
    pub fn done(&self) -> bool {
        !matches!(*self.lock(), CfState::Pending)
    }

    /// Whether the future was cancelled.
    pub fn cancelled(&self) -> bool {
        matches!(*self.lock(), CfState::Cancelled)
    }

    /// Blocks until done or until `timeout` passes (`None`: no limit).
    fn wait_done(&self, timeout: Option<Duration>) -> Result<MutexGuard<'_, CfState<T>>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut st = self.lock();
        while matches!(*st, CfState::Pending) {
            match deadline {
                None => st = self.inner.done.wait(st).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Err(TimeoutError.into());
                    }
                    st = self
                        .inner
                        .done
                        .wait_timeout(st, d - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
        Ok(st)
    }

    /// `result(timeout)`: blocks the calling thread until done; the value, the exception,
    /// `CancelledError`, or `TimeoutError` when `timeout` passes first. Never call it on the
    /// loop's own thread for a coroutine of that loop: the loop could not run it (deadlock,
    /// as in Python).
    pub fn result(&self, timeout: Option<Duration>) -> Result<T>
    where
        T: Clone,
    {
        let st = self.wait_done(timeout)?;
        match &*st {
            CfState::Finished(v) => Ok(v.clone()),
            CfState::Failed(e) => Err(e.to_error()),
            CfState::Cancelled => Err(CancelledError::default().into()),
            CfState::Pending => unreachable!("wait_done returns a done state"),
        }
    }

    /// `exception(timeout)`: `None` for a result, the exception, `CancelledError`, or
    /// `TimeoutError`.
    pub fn exception(&self, timeout: Option<Duration>) -> Result<Option<anyhow::Error>> {
        let st = self.wait_done(timeout)?;
        match &*st {
            CfState::Finished(_) => Ok(None),
            CfState::Failed(e) => Ok(Some(e.to_error())),
            CfState::Cancelled => Err(CancelledError::default().into()),
            CfState::Pending => unreachable!("wait_done returns a done state"),
        }
    }
}

/// Completes `cf` with "Event loop is closed" when dropped before `disarm`: a queued callback
/// or a task that the loop drops at close must not leave a thread blocked forever.
struct CloseGuard<T: Send + 'static> {
    cf: Option<ConcurrentFuture<T>>,
}

impl<T: Send + 'static> Drop for CloseGuard<T> {
    fn drop(&mut self) {
        if let Some(cf) = self.cf.take() {
            let _ = cf.set_exception(RuntimeError::new("Event loop is closed").into());
        }
    }
}

fn cancel_linked_task(id: u64) {
    let Ok(lp) = get_running_loop() else {
        return;
    };
    let item = Executors::for_loop(&lp).registry.remove(id);
    if let Some(task) = item.and_then(|i| i.downcast::<AnyTask>().ok()) {
        task.cancel(None);
    }
}

/// `asyncio.run_coroutine_threadsafe(coro, loop)`, from any thread: `body` becomes a task on
/// the loop's thread (it must be `Send` to get there; what it makes once running need not
/// be), and the returned [`ConcurrentFuture`] gets the task's outcome. Cancelling the
/// concurrent future cancels the task. If the loop closes first, the future fails with
/// `RuntimeError("Event loop is closed")` rather than leaving its waiter blocked.
pub fn run_coroutine_threadsafe<T, F>(handle: &LoopHandle, body: F) -> Result<ConcurrentFuture<T>>
where
    T: Send + Clone + 'static,
    F: FnOnce(&TaskCo) -> Result<T> + Send + 'static,
{
    let mut cf = ConcurrentFuture::new();
    // The id of the task in the loop's registry is chosen on the loop's thread; the link
    // needs it now, so reserve one from a process-wide counter instead.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1 << 62);
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    cf.link = Some((handle.clone(), id));
    let mut guard = CloseGuard {
        cf: Some(cf.clone()),
    };
    handle.call_soon_threadsafe(move || {
        let cf = guard.cf.take().expect("guard armed");
        let lp = match get_running_loop() {
            Ok(lp) => lp,
            Err(e) => {
                let _ = cf.set_exception(e);
                return;
            }
        };
        let task = match lp.create_task(body) {
            Ok(task) => task,
            Err(e) => {
                let _ = cf.set_exception(e);
                return;
            }
        };
        let ex = Executors::for_loop(&lp);
        ex.registry
            .items
            .borrow_mut()
            .insert(id, Box::new(task.as_any()));
        let mut done_guard = CloseGuard {
            cf: Some(cf.clone()),
        };
        task.add_done_callback(move |fut| {
            let cf = done_guard.cf.take().expect("guard armed");
            let _ = get_running_loop().map(|lp| Executors::for_loop(&lp).registry.remove(id));
            if fut.cancelled() {
                cf.complete(CfState::Cancelled);
                return;
            }
            let _ = match fut.exception() {
                Ok(Some(e)) => cf.set_exception(e),
                _ => match fut.result() {
                    Ok(v) => cf.set_result(v),
                    Err(e) => cf.set_exception(e),
                },
            };
        });
        // Cancelled from its thread before the task existed: Python's chain cancels the new
        // task at once, so its body never runs.
        if cf.cancelled() {
            task.cancel(None);
        }
    })?;
    Ok(cf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_is_pythons() {
        assert_eq!(default_max_workers(1), 5);
        assert_eq!(default_max_workers(2), 6);
        assert_eq!(default_max_workers(64), 32);
    }

    #[test]
    fn pool_reuses_an_idle_thread() {
        let pool = Pool::new("t");
        let (tx, rx) = std::sync::mpsc::channel();
        for _ in 0..3 {
            let tx = tx.clone();
            pool.submit(Box::new(move || {
                tx.send(std::thread::current().name().unwrap().to_string())
                    .unwrap()
            }))
            .unwrap();
            // Wait for the job, so the worker is idle again before the next submit.
            rx.recv().unwrap();
            while pool.lock().idle == 0 {
                std::thread::yield_now();
            }
        }
        assert_eq!(pool.thread_count(), 1);
        pool.shutdown(true);
        assert!(pool.submit(Box::new(|| ())).is_err());
    }
}
