//! `asyncio.gather` (layer 8): one future for the results of many, in argument order.
//!
//! As in CPython, each distinct child gets one done callback; the callbacks fill the outer
//! future, so a child done in loop iteration k resolves the outer in k+1 and wakes its
//! awaiters in k+2 (R11). Without `return_exceptions` ([`gather`]) the first failure (or a
//! cancelled child, as `CancelledError`) fails the outer at once and the other children keep
//! running; with it ([`gather_settled`]) every outcome becomes an entry.
//!
//! Callbacks run in the order their children finished, so only the last one to finish can
//! resolve the outer with the results. The callback of any other child that returned would do
//! nothing when it runs (CPython's `_done_callback` only counts it): its value is read as it
//! finishes and no callback is queued for it. A failed or cancelled child, and the last one,
//! get theirs, which acts at run time as CPython's does.
//!
//! Ownership: the children's callbacks own the gathering, the gathering only points weakly at
//! its children (to cancel them), and holds a failed or cancelled one only from its end until
//! it reads it. So no reference cycle is made, even when a child never finishes; the price is
//! that a child nobody else holds (a future created inline and never resolved) is dropped
//! instead of being kept alive by the gathering.

use std::cell::Cell;
use std::fmt;
use std::rc::{Rc, Weak};

use anyhow::Result;

use crate::errors::{CancelledError, ErrorExt, RuntimeError, SharedError, ValueError};
use crate::event_loop::{EventLoop, get_running_loop};
use crate::futures::{
    Awaitable, CallbackId, ChildDone, Future, FutureCore, Suspend, Waitable, Wake,
};

/// The state behind a [`Gathering`], shared by the handle and the children's callbacks.
struct GatherCore<T: 'static, M: Mode<T>> {
    outer: Future<Vec<M::Entry>>,
    /// Argument position -> slot of its distinct child; `None` while no argument repeats
    /// (then position and slot are the same).
    index: Option<Vec<usize>>,
    /// One per distinct child, filled as they finish (so the children need not be kept
    /// alive to read their results at the end). Cells: no borrow to check per child.
    slots: Vec<Slot<T, M::Entry>>,
    /// How many children have finished (reported through [`ChildDone`]).
    nfinished: Cell<usize>,
    /// The slot of the child that finished last, once all have: its callback is the last.
    final_slot: Cell<usize>,
    cancel_requested: Cell<bool>,
    /// The last argument (CPython's `children[-1]`): its `_make_cancelled_error()` is what
    /// the outer fails with when it was cancelled and every child has finished.
    last: Option<Weak<FutureCore<T>>>,
}

/// A distinct child's place.
struct Slot<T: 'static, E> {
    /// How the child is cancelled (a task as a task), weakly.
    canceller: Weak<dyn Waitable>,
    /// The child once failed or cancelled, until it is read: by its callback, or with
    /// `return_exceptions` by the last one, as CPython reads every outcome at the end.
    done: Cell<Option<Future<T>>>,
    entry: Cell<Option<E>>,
}

/// What a finished child gives: [`gather`]'s value or [`gather_settled`]'s entry.
trait Mode<T: 'static>: 'static {
    type Entry: Clone + 'static;
    /// Whether a failed or cancelled child fails the outer at once (no `return_exceptions`).
    const RAISES: bool;
    /// The child's entry, or the error that fails the outer.
    fn entry(f: &Future<T>) -> Result<Self::Entry>;
}

/// [`gather`]: a child's value; its error (a cancelled child's `CancelledError`) fails the
/// outer.
struct Values;

impl<T: Clone + 'static> Mode<T> for Values {
    type Entry = T;
    const RAISES: bool = true;
    fn entry(f: &Future<T>) -> Result<T> {
        // A cancelled child's error is its `_make_cancelled_error()`, as CPython's.
        f.result()
    }
}

/// [`gather_settled`] (`return_exceptions=True`): every outcome is an entry.
struct Settled;

impl<T: Clone + 'static> Mode<T> for Settled {
    type Entry = Result<T, SharedError>;
    const RAISES: bool = false;
    fn entry(f: &Future<T>) -> Result<Self::Entry> {
        if f.cancelled() {
            let msg = f.cancel_message().unwrap_or_default();
            return Ok(Err(SharedError::new(CancelledError::new(Some(msg)).into())));
        }
        Ok(f.result().map_err(share))
    }
}

