//! asyncio's `Barrier` (3.11).

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;

use anyhow::Result;

use super::condition::Condition;
use crate::errors::{BrokenBarrierError, ValueError};
use crate::sync::repr_head;
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
    pub fn wait(&self, co: &TaskCo) -> Result<usize> {
        let b = &self.0;
        b.cond.with(co, |co| {
            self.block(co)?;
            let index = b.count.get();
            b.count.set(index + 1);
            let waited = if index + 1 == b.parties {
                // The last party releases everyone: the round starts draining.
                b.state.set(BarrierState::Draining);
                b.cond.notify_all()
            } else {
                self.wait_released(co)
            };
            // CPython's `finally`: leave, whatever happened.
            b.count.set(b.count.get() - 1);
            self.exit();
            waited.map(|()| index)
        })
    }

    /// `_block`: waits while the barrier drains or resets; fails if it is broken.
    fn block(&self, co: &TaskCo) -> Result<()> {
        let b = &self.0;
        b.cond.wait_for(co, || {
            !matches!(
                b.state.get(),
                BarrierState::Draining | BarrierState::Resetting
            )
        })?;
        if b.state.get() == BarrierState::Broken {
            return Err(BrokenBarrierError::with_message("Barrier aborted"));
        }
        Ok(())
    }

    /// `_wait`: waits for the end of filling; fails if the barrier was reset or broken.
    fn wait_released(&self, co: &TaskCo) -> Result<()> {
        let b = &self.0;
        b.cond
            .wait_for(co, || b.state.get() != BarrierState::Filling)?;
        if matches!(
            b.state.get(),
            BarrierState::Broken | BarrierState::Resetting
        ) {
            return Err(BrokenBarrierError::with_message(
                "Abort or reset of barrier",
            ));
        }
        Ok(())
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
    pub fn reset(&self, co: &TaskCo) -> Result<()> {
        let b = &self.0;
        b.cond.with(co, |_| {
            if b.count.get() > 0 {
                b.state.set(BarrierState::Resetting);
            } else {
                b.state.set(BarrierState::Filling);
            }
            b.cond.notify_all()
        })
    }

    /// `await barrier.abort()`: breaks the barrier; waiting and later `wait`s fail with
    /// `BrokenBarrierError` until `reset`.
    pub fn abort(&self, co: &TaskCo) -> Result<()> {
        let b = &self.0;
        b.cond.with(co, |_| {
            b.state.set(BarrierState::Broken);
            b.cond.notify_all()
        })
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
