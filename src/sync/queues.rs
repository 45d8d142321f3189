//! Queues (layer 8): asyncio's `Queue`, `LifoQueue` and `PriorityQueue`, ported from CPython
//! 3.11's `queues.py`.
//!
//! Blocked getters and putters each wait on a `Future<()>` in a FIFO deque; `put_nowait` wakes
//! the first getter and `get_nowait` the first putter (asyncio's `_wakeup_next`, which pops the
//! waiter). A woken getter does not own an item: it loops and re-checks, as in CPython. A
//! getter cancelled after it was woken passes the wake-up on to the next getter, so a
//! cancelled `get` never strands an item (and likewise for putters and free slots).
//!
//! The three kinds share one implementation, differing only in their storage: a deque (FIFO),
//! a stack (LIFO), or a binary heap with `heapq`'s exact sift rules (so the internal order,
//! visible in `Debug`, is Python's).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::rc::Rc;

use anyhow::Result;

use crate::errors::{QueueEmpty, QueueFull, ValueError};
use crate::futures::Future;
use crate::sync::{
    Event, LoopBinding, Step, WaitOp, Waiters, event, queue_waiter, remove_waiter, wait_stackful,
};
use crate::tasks::{TaskCo, WaitKind};

/// What a queue kind keeps its items in (CPython's overridable `_init`, `_put`, `_get`).
trait Storage<T>: Default {
    fn push(&mut self, item: T);
    fn pop(&mut self) -> Option<T>;
    fn len(&self) -> usize;
    /// The items in storage order (Python's `list(self._queue)`).
    fn items(&self) -> Vec<&T>;
}

/// FIFO: `collections.deque`, `append` / `popleft`.
impl<T> Storage<T> for VecDeque<T> {
    fn push(&mut self, item: T) {
        self.push_back(item)
    }
    fn pop(&mut self) -> Option<T> {
        self.pop_front()
    }
    fn len(&self) -> usize {
        VecDeque::len(self)
    }
    fn items(&self) -> Vec<&T> {
        self.iter().collect()
    }
}

/// LIFO: a list, `append` / `pop`.
impl<T> Storage<T> for Vec<T> {
    fn push(&mut self, item: T) {
        Vec::push(self, item)
    }
    fn pop(&mut self) -> Option<T> {
        Vec::pop(self)
    }
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn items(&self) -> Vec<&T> {
        self.iter().collect()
    }
}

/// A min-heap in a list, `heapq.heappush` / `heapq.heappop`. Only `<` is used, and in the
/// same places as `heapq`, so items that compare equal come out in Python's order.
///
/// `Ord` is user code called while the queue's storage is borrowed; an `Ord` that touches the
/// same queue is refused by the borrow check (a panic) rather than corrupting the heap.
struct Heap<T>(Vec<T>);

impl<T> Default for Heap<T> {
    fn default() -> Self {
        Heap(Vec::new())
    }
}

impl<T: Ord> Heap<T> {
    /// `heapq._siftdown(heap, startpos, pos)`: moves the item at `pos` up.
    fn sift_down(&mut self, start: usize, mut pos: usize) {
        let h = &mut self.0;
        while pos > start {
            let parent = (pos - 1) >> 1;
            if h[pos] < h[parent] {
                h.swap(pos, parent);
                pos = parent;
            } else {
                break;
            }
        }
    }

    /// `heapq._siftup(heap, pos)`: moves the smaller child up until a leaf, then sifts down.
    fn sift_up(&mut self, mut pos: usize) {
        let end = self.0.len();
        let start = pos;
        let mut child = 2 * pos + 1;
        while child < end {
            let right = child + 1;
            if right < end && self.0[child] >= self.0[right] {
                child = right;
            }
            self.0.swap(pos, child);
            pos = child;
            child = 2 * pos + 1;
        }
        self.sift_down(start, pos);
    }
}

