//! asyncio's `Barrier` (3.11).

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;

use anyhow::Result;

use super::condition::{Condition, WaitUntil};
use super::lock;
use crate::errors::{BrokenBarrierError, ErrorExt, GeneratorExit, ValueError};
use crate::futures::Future;
use crate::sync::{Step, WaitOp, repr_head, wait_stackful};
use crate::tasks::TaskCo;

/// A barrier's state (asyncio's `_BarrierState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarrierState {
    /// Tasks are arriving.
    Filling,
    /// The last party arrived; the others are leaving `wait`.
    Draining,
    /// `reset()` was called while tasks waited; they leave with `BrokenBarrierError`.
    Resetting,
    /// `abort()` was called; every `wait` fails until `reset()`.
    Broken,
}

impl BarrierState {
    /// Python's value: `"filling"`, `"draining"`, `"resetting"`, `"broken"`.
    pub fn as_str(self) -> &'static str {
        match self {
            BarrierState::Filling => "filling",
            BarrierState::Draining => "draining",
            BarrierState::Resetting => "resetting",
            BarrierState::Broken => "broken",
        }
    }
}

struct BarrierInner {
    /// Wakes every task when the state changes.
    cond: Condition,
    parties: usize,
    state: Cell<BarrierState>,
    /// Tasks inside `wait` (arrived and not yet left).
    count: Cell<usize>,
}

/// asyncio's `Barrier`: `parties` tasks block in `wait` until the last one arrives, then all
/// leave together, each with a distinct index. Reusable; built on a [`Condition`] exactly as
/// CPython's. Clones are handles to the same barrier.
#[derive(Clone)]
pub struct Barrier(Rc<BarrierInner>);

impl Barrier {
    /// `asyncio.Barrier(parties)`. `ValueError("parties must be > 0")` below 1.
    pub fn new(parties: i64) -> Result<Self> {
        let parties = match usize::try_from(parties) {
            Ok(p) if p > 0 => p,
            _ => return Err(ValueError::new("parties must be > 0").into()),
        };
        Ok(Barrier(Rc::new(BarrierInner {
            cond: Condition::new(),
            parties,
            state: Cell::new(BarrierState::Filling),
            count: Cell::new(0),
        })))
    }

    /// `await barrier.wait()`: blocks until `parties` tasks wait, then returns this task's
    /// arrival index, `0..parties`. Waits first while the previous round drains or resets.
    /// `BrokenBarrierError("Barrier aborted")` on a broken barrier; `BrokenBarrierError("Abort
    /// or reset of barrier")` when it is aborted or reset while waiting.
    #[track_caller]
    pub fn wait(&self, co: &TaskCo) -> Result<usize> {
        wait_stackful(co, self, Wait::new())
    }

    /// `_exit`: the last task out of a draining or resetting round refills the barrier.
    fn exit(&self) {
        let b = &self.0;
        if b.count.get() == 0 {
            if matches!(
                b.state.get(),
                BarrierState::Resetting | BarrierState::Draining
            ) {
                b.state.set(BarrierState::Filling);
            }
            // Only fails without the lock, i.e. while the coroutine is being closed.
            let _ = b.cond.notify_all();
        }
    }

    /// `await barrier.reset()`: back to filling; tasks waiting now get `BrokenBarrierError`.
    #[track_caller]
    pub fn reset(&self, co: &TaskCo) -> Result<()> {
        wait_stackful(co, self, Update::new(Action::Reset))
    }

    /// `await barrier.abort()`: breaks the barrier; waiting and later `wait`s fail with
    /// `BrokenBarrierError` until `reset`.
    #[track_caller]
    pub fn abort(&self, co: &TaskCo) -> Result<()> {
        wait_stackful(co, self, Update::new(Action::Abort))
    }

    /// The number of tasks required to trip the barrier.
    pub fn parties(&self) -> usize {
        self.0.parties
    }

    /// The number of tasks waiting while it fills (0 otherwise).
    pub fn n_waiting(&self) -> usize {
        if self.0.state.get() == BarrierState::Filling {
            self.0.count.get()
        } else {
            0
        }
    }

    /// Whether the barrier is broken.
    pub fn broken(&self) -> bool {
        self.0.state.get() == BarrierState::Broken
    }

    /// The current state.
    pub fn state(&self) -> BarrierState {
        self.0.state.get()
    }
}

/// `async with self._cond:` around a barrier method's body: the lock's release on every way
/// out, with `scoped`'s rule (an error from the release replaces the body's outcome, except
/// while the coroutine is being closed).
fn leave_scope<T>(b: &Barrier, out: Result<T>) -> Step<T> {
    let exited = b.0.cond.release();
    Step::Done(match (out, exited) {
        (Err(e), _) if e.isinstance::<GeneratorExit>() => Err(e),
        (_, Err(e)) => Err(e),
        (out, Ok(())) => out,
    })
}

/// `barrier.wait()`, shared by [`Barrier::wait`] and its stackless form: the lock, `_block`,
/// then either the trip or `_wait`, then `_exit`, as CPython's.
pub(crate) struct Wait(WaitPhase);

enum WaitPhase {
    /// `async with self._cond`.
    Enter,
    /// `_block`: waiting while the barrier drains or resets.
    Block(WaitUntil),
    /// `_wait`: arrived as `index`, waiting for the end of filling.
    Released(WaitUntil, usize),
}

impl Wait {
    pub(crate) fn new() -> Self {
        Wait(WaitPhase::Enter)
    }

