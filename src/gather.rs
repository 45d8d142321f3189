//! `asyncio.gather` (layer 8): one future for the results of many, in argument order.
//!
//! As in CPython, each distinct child gets one done callback; the callbacks fill the outer
//! future, so a child done in loop iteration k resolves the outer in k+1 and wakes its
//! awaiters in k+2 (R11). Without `return_exceptions` ([`gather`]) the first failure (or a
//! cancelled child, as `CancelledError`) fails the outer at once and the other children keep
//! running; with it ([`gather_settled`]) every outcome becomes an entry.
//!
//! Ownership: the children's callbacks own the gathering, the gathering only points weakly at
//! its children (to cancel them). So no reference cycle is made, even when a child never
//! finishes; the price is that a child nobody else holds (a future created inline and never
//! resolved) is dropped instead of being kept alive by the gathering.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::{Rc, Weak};

use anyhow::Result;

use crate::errors::{CancelledError, ErrorExt, SharedError, ValueError};
use crate::event_loop::{EventLoop, get_running_loop};
use crate::futures::{Awaitable, CallbackId, Future, Suspend, Waitable, Wake};

/// The state behind a [`Gathering`], shared by the handle and the children's callbacks.
struct GatherCore<R: 'static> {
    outer: Future<Vec<R>>,
    /// One entry per argument (duplicates included, as CPython's `_children`), for `cancel`.
    children: Vec<Weak<dyn Waitable>>,
    /// Argument position -> slot of its distinct child.
    index: Vec<usize>,
    /// One result per distinct child, filled as they finish (so the children need not be
    /// kept alive to read their results at the end).
    slots: RefCell<Vec<Option<R>>>,
    /// How many distinct children there are.
    nfuts: usize,
    nfinished: Cell<usize>,
    cancel_requested: Cell<bool>,
    /// CPython's `children[-1]._make_cancelled_error()`: the error the outer fails with when
    /// it was cancelled and every child has finished.
    last_cancelled: Box<dyn Fn() -> anyhow::Error>,
}

/// The outer future of [`gather`] / [`gather_settled`] (asyncio's `_GatheringFuture`): await
/// it with `co.wait(&g)`, or read it with [`Gathering::result`] once done. A cheap clonable
/// handle.
///
/// Its [`cancel`](Gathering::cancel) cancels the children, not the outer future itself; a
/// task waiting on it forwards `Task.cancel` there. (Calling `cancel` on
/// [`future()`](Awaitable::future) instead would be the plain `Future.cancel`, which asyncio's
/// gathering overrides: don't.)
pub struct Gathering<R: 'static>(Rc<GatherCore<R>>);

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
pub fn gather<'a, A>(children: impl IntoIterator<Item = &'a A>) -> Result<Gathering<A::Output>>
where
    A: Awaitable + ?Sized + 'a,
    A::Output: Clone,
{
    build(children, false, |f: &Future<A::Output>| {
        f.result().expect("called only for a child that returned")
    })
}

/// `asyncio.gather(*children, return_exceptions=True)`: like [`gather`], but waits for every
/// child and reports each outcome as an entry: `Ok(value)`, or `Err` with the child's error
/// (a cancelled child gives `CancelledError(msg)`, with `''` when it had no message, as
/// CPython). If the gathering itself was cancelled, it fails with `CancelledError` anyway.
pub fn gather_settled<'a, A>(
    children: impl IntoIterator<Item = &'a A>,
) -> Result<Gathering<Result<A::Output, SharedError>>>
where
    A: Awaitable + ?Sized + 'a,
    A::Output: Clone,
{
    build(children, true, settle)
}

/// One child's outcome as a `return_exceptions=True` entry.
fn settle<T: Clone + 'static>(f: &Future<T>) -> Result<T, SharedError> {
    if f.cancelled() {
        let msg = f.cancel_message().unwrap_or_default();
        return Err(SharedError::new(CancelledError::new(Some(msg)).into()));
    }
    match f.exception() {
        Ok(Some(e)) => Err(share(e)),
        _ => Ok(f.result().expect("a finished child has a result")),
    }
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

/// Hashes the children's addresses for de-duplication: one multiply spreads a pointer's
/// bits well enough, and SipHash cost 10% of a batch of 1000 spawned tasks.
#[derive(Default)]
struct PtrHasher(u64);

impl Hasher for PtrHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0 ^ n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn finish(&self) -> u64 {
        // The high bits got the most mixing; hashbrown takes its control bits from the top.
        self.0.rotate_left(32)
    }
}

