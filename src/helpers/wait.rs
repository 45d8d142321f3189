//! `asyncio.wait` and `asyncio.as_completed` (layer 8): wait for some of many children.
//!
//! Both work with done callbacks on the children, as CPython's do, so they cost the same loop
//! iterations: a child done in iteration k runs its callback in k+1, which wakes the waiting
//! task in k+2. Neither raises on a timeout nor cancels a child: `wait` returns what is done
//! so far, `as_completed` makes every remaining wait fail with `TimeoutError`.

use std::borrow::Borrow;
use std::cell::{Cell, RefCell};
use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::marker::PhantomData;
use std::rc::{Rc, Weak};
use std::time::Duration;

use anyhow::Result;

use crate::errors::{TimeoutError, ValueError};
use crate::event_loop::{EventLoop, TimerHandle, get_running_loop};
use crate::futures::{Awaitable, CallbackId, Future, FutureCore};
use crate::tasks::TaskCo;

/// When [`wait`] returns (asyncio's `FIRST_COMPLETED`, `FIRST_EXCEPTION`, `ALL_COMPLETED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReturnWhen {
    /// As soon as any child is done (or the timeout passes).
    FirstCompleted,
    /// As soon as any child fails with an exception (a cancelled child does not count), else
    /// when all are done, like `AllCompleted`.
    FirstException,
    /// When every child is done (or the timeout passes).
    #[default]
    AllCompleted,
}

/// Distinct children (Python makes a set of them), in first-seen argument order.
pub(crate) fn distinct<'a, A>(children: impl IntoIterator<Item = &'a A>) -> Vec<&'a A>
where
    A: Awaitable + ?Sized + 'a,
{
    let mut seen = HashSet::new();
    children
        .into_iter()
        .filter(|aw| seen.insert(Rc::as_ptr(&aw.future().0) as *const ()))
        .collect()
}

/// `await asyncio.wait(children, timeout=timeout, return_when=return_when)`: suspends the
/// calling task until `return_when` is met or `timeout` passes, and returns `(done,
/// pending)`: clones of the children, each child once, in argument order (Python returns
/// sets). The timeout raises nothing and cancels nothing; cancelling the waiting task leaves
/// the children alone. No children: `ValueError("Set of Tasks/Futures is empty.")`.
pub fn wait<'a, A>(
    co: &TaskCo,
    children: impl IntoIterator<Item = &'a A>,
    timeout: Option<Duration>,
    return_when: ReturnWhen,
) -> Result<(Vec<A>, Vec<A>)>
where
    A: Awaitable + Clone + 'a,
{
    drive(co, WaitSteps::new(distinct(children), timeout, return_when))
}

/// One step of a helper that waits (`wait`, `wait_for`, a task group's exit, ...): the
/// code between two waits is written once, as [`Steps`], and run by either backend: by
/// [`drive`] in a stackful task, by a stackless delegate in a stackless one.
pub(crate) enum Step<T> {
    /// Suspend until this future is done, then `resume` with the wait's outcome.
    Wait(Future<()>),
    /// Finished with this outcome.
    Done(Result<T>),
}

/// A helper that waits, cut at its waits (see [`Step`]).
pub(crate) trait Steps {
    type Output;
    /// Runs up to the first wait.
    fn start(&mut self) -> Step<Self::Output>;
    /// Goes on after a wait ended with `waited` (`Err(CancelledError)` when the task was
    /// cancelled meanwhile).
    fn resume(&mut self, waited: Result<()>) -> Step<Self::Output>;
}

/// Runs `steps` in a stackful task: each wait is a `co.wait`.
#[inline]
pub(crate) fn drive<S: Steps>(co: &TaskCo, mut steps: S) -> Result<S::Output> {
    let mut step = steps.start();
    loop {
        match step {
            Step::Done(outcome) => return outcome,
            Step::Wait(waiter) => step = steps.resume(co.wait(&waiter)),
        }
    }
}

/// `wait`'s code around its one wait, on children `B` (a `&A` or an owned `A`).
pub(crate) struct WaitSteps<A, B> {
    fs: Vec<B>,
    timeout: Option<Duration>,
    return_when: ReturnWhen,
    timer: Rc<Option<TimerHandle>>,
    ids: Vec<CallbackId>,
    _child: PhantomData<fn() -> A>,
}