    /// `_block`'s `wait_for`, from its (re)check.
    fn block(&mut self, b: &Barrier, until: WaitUntil, step: Step<()>) -> Step<usize> {
        match step {
            Step::Wait(fut, what) => {
                self.0 = WaitPhase::Block(until);
                Step::Wait(fut, what)
            }
            Step::Done(Err(e)) => leave_scope(b, Err(e)),
            Step::Done(Ok(())) => self.arrive(b),
        }
    }

    /// Past `_block`: fails on a broken barrier, else takes an index and trips or waits.
    fn arrive(&mut self, b: &Barrier) -> Step<usize> {
        let inner = &b.0;
        if inner.state.get() == BarrierState::Broken {
            return leave_scope(b, Err(BrokenBarrierError::with_message("Barrier aborted")));
        }
        let index = inner.count.get();
        inner.count.set(index + 1);
        if index + 1 == inner.parties {
            // The last party releases everyone: the round starts draining.
            inner.state.set(BarrierState::Draining);
            let waited = inner.cond.notify_all();
            return Self::leave(b, index, waited);
        }
        let mut until = WaitUntil::new();
        let step = until.begin(&inner.cond, &mut || released(b));
        self.released(b, until, index, step)
    }

    /// `_wait`'s `wait_for`, from its (re)check.
    fn released(
        &mut self,
        b: &Barrier,
        until: WaitUntil,
        index: usize,
        step: Step<()>,
    ) -> Step<usize> {
        match step {
            Step::Wait(fut, what) => {
                self.0 = WaitPhase::Released(until, index);
                Step::Wait(fut, what)
            }
            Step::Done(Err(e)) => Self::leave(b, index, Err(e)),
            Step::Done(Ok(())) => {
                let waited = if matches!(
                    b.0.state.get(),
                    BarrierState::Broken | BarrierState::Resetting
                ) {
                    Err(BrokenBarrierError::with_message(
                        "Abort or reset of barrier",
                    ))
                } else {
                    Ok(())
                };
                Self::leave(b, index, waited)
            }
        }
    }

    /// CPython's `finally`: leave, whatever happened.
    fn leave(b: &Barrier, index: usize, waited: Result<()>) -> Step<usize> {
        b.0.count.set(b.0.count.get() - 1);
        b.exit();
        leave_scope(b, waited.map(|()| index))
    }
}

/// `_block`'s predicate: not draining or resetting.
fn unblocked(b: &Barrier) -> bool {
    !matches!(
        b.0.state.get(),
        BarrierState::Draining | BarrierState::Resetting
    )
}

/// `_wait`'s predicate: filling is over.
fn released(b: &Barrier) -> bool {
    b.0.state.get() != BarrierState::Filling
}

impl WaitOp<Barrier> for Wait {
    type Output = usize;

    fn begin(&mut self, b: &Barrier) -> Step<usize> {
        match lock::Acquire.begin(b.0.cond.lock()) {
            Step::Done(Ok(_)) => {
                let mut until = WaitUntil::new();
                let step = until.begin(&b.0.cond, &mut || unblocked(b));
                self.block(b, until, step)
            }
            other => other.map(|_| 0),
        }
    }

    fn resume(&mut self, b: &Barrier, fut: Future<()>, waited: Result<()>) -> Step<usize> {
        match std::mem::replace(&mut self.0, WaitPhase::Enter) {
            WaitPhase::Enter => match lock::Acquire.resume(b.0.cond.lock(), fut, waited) {
                Step::Done(Ok(_)) => {
                    let mut until = WaitUntil::new();
                    let step = until.begin(&b.0.cond, &mut || unblocked(b));
                    self.block(b, until, step)
                }
                other => other.map(|_| 0),
            },
            WaitPhase::Block(mut until) => {
                let step = until.resume(&b.0.cond, fut, waited, &mut || unblocked(b));
                self.block(b, until, step)
            }
            WaitPhase::Released(mut until, index) => {
                let step = until.resume(&b.0.cond, fut, waited, &mut || released(b));
                self.released(b, until, index, step)
            }
        }
    }
}

/// What `reset` and `abort` do with the lock held.
#[derive(Clone, Copy)]
pub(crate) enum Action {
    Reset,
    Abort,
}

/// `barrier.reset()` / `barrier.abort()`, shared by both forms: the lock, then the change.
pub(crate) struct Update(Action);

impl Update {
    pub(crate) fn new(action: Action) -> Self {
        Update(action)
    }

    fn apply(&self, b: &Barrier) -> Step<()> {
        let inner = &b.0;
        match self.0 {
            Action::Reset if inner.count.get() > 0 => inner.state.set(BarrierState::Resetting),
            Action::Reset => inner.state.set(BarrierState::Filling),
            Action::Abort => inner.state.set(BarrierState::Broken),
        }
        leave_scope(b, inner.cond.notify_all())
    }
}

impl WaitOp<Barrier> for Update {
    type Output = ();

    fn begin(&mut self, b: &Barrier) -> Step<()> {
        match lock::Acquire.begin(b.0.cond.lock()) {
            Step::Done(Ok(_)) => self.apply(b),
            other => other.map(drop),
        }
    }

    fn resume(&mut self, b: &Barrier, fut: Future<()>, waited: Result<()>) -> Step<()> {
        match lock::Acquire.resume(b.0.cond.lock(), fut, waited) {
            Step::Done(Ok(_)) => self.apply(b),
            other => other.map(drop),
        }
    }
}

/// Python's repr: `<tulip.locks.Barrier object at 0x... [filling, waiters:1/3]>`.
impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut extra = self.state().as_str().to_string();
        if !self.broken() {
            extra.push_str(&format!(
                ", waiters:{}/{}",
                self.n_waiting(),
                self.parties()
            ));
        }
        write!(f, "<{} [{extra}]>", repr_head("Barrier", &self.0))
    }
}