/// What a [`Gathering`] handle reaches, whatever its children's type.
trait Gather<R: 'static>: Waitable {
    fn outer(&self) -> &Future<Vec<R>>;
    fn cancel(&self, msg: Option<&str>) -> bool;
}

/// The outer future of [`gather`] / [`gather_settled`] (asyncio's `_GatheringFuture`): await
/// it with `co.wait(&g)`, or read it with [`Gathering::result`] once done. A cheap clonable
/// handle.
///
/// Its [`cancel`](Gathering::cancel) cancels the children, not the outer future itself; a
/// task waiting on it forwards `Task.cancel` there. (Calling `cancel` on
/// [`future()`](Awaitable::future) instead would be the plain `Future.cancel`, which asyncio's
/// gathering overrides: don't.)
pub struct Gathering<R: 'static>(Rc<dyn Gather<R>>);

impl<R> Clone for Gathering<R> {
    fn clone(&self) -> Self {
        Gathering(self.0.clone())
    }
}

/// `asyncio.gather(*children)`: a [`Gathering`] whose result is every child's result, in
/// argument order. The first child to fail (or to be cancelled: the outer then fails with
/// that `CancelledError`, and is not itself cancelled) fails the outer at once; the other
/// children keep running. A child given twice is waited for once and its result repeated.
/// With no children the outer is already resolved to an empty `Vec` (this needs a running
/// loop to bind it to). Children of different loops: asyncio's ValueError.
///
/// Children are anything [`Awaitable`] with one output type: futures, tasks, other
/// gatherings, or a mix through `&dyn Awaitable<Output = T>`.
///
/// # Examples
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use std::time::Duration;
///
/// use tulip::{gather, get_running_loop, sleep};
///
/// let results = tulip::run(|co| {
///     let lp = get_running_loop()?;
///     let a = lp.create_task(|co| {
///         sleep(co, Duration::from_millis(5))?;
///         Ok("a")
///     })?;
///     let b = lp.create_task(|_co| Ok("b"))?;
///     co.wait(&gather([&a, &b])?) // asyncio: await asyncio.gather(a, b)
/// })?;
/// assert_eq!(results, ["a", "b"]); // argument order, not completion order
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// - `ValueError("The future belongs to a different loop ...")` for children of different
///   loops.
/// - `RuntimeError("no running event loop")` for no children outside a running loop.
///
/// Waiting for the [`Gathering`] fails with the first child's error.
pub fn gather<'a, A>(children: impl IntoIterator<Item = &'a A>) -> Result<Gathering<A::Output>>
where
    A: Awaitable + ?Sized + 'a,
    A::Output: Clone,
{
    build::<A, Values>(children)
}

/// `asyncio.gather(*children, return_exceptions=True)`: like [`gather`], but waits for every
/// child and reports each outcome as an entry: `Ok(value)`, or `Err` with the child's error
/// (a cancelled child gives `CancelledError(msg)`, with `''` when it had no message, as
/// CPython). If the gathering itself was cancelled, it fails with `CancelledError` anyway.
///
/// # Errors
///
/// As [`gather`].
pub fn gather_settled<'a, A>(
    children: impl IntoIterator<Item = &'a A>,
) -> Result<Gathering<Result<A::Output, SharedError>>>
where
    A: Awaitable + ?Sized + 'a,
    A::Output: Clone,
{
    build::<A, Settled>(children)
}

/// Shares an error without wrapping an already shared one again.
fn share(e: anyhow::Error) -> SharedError {
    match e.downcast::<SharedError>() {
        Ok(shared) => shared,
        Err(e) => SharedError::new(e),
    }
}

/// `fut._make_cancelled_error()`: the CancelledError a cancelled future raises (a task's own
/// one, with its message), or a bare `CancelledError()` for one that was not cancelled.
fn make_cancelled_error<T: 'static>(f: &Future<T>) -> anyhow::Error {
    if f.cancelled()
        && let Err(e) = f.exception()
        && e.isinstance::<CancelledError>()
    {
        return e;
    }
    CancelledError::new(None).into()
}

/// Finds repeated children by address: open addressing in a table at most half full, one
/// multiply per lookup, about 40 instructions a child less than std's HashMap. It keeps
/// only slot numbers (the addresses are the children's), so that it stays small.
struct Seen {
    /// Slot + 1 of a child, 0 for a free entry. The length is a power of two.
    table: Vec<u32>,
    /// 64 - log2(table length): the hash is the product's top bits, the best mixed.
    shift: u32,
}