impl<T: Ord> Storage<T> for Heap<T> {
    fn push(&mut self, item: T) {
        self.0.push(item);
        let last = self.0.len() - 1;
        self.sift_down(0, last);
    }
    fn pop(&mut self) -> Option<T> {
        let last = self.0.pop()?;
        if self.0.is_empty() {
            return Some(last);
        }
        let top = std::mem::replace(&mut self.0[0], last);
        self.sift_up(0);
        Some(top)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn items(&self) -> Vec<&T> {
        self.0.iter().collect()
    }
}

/// The state every queue kind shares.
struct Core<T, S> {
    maxsize: usize,
    items: RefCell<S>,
    getters: Waiters,
    putters: Waiters,
    unfinished_tasks: Cell<usize>,
    finished: Event,
    binding: LoopBinding,
    kind: &'static str,
    _item: std::marker::PhantomData<T>,
}

impl<T: 'static, S: Storage<T>> Core<T, S> {
    fn new(maxsize: usize, kind: &'static str) -> Self {
        let finished = Event::new();
        finished.set();
        Core {
            maxsize,
            items: RefCell::default(),
            getters: RefCell::default(),
            putters: RefCell::default(),
            unfinished_tasks: Cell::new(0),
            finished,
            binding: LoopBinding::default(),
            kind,
            _item: std::marker::PhantomData,
        }
    }

    fn qsize(&self) -> usize {
        self.items.borrow().len()
    }

    fn empty(&self) -> bool {
        self.qsize() == 0
    }

    fn full(&self) -> bool {
        self.maxsize > 0 && self.qsize() >= self.maxsize
    }

    /// `_wakeup_next`: pops waiters until one that is not done, and wakes it.
    fn wakeup_next(waiters: &Waiters) {
        loop {
            let next = waiters.borrow_mut().pop_front();
            match next {
                None => return,
                Some(w) if !w.done() => {
                    let _ = w.set_result(());
                    return;
                }
                Some(_) => {}
            }
        }
    }

    /// Queues a new future on `waiters` to wait on until woken.
    #[inline(always)]
    fn block<U>(&self, waiters: &Waiters, what: WaitKind) -> Step<U> {
        let queued = queue_waiter(&self.binding, waiters, || {
            format!(
                "<{} at {:#x} maxsize={}>",
                self.kind, self as *const Self as usize, self.maxsize
            )
        });
        match queued {
            Ok(fut) => Step::Wait(fut, what),
            Err(e) => Step::Done(Err(e)),
        }
    }

    /// After a failed wait in `waiters`: on any error (cancellation, or the coroutine being closed)
    /// the future is cancelled and taken out; if it had been woken and `can_proceed` holds,
    /// the wake-up passes to the next waiter (CPython's bare `except`).
    #[cold]
    fn unblock(waiters: &Waiters, fut: &Future<()>, can_proceed: bool) {
        fut.cancel(None); // in case it is not done yet
        // It may be gone already: a `put_nowait`/`get_nowait` popped it to wake it.
        remove_waiter(waiters, fut);
        if can_proceed && !fut.cancelled() {
            Self::wakeup_next(waiters);
        }
    }

    /// `put` as a state machine (the stackless form): while full, wait among the putters;
    /// then `put_nowait`.
    #[cfg(feature = "nightly")]
    #[inline]
    fn put_begin(&self, item: &mut Option<T>) -> Step<()> {
        if self.full() {
            return self.block(&self.putters, WaitKind::QueuePut);
        }
        match item.take() {
            Some(item) => Step::Done(self.put_nowait(item)),
            None => Step::Done(Err(crate::errors::RuntimeError::new(
                "cannot reuse already awaited coroutine",
            )
            .into())),
        }
    }

    #[cfg(feature = "nightly")]
    #[inline]
    fn put_resume(&self, item: &mut Option<T>, fut: Future<()>, waited: Result<()>) -> Step<()> {
        match waited {
            Ok(()) => self.put_begin(item),
            Err(e) => {
                Self::unblock(&self.putters, &fut, !self.full());
                Step::Done(Err(e))
            }
        }
    }

    /// The stackful `put`: the loop of `put_begin`/`put_resume` written out, over the same
    /// pieces (a `Step` machine here costs the hot path its inlining).
    #[track_caller]
    fn put(&self, co: &TaskCo, item: T) -> Result<()> {
        while self.full() {
            self.wait_in(co, &self.putters, WaitKind::QueuePut, || !self.full())?;
        }
        self.put_nowait(item)
    }