fn build<'a, A, R>(
    children: impl IntoIterator<Item = &'a A>,
    settled: bool,
    convert: fn(&Future<A::Output>) -> R,
) -> Result<Gathering<R>>
where
    A: Awaitable + ?Sized + 'a,
    R: Clone + 'static,
{
    let mut lp: Option<EventLoop> = None;
    let mut distinct: Vec<Future<A::Output>> = Vec::new();
    let children = children.into_iter();
    let mut seen: HashMap<*const (), usize, BuildHasherDefault<PtrHasher>> =
        HashMap::with_capacity_and_hasher(children.size_hint().0, Default::default());
    let mut cancellers: Vec<Weak<dyn Waitable>> = Vec::new();
    let mut index = Vec::new();
    for aw in children {
        let fut = aw.future();
        match &lp {
            None => lp = Some(fut.get_loop().clone()),
            Some(l) if l != fut.get_loop() => {
                return Err(ValueError::new(
                    "The future belongs to a different loop than the one specified as the loop argument",
                )
                .into());
            }
            Some(_) => {}
        }
        // A task cancels as a task (its core), anything else as its future.
        let canceller: Rc<dyn Waitable> = match aw.suspend().0 {
            Some(w) => w,
            None => fut.waitable(),
        };
        cancellers.push(Rc::downgrade(&canceller));
        let key = Rc::as_ptr(&fut.0) as *const ();
        let slot = *seen.entry(key).or_insert_with(|| {
            distinct.push(fut.clone());
            distinct.len() - 1
        });
        index.push(slot);
    }
    let lp = match lp {
        Some(lp) => lp,
        None => get_running_loop()?,
    };
    let outer = Future::new(&lp);
    outer.set_kind(crate::futures::Kind::Gathering);
    if distinct.is_empty() {
        outer.set_result(Vec::new())?;
    }
    let last = distinct.last().map(|f| Rc::downgrade(&f.0));
    let core = Rc::new(GatherCore {
        outer,
        children: cancellers,
        index,
        slots: RefCell::new(vec![None; distinct.len()]),
        nfuts: distinct.len(),
        nfinished: Cell::new(0),
        cancel_requested: Cell::new(false),
        last_cancelled: Box::new(move || match last.as_ref().and_then(Weak::upgrade) {
            Some(core) => make_cancelled_error(&Future::from_core(core)),
            None => CancelledError::new(None).into(),
        }),
    });
    for (slot, fut) in distinct.iter().enumerate() {
        let core = core.clone();
        fut.add_done_callback(move |f| core.child_done(slot, f, settled, convert));
    }
    Ok(Gathering(core))
}

impl<R: Clone + 'static> GatherCore<R> {
    /// CPython's `_done_callback` for one distinct child.
    fn child_done<T: 'static>(
        &self,
        slot: usize,
        fut: &Future<T>,
        settled: bool,
        convert: fn(&Future<T>) -> R,
    ) {
        self.nfinished.set(self.nfinished.get() + 1);
        if self.outer.done() {
            if !fut.cancelled() {
                // Mark the exception retrieved: the outer already reported one.
                let _ = fut.exception();
            }
            return;
        }
        if !settled {
            if fut.cancelled() {
                let _ = self.outer.set_exception(make_cancelled_error(fut));
                return;
            }
            if let Ok(Some(e)) = fut.exception() {
                let _ = self.outer.set_exception(e);
                return;
            }
        }
        // Converting clones the value (user code): no borrow is held meanwhile.
        let entry = convert(fut);
        self.slots.borrow_mut()[slot] = Some(entry);
        if self.nfinished.get() < self.nfuts {
            return;
        }
        let slots = std::mem::take(&mut *self.slots.borrow_mut());
        let results: Vec<R> = self
            .index
            .iter()
            .map(|&i| slots[i].clone().expect("every child finished"))
            .collect();
        if self.cancel_requested.get() {
            // Cancelled while finishing: propagate the cancellation whatever the mode.
            let _ = self.outer.set_exception((self.last_cancelled)());
        } else {
            let _ = self.outer.set_result(results);
        }
    }
}

impl<R: 'static> GatherCore<R> {
    fn cancel(&self, msg: Option<&str>) -> bool {
        if self.outer.done() {
            return false;
        }
        let mut ret = false;
        for child in &self.children {
            if let Some(child) = child.upgrade()
                && child.cancel_waitable(msg)
            {
                ret = true;
            }
        }
        if ret {
            // Propagate the cancellation even with return_exceptions (bpo-32684).
            self.cancel_requested.set(true);
        }
        ret
    }

    fn describe(&self) -> String {
        let state = if self.outer.cancelled() {
            "cancelled"
        } else if self.outer.done() {
            "finished"
        } else {
            "pending"
        };
        format!("<_GatheringFuture {state}>")
    }
}

impl<R: 'static> Waitable for GatherCore<R> {
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
        self.cancel(msg)
    }
    fn describe(&self) -> String {
        GatherCore::describe(self)
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
        self.0.outer.done()
    }

    /// Whether the outer future is cancelled: never through [`Gathering::cancel`], which
    /// makes it fail with `CancelledError` instead (as asyncio).
    pub fn cancelled(&self) -> bool {
        self.0.outer.cancelled()
    }

    /// The results in argument order, or the error; asyncio's errors while pending.
    pub fn result(&self) -> Result<Vec<R>>
    where
        R: Clone,
    {
        self.0.outer.result()
    }

    /// The error, `None` after success; asyncio's errors while pending.
    pub fn exception(&self) -> Result<Option<anyhow::Error>> {
        self.0.outer.exception()
    }

    /// `add_done_callback` on the outer future.
    pub fn add_done_callback(&self, f: impl FnOnce(&Future<Vec<R>>) + 'static) -> CallbackId {
        self.0.outer.add_done_callback(f)
    }
}

impl<R: 'static> Awaitable for Gathering<R> {
    type Output = Vec<R>;
    fn future(&self) -> &Future<Vec<R>> {
        &self.0.outer
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
        f.write_str(&self.0.describe())
    }
}