impl Seen {
    fn with_capacity(n: usize) -> Self {
        let size = (2 * n).next_power_of_two().max(8);
        Seen {
            table: vec![0; size],
            shift: 64 - size.trailing_zeros(),
        }
    }

    /// The slot of the child at `addr`: a known child's, else `next` (the number of known
    /// ones), now recorded. `known(i)` is the address of slot `i`.
    #[inline]
    fn slot(&mut self, addr: usize, next: usize, known: impl Fn(usize) -> usize) -> usize {
        if 2 * (next + 1) > self.table.len() {
            self.grow(next, &known);
        }
        let mask = self.table.len() - 1;
        let mut i = self.home(addr);
        loop {
            match self.table[i] {
                0 => {
                    self.table[i] = u32::try_from(next + 1).expect("fewer than 2**32 children");
                    return next;
                }
                s if known(s as usize - 1) == addr => return s as usize - 1,
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn home(&self, addr: usize) -> usize {
        ((addr as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    #[cold]
    fn grow(&mut self, known_len: usize, known: &impl Fn(usize) -> usize) {
        *self = Seen::with_capacity(self.table.len());
        let mask = self.table.len() - 1;
        for slot in 0..known_len {
            let mut i = self.home(known(slot));
            while self.table[i] != 0 {
                i = (i + 1) & mask;
            }
            self.table[i] = slot as u32 + 1;
        }
    }
}

fn build<'a, A, M>(children: impl IntoIterator<Item = &'a A>) -> Result<Gathering<M::Entry>>
where
    A: Awaitable + ?Sized + 'a,
    M: Mode<A::Output>,
{
    let mut lp: Option<&EventLoop> = None;
    let children = children.into_iter();
    let n = children.size_hint().0;
    let mut distinct: Vec<&'a Future<A::Output>> = Vec::with_capacity(n);
    let mut slots: Vec<Slot<A::Output, M::Entry>> = Vec::with_capacity(n);
    let mut index: Option<Vec<usize>> = None;
    let mut seen = Seen::with_capacity(n);
    let mut last = None;
    for (pos, aw) in children.enumerate() {
        let fut = aw.future();
        match lp {
            None => lp = Some(fut.get_loop()),
            Some(l) if l != fut.get_loop() => {
                return Err(ValueError::new(
                    "The future belongs to a different loop than the one specified as the loop argument",
                )
                .into());
            }
            Some(_) => {}
        }
        last = Some(fut);
        let addr = |f: &Future<A::Output>| Rc::as_ptr(&f.0) as *const () as usize;
        let slot = seen.slot(addr(fut), distinct.len(), |i| addr(distinct[i]));
        if slot == distinct.len() {
            // A task cancels as a task (its core), anything else as its future.
            let canceller: Rc<dyn Waitable> = match aw.suspend().0 {
                Some(w) => w,
                None => fut.waitable(),
            };
            slots.push(Slot {
                canceller: Rc::downgrade(&canceller),
                done: Cell::new(None),
                entry: Cell::new(None),
            });
            distinct.push(fut);
        }
        match &mut index {
            Some(index) => index.push(slot),
            // The first repeat: every position so far was its own slot.
            None if slot != pos => index = Some((0..pos).chain([slot]).collect()),
            None => {}
        }
    }
    let lp = match lp {
        Some(lp) => lp.clone(),
        None => get_running_loop()?,
    };
    let outer = Future::new(&lp);
    outer.set_kind(crate::futures::Kind::Gathering);
    if distinct.is_empty() {
        outer.set_result(Vec::new())?;
    }
    let core = Rc::new(GatherCore::<A::Output, M> {
        outer,
        index,
        slots,
        nfinished: Cell::new(0),
        final_slot: Cell::new(usize::MAX),
        cancel_requested: Cell::new(false),
        last: last.map(|f| Rc::downgrade(&f.0)),
    });
    for (slot, fut) in distinct.into_iter().enumerate() {
        fut.add_child_callback(core.clone(), slot);
    }
    Ok(Gathering(core))
}

impl<T: 'static, M: Mode<T>> ChildDone<T> for GatherCore<T, M> {
    fn child_done_soon(self: Rc<Self>, slot: usize, fut: &Future<T>) -> Result<()> {
        let lp = fut.get_loop();
        if lp.is_closed() {
            // Refused, as `call_soon` would be (before anything waits for the callback).
            return Err(RuntimeError::new("Event loop is closed").into());
        }
        // A returned child's value cannot change: read it now (cloning it is user code, so
        // before the count below).
        let entry = if fut.returned() {
            M::entry(fut).ok()
        } else {
            None
        };
        let nfinished = self.nfinished.get() + 1;
        self.nfinished.set(nfinished);
        let last = nfinished == self.slots.len();
        match entry {
            Some(entry) => {
                self.slots[slot].entry.set(Some(entry));
                if !last {
                    // Its callback would only count it.
                    return Ok(());
                }
            }
            None => self.slots[slot].done.set(Some(fut.clone())),
        }
        if last {
            self.final_slot.set(slot);
        }
        // Two words: queued inline.
        lp.schedule(move || self.child_done(slot))
    }
}

impl<T: 'static, M: Mode<T>> GatherCore<T, M> {
    /// CPython's `_done_callback`, for a failed or cancelled child or the last one.
    fn child_done(&self, slot: usize) {
        let fut = self.slots[slot].done.take();
        if self.outer.done() {
            if let Some(fut) = fut
                && !fut.cancelled()
            {
                // Mark the exception retrieved: the outer already reported one.
                let _ = fut.exception();
            }
            return;
        }
        if let Some(fut) = fut {
            if !M::RAISES {
                // Read with the others at the end.
                self.slots[slot].done.set(Some(fut));
            } else {
                match M::entry(&fut) {
                    Ok(entry) => self.slots[slot].entry.set(Some(entry)),
                    Err(e) => {
                        let _ = self.outer.set_exception(e);
                        return;
                    }
                }
            }
        }
        if slot != self.final_slot.get() {
            return;
        }
        // CPython's results loop: what is left to read (with return_exceptions) is read now.
        let entries = self.slots.iter().map(|s| {
            let waiting = if M::RAISES { None } else { s.done.take() };
            match waiting {
                Some(fut) => M::entry(&fut).expect("an entry that cannot fail"),
                None => s.entry.take().expect("every child finished"),
            }
        });
        let results: Vec<M::Entry> = match &self.index {
            None => entries.collect(),
            Some(index) => {
                let entries: Vec<M::Entry> = entries.collect();
                index.iter().map(|&i| entries[i].clone()).collect()
            }
        };
        if self.cancel_requested.get() {
            // Cancelled while finishing: propagate the cancellation whatever the mode.
            let err = match self.last.as_ref().and_then(Weak::upgrade) {
                Some(last) => make_cancelled_error(&Future::from_core(last)),
                None => CancelledError::new(None).into(),
            };
            let _ = self.outer.set_exception(err);
        } else {
            let _ = self.outer.set_result(results);
        }
    }
}

impl<T: 'static, M: Mode<T>> Gather<M::Entry> for GatherCore<T, M> {
    fn outer(&self) -> &Future<Vec<M::Entry>> {
        &self.outer
    }

    fn cancel(&self, msg: Option<&str>) -> bool {
        if self.outer.done() {
            return false;
        }
        let mut ret = false;
        let mut cancel = |slot: usize| {
            if let Some(child) = self.slots[slot].canceller.upgrade()
                && child.cancel_waitable(msg)
            {
                ret = true;
            }
        };
        // Per argument, as CPython's `_children`: a task given twice is cancelled twice.
        match &self.index {
            Some(index) => index.iter().for_each(|&i| cancel(i)),
            None => (0..self.slots.len()).for_each(cancel),
        }
        if ret {
            // Propagate the cancellation even with return_exceptions (bpo-32684).
            self.cancel_requested.set(true);
        }
        ret
    }
}

/// `<_GatheringFuture pending>` / `cancelled` / `finished`.
fn describe<R>(outer: &Future<Vec<R>>) -> String {
    let state = if outer.cancelled() {
        "cancelled"
    } else if outer.done() {
        "finished"
    } else {
        "pending"
    };
    format!("<_GatheringFuture {state}>")
}

impl<T: 'static, M: Mode<T>> Waitable for GatherCore<T, M> {
    fn event_loop(&self) -> &EventLoop {
        self.outer.get_loop()
    }
    fn is_done(&self) -> bool {
        self.outer.done()
    }
    fn add_waker(&self, w: Rc<dyn Wake>) {
        self.outer.add_waker(w)
    }
    fn cancel_waitable(self: Rc<Self>, msg: Option<&str>) -> bool {
        Gather::cancel(&*self, msg)
    }
    fn describe(&self) -> String {
        describe(&self.outer)
    }
    fn children(&self) -> Vec<Rc<dyn Waitable>> {
        self.slots
            .iter()
            .filter_map(|s| s.canceller.upgrade())
            .collect()
    }
}

impl<R: 'static> Gathering<R> {
    /// `cancel(msg)`: cancels every child (with `msg`); returns whether any child cancel
    /// succeeded, and then the outer fails with `CancelledError` once the children are done
    /// (it is never `cancelled()` itself). False once the outer is done.
    pub fn cancel(&self, msg: Option<&str>) -> bool {
        self.0.cancel(msg)
    }