    /// One wait among `waiters`, stackful: `block`, the wait, and `unblock` on an error.
    #[inline(always)]
    #[track_caller]
    fn wait_in(
        &self,
        co: &TaskCo,
        waiters: &Waiters,
        what: WaitKind,
        can_proceed: impl Fn() -> bool,
    ) -> Result<()> {
        let fut = match self.block(waiters, what) {
            Step::Wait(fut, _) => fut,
            Step::Done(r) => return r,
        };
        let waited = co.wait_as(&fut, what);
        if waited.is_err() {
            Self::unblock(waiters, &fut, can_proceed());
        }
        waited
    }

    fn put_nowait(&self, item: T) -> Result<()> {
        self.try_put(item).map_err(|_item| QueueFull::raise())
    }

    fn try_put(&self, item: T) -> std::result::Result<(), T> {
        if self.full() {
            return Err(item);
        }
        self.items.borrow_mut().push(item);
        self.unfinished_tasks.set(self.unfinished_tasks.get() + 1);
        self.finished.clear();
        Self::wakeup_next(&self.getters);
        Ok(())
    }

    /// `get` as a state machine, as `put_begin`.
    #[cfg(feature = "nightly")]
    #[inline]
    fn get_begin(&self) -> Step<T> {
        if self.empty() {
            return self.block(&self.getters, WaitKind::QueueGet);
        }
        Step::Done(self.get_nowait())
    }

    #[cfg(feature = "nightly")]
    #[inline]
    fn get_resume(&self, fut: Future<()>, waited: Result<()>) -> Step<T> {
        match waited {
            Ok(()) => self.get_begin(),
            Err(e) => {
                Self::unblock(&self.getters, &fut, !self.empty());
                Step::Done(Err(e))
            }
        }
    }

    /// The stackful `get`, as `put`.
    #[track_caller]
    fn get(&self, co: &TaskCo) -> Result<T> {
        while self.empty() {
            self.wait_in(co, &self.getters, WaitKind::QueueGet, || !self.empty())?;
        }
        self.get_nowait()
    }

    fn get_nowait(&self) -> Result<T> {
        let item = self.items.borrow_mut().pop();
        match item {
            None => Err(QueueEmpty::raise()),
            Some(item) => {
                Self::wakeup_next(&self.putters);
                Ok(item)
            }
        }
    }

    fn task_done(&self) -> Result<()> {
        let n = self.unfinished_tasks.get();
        if n == 0 {
            return Err(ValueError::new("task_done() called too many times").into());
        }
        self.unfinished_tasks.set(n - 1);
        if n == 1 {
            self.finished.set();
        }
        Ok(())
    }

    #[track_caller]
    fn join(&self, co: &TaskCo) -> Result<()> {
        wait_stackful(co, &self.finished, self.join_op())
    }

    /// `join`: waits for `finished` only while items are unfinished.
    fn join_op(&self) -> Join {
        Join(self.unfinished_tasks.get() > 0)
    }
}

/// `queue.get()` for the stackless form (over `get_begin`/`get_resume`).
#[cfg(feature = "nightly")]
pub(crate) struct Get;

/// `queue.put(item)` for the stackless form: the item until it is put.
#[cfg(feature = "nightly")]
pub(crate) struct Put<T>(Option<T>);

/// `queue.join()`, shared by both forms: `finished.wait()` if items were unfinished when
/// it was called.
pub(crate) struct Join(bool);

impl WaitOp<Event> for Join {
    type Output = ();

    #[inline]
    fn begin(&mut self, finished: &Event) -> Step<()> {
        if !self.0 {
            return Step::Done(Ok(()));
        }
        event::Wait.begin(finished).map(drop)
    }

    fn resume(&mut self, finished: &Event, fut: Future<()>, waited: Result<()>) -> Step<()> {
        event::Wait.resume(finished, fut, waited).map(drop)
    }
}

/// A queue's core without its storage type, for the stackless waits' public types.
#[cfg(feature = "nightly")]
pub(crate) trait ErasedCore<T> {
    fn get_begin(&self) -> Step<T>;
    fn get_resume(&self, fut: Future<()>, waited: Result<()>) -> Step<T>;
    fn put_begin(&self, item: &mut Option<T>) -> Step<()>;
    fn put_resume(&self, item: &mut Option<T>, fut: Future<()>, waited: Result<()>) -> Step<()>;
}