impl<A, B> WaitSteps<A, B>
where
    A: Awaitable + Clone,
    B: Borrow<A>,
{
    /// `fs`: the distinct children.
    pub(crate) fn new(fs: Vec<B>, timeout: Option<Duration>, return_when: ReturnWhen) -> Self {
        WaitSteps {
            fs,
            timeout,
            return_when,
            timer: Rc::new(None),
            ids: Vec::new(),
            _child: PhantomData,
        }
    }

    /// Up to the wait: the waiter, the timeout and a done callback on every child.
    fn begin(&mut self) -> Result<Future<()>> {
        if self.fs.is_empty() {
            return Err(ValueError::new("Set of Tasks/Futures is empty.").into());
        }
        let lp = get_running_loop()?;
        let waiter = lp.create_future::<()>();
        self.timer = Rc::new(match self.timeout {
            Some(delay) => {
                let w = waiter.clone();
                Some(lp.call_later(delay, move || release(&w))?)
            }
            None => None,
        });
        let counter = Rc::new(Cell::new(self.fs.len()));
        let return_when = self.return_when;
        self.ids = self
            .fs
            .iter()
            .map(|aw| {
                let (waiter, timer, counter) =
                    (waiter.clone(), self.timer.clone(), counter.clone());
                aw.borrow().future().add_done_callback(move |f| {
                    counter.set(counter.get() - 1);
                    let failed = || !f.cancelled() && matches!(f.exception(), Ok(Some(_)));
                    if counter.get() == 0
                        || return_when == ReturnWhen::FirstCompleted
                        || (return_when == ReturnWhen::FirstException && failed())
                    {
                        if let Some(t) = &*timer {
                            t.cancel();
                        }
                        release(&waiter);
                    }
                })
            })
            .collect();
        Ok(waiter)
    }
}

impl<A, B> Steps for WaitSteps<A, B>
where
    A: Awaitable + Clone,
    B: Borrow<A>,
{
    type Output = (Vec<A>, Vec<A>);

    fn start(&mut self) -> Step<Self::Output> {
        match self.begin() {
            Ok(waiter) => Step::Wait(waiter),
            Err(e) => Step::Done(Err(e)),
        }
    }

    fn resume(&mut self, waited: Result<()>) -> Step<Self::Output> {
        // CPython's `finally`: however the wait ended (even cancelled), stop listening.
        if let Some(t) = &*self.timer {
            t.cancel();
        }
        for (aw, id) in self.fs.iter().zip(std::mem::take(&mut self.ids)) {
            aw.borrow().future().remove_done_callback(id);
        }
        if let Err(e) = waited {
            return Step::Done(Err(e));
        }
        let (done, pending): (Vec<&B>, Vec<&B>) = self
            .fs
            .iter()
            .partition(|aw| (*aw).borrow().future().done());
        let owned = |v: Vec<&B>| v.into_iter().map(|aw| aw.borrow().clone()).collect();
        Step::Done(Ok((owned(done), owned(pending))))
    }
}

/// CPython's `_release_waiter`.
fn release(waiter: &Future<()>) {
    if !waiter.done() {
        let _ = waiter.set_result(());
    }
}

/// A child seen weakly (see `Completion::todo`).
type WeakChild<T> = Weak<FutureCore<T>>;

/// The state `as_completed` shares between the children's callbacks and the waits
/// (CPython's `done` queue and `todo` set).
struct Completion<T: 'static> {
    lp: EventLoop,
    /// Children in completion order; `None` is the timeout's marker.
    done: RefCell<VecDeque<Option<Future<T>>>>,
    /// Waits blocked on an empty queue, woken first come, first served.
    getters: RefCell<VecDeque<Future<()>>>,
    /// Children not done yet, with their callbacks. Weak: the callbacks own this state, so
    /// a strong edge back would be a cycle for a child that never finishes.
    todo: RefCell<Vec<(WeakChild<T>, CallbackId)>>,
    timer: RefCell<Option<TimerHandle>>,
}

impl<T: 'static> Completion<T> {
    /// `_on_completion(f)`.
    fn on_completion(&self, f: &Future<T>) {
        let emptied = {
            let mut todo = self.todo.borrow_mut();
            if todo.is_empty() {
                return; // the timeout came first
            }
            let me = Rc::as_ptr(&f.0);
            todo.retain(|(w, _)| !std::ptr::addr_eq(w.as_ptr(), me));
            todo.is_empty()
        };
        self.put(Some(f.clone()));
        if emptied {
            let timer = self.timer.borrow_mut().take();
            if let Some(t) = timer {
                t.cancel();
            }
        }
    }

    /// `_on_timeout()`: every child still to come becomes a TimeoutError.
    fn on_timeout(&self) {
        let todo = std::mem::take(&mut *self.todo.borrow_mut());
        for (child, id) in todo {
            if let Some(core) = child.upgrade() {
                Future::from_core(core).remove_done_callback(id);
            }
            self.put(None);
        }
    }

    /// `Queue.put_nowait(item)`: queue it and wake the first waiting getter.
    fn put(&self, item: Option<Future<T>>) {
        self.done.borrow_mut().push_back(item);
        self.wake_next();
    }

    /// `Queue._wakeup_next(getters)`.
    fn wake_next(&self) {
        loop {
            let Some(getter) = self.getters.borrow_mut().pop_front() else {
                return;
            };
            if !getter.done() {
                let _ = getter.set_result(());
                return;
            }
        }
    }
}