    /// Whether the outer future has its results or its error.
    pub fn done(&self) -> bool {
        self.0.outer().done()
    }

    /// Whether the outer future is cancelled: never through [`Gathering::cancel`], which
    /// makes it fail with `CancelledError` instead (as asyncio).
    pub fn cancelled(&self) -> bool {
        self.0.outer().cancelled()
    }

    /// The results in argument order.
    ///
    /// # Errors
    ///
    /// - The first failed child's error (a `CancelledError` for a cancelled child).
    /// - `InvalidStateError("Result is not set.")` while pending.
    pub fn result(&self) -> Result<Vec<R>>
    where
        R: Clone,
    {
        self.0.outer().result()
    }

    /// The error, `None` after success; asyncio's errors while pending.
    pub fn exception(&self) -> Result<Option<anyhow::Error>> {
        self.0.outer().exception()
    }

    /// `add_done_callback` on the outer future.
    pub fn add_done_callback(&self, f: impl FnOnce(&Future<Vec<R>>) + 'static) -> CallbackId {
        self.0.outer().add_done_callback(f)
    }
}

impl<R: 'static> Awaitable for Gathering<R> {
    type Output = Vec<R>;
    fn future(&self) -> &Future<Vec<R>> {
        self.0.outer()
    }
    fn request_cancel(&self, msg: Option<&str>) -> bool {
        self.cancel(msg)
    }
    fn suspend(&self) -> Suspend {
        Suspend(Some(self.0.clone()))
    }
}