#[cfg(feature = "nightly")]
impl<T: 'static, S: Storage<T>> ErasedCore<T> for Core<T, S> {
    fn get_begin(&self) -> Step<T> {
        Core::get_begin(self)
    }
    fn get_resume(&self, fut: Future<()>, waited: Result<()>) -> Step<T> {
        Core::get_resume(self, fut, waited)
    }
    fn put_begin(&self, item: &mut Option<T>) -> Step<()> {
        Core::put_begin(self, item)
    }
    fn put_resume(&self, item: &mut Option<T>, fut: Future<()>, waited: Result<()>) -> Step<()> {
        Core::put_resume(self, item, fut, waited)
    }
}

#[cfg(feature = "nightly")]
type Erased<T> = Rc<dyn ErasedCore<T>>;

#[cfg(feature = "nightly")]
impl<T: 'static> WaitOp<Erased<T>> for Get {
    type Output = T;

    #[inline]
    fn begin(&mut self, q: &Erased<T>) -> Step<T> {
        q.get_begin()
    }

    fn resume(&mut self, q: &Erased<T>, fut: Future<()>, waited: Result<()>) -> Step<T> {
        q.get_resume(fut, waited)
    }
}

#[cfg(feature = "nightly")]
impl<T: 'static> WaitOp<Erased<T>> for Put<T> {
    type Output = ();

    #[inline]
    fn begin(&mut self, q: &Erased<T>) -> Step<()> {
        q.put_begin(&mut self.0)
    }

    fn resume(&mut self, q: &Erased<T>, fut: Future<()>, waited: Result<()>) -> Step<()> {
        q.put_resume(&mut self.0, fut, waited)
    }
}

#[cfg(feature = "nightly")]
super::stackless::stackless_wait!(
    /// What a queue's `get_stackless` returns (a [`Queue`], [`LifoQueue`] or
    /// [`PriorityQueue`] of `T`): `await queue.get()`, evaluating to the item.
    QueueGet [T: 'static] [T] (Erased<T>, Get) -> T
);

#[cfg(feature = "nightly")]
super::stackless::stackless_wait!(
    /// What a queue's `put_stackless` returns: `await queue.put(item)`.
    QueuePut [T: 'static] [T] (Erased<T>, Put<T>) -> ()
);

/// Python's `str(queue)`: `<Queue maxsize=2 _queue=[1, 2] _getters[1] tasks=2>` (items with
/// Rust's `Debug`).
impl<T: fmt::Debug, S: Storage<T>> fmt::Debug for Core<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} maxsize={}", self.kind, self.maxsize)?;
        {
            let items = self.items.borrow();
            if items.len() > 0 {
                write!(f, " _queue={:?}", items.items())?;
            }
        }
        let getters = self.getters.borrow().len();
        if getters > 0 {
            write!(f, " _getters[{getters}]")?;
        }
        let putters = self.putters.borrow().len();
        if putters > 0 {
            write!(f, " _putters[{putters}]")?;
        }
        let tasks = self.unfinished_tasks.get();
        if tasks > 0 {
            write!(f, " tasks={tasks}")?;
        }
        f.write_str(">")
    }
}

