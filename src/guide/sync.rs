//! Locks, events and queues: asyncio's synchronization primitives.
//!
//! [`Lock`](crate::Lock), [`Event`](crate::Event), [`Condition`](crate::Condition),
//! [`Semaphore`](crate::Semaphore), [`BoundedSemaphore`](crate::BoundedSemaphore),
//! [`Barrier`](crate::Barrier) and the queues ([`Queue`](crate::Queue),
//! [`LifoQueue`](crate::LifoQueue), [`PriorityQueue`](crate::PriorityQueue)) are CPython 3.11's
//! `locks.py` and `queues.py`, ported line by line onto the public kernel (`src/sync/`): each
//! blocked caller waits on its own future in a FIFO deque. Handles are cheap clones of one
//! shared primitive. The parity tests in `tests/sync_cases.rs` print the same traces as their
//! Python twins in `tests/cases/sync/`. An `async with` block becomes `x.with(co, |co| body)`.
//! It releases on every way out of `body`: a value, an error, or a panic.
//!
//! ```python
//! lock = asyncio.Lock()
//! async with lock:
//!     await work()
//!
//! ev = asyncio.Event()
//! await ev.wait()                     # elsewhere: ev.set()
//!
//! cond = asyncio.Condition()
//! async with cond:
//!     await cond.wait_for(lambda: ready)
//!
//! sem = asyncio.BoundedSemaphore(3)
//! async with sem:
//!     await fetch()
//!
//! barrier = asyncio.Barrier(1)
//! index = await barrier.wait()
//!
//! q = asyncio.Queue(maxsize=10)
//! await q.put(item)
//! item = await q.get()
//! q.task_done()
//! await q.join()
//! try:
//!     q.get_nowait()
//! except asyncio.QueueEmpty:
//!     ...
//! ```
//!
//! ```rust
//! use std::cell::Cell;
//! use std::rc::Rc;
//!
//! use tulip::{Barrier, BoundedSemaphore, Condition, Event, Lock, Queue, QueueEmpty};
//!
//! tulip::run(|co| {
//!     let lp = tulip::get_running_loop()?;
//!
//!     let lock = Lock::new();
//!     lock.with(co, |co| co.yield_now())?; // async with lock: await work()
//!
//!     let ev = Event::new();
//!     let setter = ev.clone();
//!     lp.call_soon(move || setter.set())?; // elsewhere: ev.set()
//!     ev.wait(co)?;
//!
//!     let cond = Condition::new();
//!     let ready = Rc::new(Cell::new(false));
//!     let (c, r) = (cond.clone(), ready.clone());
//!     lp.create_task(move |co| {
//!         c.with(co, |_| {
//!             r.set(true);
//!             c.notify_all()
//!         })
//!     })?;
//!     cond.with(co, |co| cond.wait_for(co, || ready.get()))?;
//!
//!     let sem = BoundedSemaphore::new(3)?;
//!     sem.with(co, |co| co.yield_now())?;
//!
//!     let barrier = Barrier::new(1)?;
//!     let index = barrier.wait(co)?;
//!     assert_eq!(index, 0);
//!
//!     let q = Queue::new(10); // LifoQueue::new, PriorityQueue::new (T: Ord)
//!     q.put(co, "item")?;
//!     let item = q.get(co)?;
//!     assert_eq!(item, "item");
//!     q.task_done()?;
//!     q.join(co)?;
//!     match q.get_nowait() {
//!         Err(e) if QueueEmpty::is(&e) => println!("empty"),
//!         other => {
//!             other?;
//!         }
//!     }
//!     Ok(())
//! })?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! - **Fairness, as in 3.11.** `Lock.acquire` succeeds at once only if the lock is free and no
//!   un-cancelled waiter is queued. A waiter cancelled after it was woken passes the wake-up to the
//!   next waiter, so a wake-up is never lost. Semaphores work the same way, and `locked()` is true
//!   while an un-cancelled waiter exists. Queues use `_wakeup_next`: a getter cancelled after
//!   `put_nowait` woke it leaves the item for the next getter.
//! - **`Condition.wait`** releases the lock, waits, and re-acquires the lock however the wait ends.
//!   A `CancelledError` that arrives while it re-acquires is raised only once the lock is held.
//!   `wait_for(co, pred)` takes a `FnMut() -> bool`.
//! - **Errors**, with Python's messages: `Lock is not acquired.`, `cannot wait on un-acquired
//!   lock`, `cannot notify on un-acquired lock`, `Semaphore initial value must be >= 0`,
//!   `BoundedSemaphore released too many times`, `parties must be > 0`, and `task_done() called
//!   too many times`. Blocking from a second loop gives `RuntimeError("<Lock ...> is bound to a
//!   different event loop")`. The primitive binds to the running loop when it first blocks.
//! - **`QueueEmpty`, `QueueFull`, `BrokenBarrierError`** are error types of their own:
//!   `e.isinstance::<QueueEmpty>()` (or `QueueEmpty::is(&e)`) is `except asyncio.QueueEmpty`,
//!   and `py_repr` prints them as Python does. Raise one with `QueueFull.into()` or
//!   `BrokenBarrierError::with_message(msg)`. As in Python, a `BrokenBarrierError` is also a
//!   `RuntimeError`: `e.isinstance::<RuntimeError>()` is true for it.
//! - `Debug` gives Python's repr, e.g. `<tulip.locks.Lock object at 0x… [locked, waiters:2]>`,
//!   `<tulip.locks.Barrier object at 0x… [filling, waiters:1/3]>`, and for queues Python's
//!   `str(queue)`: `<Queue maxsize=2 _queue=[1, 2] _getters[1] tasks=2>` (items in Rust's `Debug`).
//! - **Closing a loop** with waiters pending unwinds each waiting task. Its wait removes its
//!   future on the way out, so nothing stays alive (tested). A coroutine that is being closed
//!   cannot suspend, so `Condition.wait` then re-takes the lock only if the lock is free.
//!
//! A tulip `Lock` is also the answer to [the suspension hazard](crate#the-suspension-hazard)
//! when a value must stay exclusive across waits: a second task waits for the lock instead of
//! panicking on a `RefCell`.
//!
//! # Stackless bodies (nightly)
//!
//! A stackless task body (feature `nightly`, [the tasks page](super::tasks)) waits on the
//! same primitives without a stack: every waiting method has a `_stackless` form that the body
//! delegates to with `yield_from!`, a small state machine that holds no stack while it waits.
//! It is the stackful method's own code (each waiting method is written once, its decision,
//! its waiter and its clean-up shared by both forms), so the wake order, fairness,
//! cancellation, errors and the task tree's wait site are the same; `tests/sync_stackless.rs`
//! runs the sync cases on them against the same recordings, and holds 10,000 stackless tasks
//! waiting on one queue and one event with no stack taken.
//!
//! | asyncio | stackful | stackless |
//! |---|---|---|
//! | `await lock.acquire()` | `lock.acquire(co)?` | `yield_from!(lock.acquire_stackless())?` |
//! | `async with lock: body` | `lock.with(co, \|co\| body)?` | the acquire, the body, then `lock.release()?` on every way out |
//! | `await ev.wait()` | `ev.wait(co)?` | `yield_from!(ev.wait_stackless())?` |
//! | `await cond.wait()`, `cond.wait_for(p)` | `cond.wait(co)?`, `cond.wait_for(co, p)?` | `yield_from!(cond.wait_stackless())?`, `yield_from!(cond.wait_for_stackless(p))?` |
//! | `await sem.acquire()` | `sem.acquire(co)?` | `yield_from!(sem.acquire_stackless())?` |
//! | `await barrier.wait()`, `reset()`, `abort()` | `barrier.wait(co)?`, ... | `yield_from!(barrier.wait_stackless())?`, `reset_stackless()`, `abort_stackless()` |
//! | `await q.put(x)`, `q.get()`, `q.join()` | `q.put(co, x)?`, ... | `yield_from!(q.put_stackless(x))?`, `get_stackless()`, `join_stackless()` |
//!
//! ```rust,ignore
//! #![feature(coroutines)]
//! use tulip::{Lock, Queue, await_, get_running_loop, stackless, yield_from};
//!
//! let total = stackless::run(#[coroutine] static |_| {
//!     let q = Queue::new(1);
//!     let lock = Lock::new();
//!     let (q2, lock2) = (q.clone(), lock.clone());
//!     let consumer = get_running_loop()?.create_task_stackless(#[coroutine] static move |_| {
//!         let mut total = 0;
//!         for _ in 0..3 {
//!             total += yield_from!(q2.get_stackless())?; // await q.get()
//!         }
//!         yield_from!(lock2.acquire_stackless())?; // async with lock:
//!         lock2.release()?;
//!         Ok(total)
//!     })?;
//!     for i in 1..=3 {
//!         yield_from!(q.put_stackless(i))?; // await q.put(i): waits while the queue is full
//!     }
//!     await_!(consumer)
//! })?;
//! assert_eq!(total, 6);
//! ```