impl<R: 'static> fmt::Debug for Gathering<R> {
    /// `<_GatheringFuture pending>` / `finished` (without the exception: reading it here
    /// would mark it retrieved).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&describe(self.0.outer()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_finds_every_repeat_while_growing() {
        // Addresses from a small pool, so many repeat; the table starts at its least size.
        let mut seen = Seen::with_capacity(0);
        let mut known: Vec<usize> = Vec::new();
        let mut x: u64 = 12345;
        for _ in 0..5000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let addr = 8 * (1 + (x >> 33) as usize % 3000);
            let slot = seen.slot(addr, known.len(), |i| known[i]);
            match known.iter().position(|&a| a == addr) {
                Some(i) => assert_eq!(slot, i),
                None => {
                    assert_eq!(slot, known.len());
                    known.push(addr);
                }
            }
        }
        assert!(known.len() > 2000, "the table grew several times");
    }

    #[test]
    fn repeats_from_an_iterator_without_a_size() {
        let lp = EventLoop::new().unwrap();
        let futs: Vec<Future<usize>> = (0..100).map(|_| lp.create_future()).collect();
        // Every future three times, interleaved, through a filter (size hint 0).
        let args = (0..300).map(|i| &futs[(i * 7) % 100]).filter(|_| true);
        let g = gather(args).unwrap();
        for (i, f) in futs.iter().enumerate() {
            f.set_result(i).unwrap();
        }
        let got = lp.run_until_complete(&g).unwrap();
        let want: Vec<usize> = (0..300).map(|i| (i * 7) % 100).collect();
        assert_eq!(got, want);
        lp.close().unwrap();
    }

    #[test]
    fn a_child_done_on_a_closed_loop_is_refused_and_not_kept() {
        let lp = EventLoop::new().unwrap();
        let f = lp.create_future::<Rc<()>>();
        let g = gather([&f]).unwrap();
        lp.close().unwrap();
        let v = Rc::new(());
        let err = f.set_result(v.clone()).unwrap_err();
        assert_eq!(crate::py_repr(&err), "RuntimeError('Event loop is closed')");
        drop(f);
        assert_eq!(
            Rc::strong_count(&v),
            1,
            "the gathering kept the finished child"
        );
        assert!(!g.done());
    }
}