/// The methods every queue kind has, written once.
macro_rules! queue_api {
    ($(#[$doc:meta])* $name:ident, $storage:ty, [$($bound:tt)*], $order:literal) => {
        $(#[$doc])*
        pub struct $name<T: 'static>(Rc<Core<T, $storage>>);

        impl<T: 'static> Clone for $name<T> {
            fn clone(&self) -> Self {
                $name(self.0.clone())
            }
        }

        impl<T: 'static $($bound)*> $name<T> {
            #[doc = concat!("`asyncio.", stringify!($name), "(maxsize)`: holds at most `maxsize` ",
                "items (0: no limit), handed out ", $order, ".")]
            pub fn new(maxsize: usize) -> Self {
                $name(Rc::new(Core::new(maxsize, stringify!($name))))
            }

            /// The limit given to `new` (0: none).
            pub fn maxsize(&self) -> usize {
                self.0.maxsize
            }

            /// The number of items in the queue.
            pub fn qsize(&self) -> usize {
                self.0.qsize()
            }

            /// Whether the queue holds no item.
            pub fn empty(&self) -> bool {
                self.0.empty()
            }

            /// Whether the queue holds `maxsize` items (never, without a limit).
            pub fn full(&self) -> bool {
                self.0.full()
            }

            /// `await queue.put(item)`: waits (FIFO among putters) while the queue is full,
            /// then puts. If the waiting task is cancelled, `item` is dropped and a free slot
            /// it had been woken for passes to the next putter.
            ///
            /// # Errors
            ///
            /// - `CancelledError` when the waiting task is cancelled.
            /// - `RuntimeError("<Queue at 0x... maxsize=N> is bound to a different event
            ///   loop")` when it has to wait on another loop than the one it first waited on.
            #[track_caller]
            pub fn put(&self, co: &TaskCo, item: T) -> Result<()> {
                self.0.put(co, item)
            }

            /// `queue.put_nowait(item)`: puts without waiting and wakes the first getter;
            /// `QueueFull` (the item is dropped: see [`Self::try_put`]) when full. Each put
            /// adds an unfinished task.
            ///
            /// # Errors
            ///
            /// `QueueFull` when the queue holds `maxsize` items.
            pub fn put_nowait(&self, item: T) -> Result<()> {
                self.0.put_nowait(item)
            }

            /// `put_nowait` that hands the item back when the queue is full (where Python's
            /// caller still holds the object after `QueueFull`).
            pub fn try_put(&self, item: T) -> std::result::Result<(), T> {
                self.0.try_put(item)
            }

            /// `await queue.get()`: waits (FIFO among getters) while the queue is empty, then
            /// takes an item. A getter cancelled after it was woken leaves the item for the next
            /// getter, so no item is lost.
            ///
            /// # Errors
            ///
            /// As `put`: `CancelledError`, or the `RuntimeError` of another loop.
            #[track_caller]
            pub fn get(&self, co: &TaskCo) -> Result<T> {
                self.0.get(co)
            }

            /// `queue.get_nowait()`: takes an item without waiting and wakes the first putter.
            ///
            /// # Errors
            ///
            /// `QueueEmpty` when empty.
            pub fn get_nowait(&self) -> Result<T> {
                self.0.get_nowait()
            }

            /// `queue.task_done()`: one item taken earlier is fully processed; `join` returns
            /// once every item put has been.
            ///
            /// # Errors
            ///
            /// `ValueError("task_done() called too many times")` with no unfinished task.
            pub fn task_done(&self) -> Result<()> {
                self.0.task_done()
            }

            /// `await queue.join()`: waits until every item put has been marked `task_done`.
            ///
            /// # Errors
            ///
            /// `CancelledError` when the waiting task is cancelled.
            #[track_caller]
            pub fn join(&self, co: &TaskCo) -> Result<()> {
                self.0.join(co)
            }

            /// `await queue.put(item)` for a stackless body:
            /// `yield_from!(queue.put_stackless(item))?`. Exactly `put`, holding no stack
            /// while it waits (see [`Queue::get_stackless`] for an example).
            ///
            /// # Errors
            ///
            /// As `put`.
            #[cfg(feature = "nightly")]
            #[track_caller]
            pub fn put_stackless(&self, item: T) -> QueuePut<T> {
                let core: Erased<T> = self.0.clone();
                QueuePut(crate::sync::stackless::Waiting::new(
                    core,
                    Put(Some(item)),
                    std::panic::Location::caller(),
                ))
            }

            /// `await queue.get()` for a stackless body: `yield_from!(queue.get_stackless())?`
            /// evaluates to the item. Exactly `get`, holding no stack while it waits.
            ///
            /// ```
            /// #![feature(coroutines)]
            /// # fn main() -> anyhow::Result<()> {
            /// use tulip::{Queue, await_, get_running_loop, stackless, yield_from};
            ///
            /// let got = stackless::run(
            ///     #[coroutine]
            ///     static |_| {
            ///         let q = Queue::new(1); // q = asyncio.Queue(maxsize=1)
            ///         let consumer = q.clone();
            ///         let task = get_running_loop()?.create_task_stackless(
            ///             #[coroutine]
            ///             static move |_| {
            ///                 let mut got = Vec::new();
            ///                 for _ in 0..3 {
            ///                     // item = await q.get()
            ///                     got.push(yield_from!(consumer.get_stackless())?);
            ///                     consumer.task_done()?;
            ///                 }
            ///                 Ok(got)
            ///             },
            ///         )?;
            ///         for i in 1..=3 {
            ///             yield_from!(q.put_stackless(i))?; // await q.put(i)
            ///         }
            ///         yield_from!(q.join_stackless())?; // await q.join()
            ///         await_!(task)
            ///     },
            /// )?;
            /// assert_eq!(got, [1, 2, 3]);
            /// # Ok(()) }
            /// ```
            ///
            /// # Errors
            ///
            /// As `get`.
            #[cfg(feature = "nightly")]
            #[track_caller]
            pub fn get_stackless(&self) -> QueueGet<T> {
                let core: Erased<T> = self.0.clone();
                QueueGet(crate::sync::stackless::Waiting::new(
                    core,
                    Get,
                    std::panic::Location::caller(),
                ))
            }

            /// `await queue.join()` for a stackless body: `yield_from!(queue.join_stackless())?`.
            /// Exactly `join`, holding no stack while it waits.
            ///
            /// # Errors
            ///
            /// As `join`.
            #[cfg(feature = "nightly")]
            #[track_caller]
            pub fn join_stackless(&self) -> crate::stackless::QueueJoin {
                crate::stackless::QueueJoin(crate::sync::stackless::Waiting::new(
                    self.0.finished.clone(),
                    self.0.join_op(),
                    std::panic::Location::caller(),
                ))
            }

            /// Items put and not yet marked `task_done` (asyncio's `_unfinished_tasks`).
            pub fn unfinished_tasks(&self) -> usize {
                self.0.unfinished_tasks.get()
            }

            /// Whether both handles are the same queue (Python's `is`).
            pub fn ptr_eq(&self, other: &Self) -> bool {
                Rc::ptr_eq(&self.0, &other.0)
            }
        }

        /// Python's `str(queue)`, e.g. `<Queue maxsize=0 _queue=[1, 2] tasks=2>`.
        impl<T: fmt::Debug + 'static $($bound)*> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.0, f)
            }
        }
    };
}