/// `asyncio.as_completed(children, timeout=timeout)`: an iterator of [`NextDone`] waits, one
/// per distinct child. Each `next.wait(co)` returns the result (or error) of the next child
/// to finish, in completion order, whichever `NextDone` it is called on. Once `timeout` has
/// passed, every wait not yet served fails with `TimeoutError` (the children are not
/// cancelled). Errors only if the loop is closed.
pub fn as_completed<'a, A>(
    children: impl IntoIterator<Item = &'a A>,
    timeout: Option<Duration>,
) -> Result<AsCompleted<A::Output>>
where
    A: Awaitable + ?Sized + 'a,
    A::Output: Clone,
{
    let fs = distinct(children);
    let Some(first) = fs.first() else {
        return Ok(AsCompleted {
            state: None,
            remaining: 0,
        });
    };
    let state = Rc::new(Completion {
        lp: first.future().get_loop().clone(),
        done: RefCell::new(VecDeque::new()),
        getters: RefCell::new(VecDeque::new()),
        todo: RefCell::new(Vec::with_capacity(fs.len())),
        timer: RefCell::new(None),
    });
    for aw in &fs {
        let fut = aw.future();
        let s = state.clone();
        let id = fut.add_done_callback(move |f| s.on_completion(f));
        state.todo.borrow_mut().push((Rc::downgrade(&fut.0), id));
    }
    if let Some(delay) = timeout {
        let weak = Rc::downgrade(&state);
        let timer = state.lp.call_later(delay, move || {
            if let Some(s) = weak.upgrade() {
                s.on_timeout();
            }
        })?;
        *state.timer.borrow_mut() = Some(timer);
    }
    Ok(AsCompleted {
        state: Some(state),
        remaining: fs.len(),
    })
}

/// The iterator [`as_completed`] returns: yields one [`NextDone`] per distinct child.
pub struct AsCompleted<T: 'static> {
    state: Option<Rc<Completion<T>>>,
    remaining: usize,
}

impl<T: 'static> fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}

impl<T: 'static> Iterator for AsCompleted<T> {
    type Item = NextDone<T>;

    fn next(&mut self) -> Option<NextDone<T>> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        self.state.clone().map(NextDone)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<T: 'static> ExactSizeIterator for AsCompleted<T> {}

/// One wait of [`as_completed`] (CPython's `_wait_for_one()` coroutine).
pub struct NextDone<T: 'static>(Rc<Completion<T>>);

impl<T: 'static> fmt::Debug for NextDone<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NextDone").finish_non_exhaustive()
    }
}

impl<T: Clone + 'static> NextDone<T> {
    /// `await f`: suspends the calling task until a child finishes (or the timeout passes)
    /// and returns that child's result or error, or `TimeoutError`.
    pub fn wait(self, co: &TaskCo) -> Result<T> {
        drive(co, NextDoneSteps::new(self))
    }
}

/// `_wait_for_one()` around its waits (a loop: a getter woken finds the queue empty when
/// another wait took the item first).
pub(crate) struct NextDoneSteps<T: 'static> {
    state: Rc<Completion<T>>,
    getter: Option<Future<()>>,
}

impl<T: Clone + 'static> NextDoneSteps<T> {
    pub(crate) fn new(next: NextDone<T>) -> Self {
        NextDoneSteps {
            state: next.0,
            getter: None,
        }
    }
}

impl<T: Clone + 'static> Steps for NextDoneSteps<T> {
    type Output = T;

    fn start(&mut self) -> Step<T> {
        let state = &self.state;
        let next = state.done.borrow_mut().pop_front();
        match next {
            Some(None) => Step::Done(Err(TimeoutError.into())),
            Some(Some(f)) => Step::Done(f.result()),
            None => {
                let getter = state.lp.create_future::<()>();
                state.getters.borrow_mut().push_back(getter.clone());
                self.getter = Some(getter.clone());
                Step::Wait(getter)
            }
        }
    }

    fn resume(&mut self, waited: Result<()>) -> Step<T> {
        let getter = self.getter.take().expect("resumed after a wait");
        if let Err(e) = waited {
            // `Queue.get`'s cleanup: pass a wake-up this getter got on to the next one.
            let state = &self.state;
            getter.cancel(None);
            state
                .getters
                .borrow_mut()
                .retain(|g| !Rc::ptr_eq(&g.0, &getter.0));
            if !state.done.borrow().is_empty() && !getter.cancelled() {
                state.wake_next();
            }
            return Step::Done(Err(e));
        }
        self.start()
    }
}
