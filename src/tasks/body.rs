//! What a task steps: a coroutine of either backend, behind one small interface.
//!
//! The stackful variant comes first and, without the `nightly` feature, is the only one:
//! the enum is then a plain wrapper and a step costs what it did before.

use anyhow::Result;

use crate::futures::Suspend;
use crate::generator::GeneratorState;

use super::Coroutine;

/// A task's coroutine.
pub(crate) enum TaskBody<T: 'static> {
    /// A stackful generator (`create_task`, `create_task_from`).
    Stackful(Coroutine<T>),
    /// A stackless generator on a nightly coroutine (`create_task_stackless`).
    #[cfg(feature = "nightly")]
    Stackless(crate::generator::stackless::Generator<Suspend, (), T>),
}

impl<T: 'static> TaskBody<T> {
    /// `coro.send(None)`.
    #[inline(always)]
    pub(crate) fn send(&self) -> Result<GeneratorState<Suspend, T>> {
        match self {
            TaskBody::Stackful(g) => g.send(()),
            #[cfg(feature = "nightly")]
            TaskBody::Stackless(g) => g.send(()),
        }
    }

    /// Whether the coroutine has begun.
    #[cfg(test)]
    pub(crate) fn is_started(&self) -> bool {
        match self {
            TaskBody::Stackful(g) => g.is_started(),
            #[cfg(feature = "nightly")]
            TaskBody::Stackless(g) => g.is_started(),
        }
    }

    /// `coro.throw(exc)`.
    #[inline]
    pub(crate) fn throw(&self, exc: anyhow::Error) -> Result<GeneratorState<Suspend, T>> {
        match self {
            TaskBody::Stackful(g) => g.throw(exc),
            #[cfg(feature = "nightly")]
            TaskBody::Stackless(g) => g.throw(exc),
        }
    }
}