queue_api!(
    /// asyncio's `Queue`: a FIFO queue for producer and consumer tasks, bounded by `maxsize`.
    /// Clones are handles to the same queue.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> anyhow::Result<()> {
    /// use tulip::{ErrorExt, Queue, QueueEmpty, get_running_loop};
    ///
    /// let got = tulip::run(|co| {
    ///     let q = Queue::new(2); // asyncio: q = asyncio.Queue(maxsize=2)
    ///     let consumer = {
    ///         let q = q.clone();
    ///         get_running_loop()?.create_task(move |co| {
    ///             let mut got = Vec::new();
    ///             loop {
    ///                 let item: i32 = q.get(co)?; // item = await q.get()
    ///                 q.task_done()?;
    ///                 if item < 0 {
    ///                     return Ok(got);
    ///                 }
    ///                 got.push(item);
    ///             }
    ///         })?
    ///     };
    ///     for i in 1..=5 {
    ///         q.put(co, i)?; // await q.put(i): waits while two items are queued
    ///     }
    ///     q.put(co, -1)?;
    ///     q.join(co)?; // await q.join(): every item was task_done()
    ///     assert!(q.get_nowait().unwrap_err().isinstance::<QueueEmpty>());
    ///     co.wait(&consumer)
    /// })?;
    /// assert_eq!(got, [1, 2, 3, 4, 5]);
    /// # Ok(()) }
    /// ```
    Queue,
    VecDeque<T>,
    [],
    "first in, first out"
);

queue_api!(
    /// asyncio's `LifoQueue`: like [`Queue`], but the most recently put item comes out first.
    /// Clones are handles to the same queue.
    LifoQueue,
    Vec<T>,
    [],
    "last in, first out"
);

queue_api!(
    /// asyncio's `PriorityQueue`: like [`Queue`], but the smallest item comes out first (a
    /// `heapq` heap; use `(priority, data)` tuples as in Python). Clones are handles to the
    /// same queue.
    PriorityQueue,
    Heap<T>,
    [+ Ord],
    "smallest first"
);
