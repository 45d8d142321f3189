//! A task's step (asyncio's `Task.__step`): resume the coroutine or throw into it, then act
//! on what it yielded; and cancellation, delivered at the await or at the next step.

use std::rc::Rc;

use super::TaskCore;
use super::awaiting::WAIT_SITE;
use super::registry::{CurrentGuard, NO_SLOT, TaskAny};
use crate::callbacks::{Callable, Subject};
use crate::contextvars;
use crate::errors::{CancelledError, ErrorExt, RuntimeError};
use crate::event_loop::EventLoop;
use crate::futures::{Future, Park, Suspend, Waitable, Wake};
use crate::generator::GeneratorState;

impl<T: 'static> TaskCore<T> {
    /// This task seen as its result future (same allocation).
    pub(super) fn handle(self: &Rc<Self>) -> Future<T> {
        Future::from_core(self.clone())
    }

    /// One step: resume the coroutine (or throw into it), then act on what it yielded.
    pub(super) fn step(self: Rc<Self>) {
        // A task is done only after its coroutine is gone (`finish`), so one test covers both.
        if self.tail.coro.borrow().is_none() {
            return;
        }
        debug_assert!(
            !self.done(),
            "a task that still has its coroutine is pending"
        );
        let mut exc = self.tail.read_cold(|c| c.pending_exc.take()).flatten();
        if self.tail.must_cancel.replace(false)
            && !exc
                .as_ref()
                .is_some_and(|e| e.isinstance::<CancelledError>())
        {
            exc = Some(CancelledError::new(self.tail.cancel_msg()).into());
        }
        self.tail.fut_waiter.set(None);

        let me: *const dyn TaskAny = Rc::as_ptr(&self) as *const TaskCore<T>;
        let _current = CurrentGuard::enter(&self.tail.tasks, me);
        let resume = || {
            // A shared borrow only: the body may cancel this task, which never touches `coro`.
            let coro = self.tail.coro.borrow();
            let c = coro.as_ref().expect("checked above");
            match exc {
                None => c.send(),
                Some(e) => c.throw(e),
            }
        };
        let outcome = if contextvars::in_use() {
            // The step runs in the task's context (one load when context variables are
            // never used).
            contextvars::run_swapped(&self.tail.context, resume)
        } else {
            let out = resume();
            if contextvars::in_use() {
                // The body made the first context variable: what it set is the task's.
                contextvars::adopt(&self.tail.context);
            }
            out
        };
        drop(_current);

        match outcome {
            Ok(GeneratorState::Yielded(Suspend(None))) => {
                // A bare yield: the next step reuses this `Rc` (no count up and down).
                let lp: *const EventLoop = self.event_loop();
                // SAFETY: `lp` is a field of the task, which the closure keeps alive by
                // owning `self`; moving the `Rc` does not move the task.
                let _ = unsafe { &*lp }.schedule_callable(Step(self));
            }
            Ok(GeneratorState::Yielded(Suspend(Some(w)))) => self.wait_for(w),
            Ok(GeneratorState::Returned(v)) => {
                self.finish();
                if self.tail.must_cancel.replace(false) {
                    // Cancelled right before the body returned: cancel wins.
                    let msg = self.tail.cancel_msg();
                    self.handle().cancel(msg.as_deref());
                } else {
                    let _ = self.handle().set_result(v);
                }
            }
            Err(e) => {
                self.finish();
                match e.exc::<CancelledError>() {
                    Some(c) => {
                        let _ = self.handle().cancel_with(c.clone());
                    }
                    None => {
                        let e = self.cancel_context(e);
                        if crate::errors::leaves_the_loop(&e) {
                            return self.escape(e);
                        }
                        let _ = self.handle().set_exception(e);
                    }
                }
            }
        }
    }

    /// A task being cancelled failed with another error: the body was handling the
    /// `CancelledError` its wait raised, which becomes the error's `__context__` (a
    /// `CancelledError` thrown in by a step has been recorded by the coroutine already).
    #[cold]
    pub(super) fn cancel_context(&self, e: anyhow::Error) -> anyhow::Error {
        if self.tail.num_cancels.get() == 0 || crate::errors::context(&e).is_some() {
            return e;
        }
        let msg = self
            .tail
            .read_cold(|c| c.waiter_cancel_msg.take())
            .flatten();
        let msg = msg.map(String::from);
        crate::errors::with_context(e, CancelledError::new(msg).into())
    }

    /// The coroutine yielded a future: wake up when it is done (asyncio's checks first).
    pub(super) fn wait_for(self: Rc<Self>, w: Rc<dyn Waitable>) {
        // Set by the `co.wait` that suspended the body (none for a bare `co.yield_`).
        self.tail.wait_site.set(WAIT_SITE.take());
        let me = Rc::as_ptr(&self) as *const ();
        match w.park(self.event_loop(), me, self.clone()) {
            Park::Parked => {}
            Park::OtherLoop => {
                let msg = format!(
                    "Task {} got Future {} attached to a different loop",
                    self.repr(),
                    w.describe()
                );
                return self.retry_with(msg);
            }
            Park::OwnTask => {
                let msg = format!("Task cannot await on itself: {}", self.repr());
                return self.retry_with(msg);
            }
        }
        if !self.tail.must_cancel.get() {
            self.tail.fut_waiter.set(Some(w));
            return;
        }
        self.tail.fut_waiter.set(Some(w.clone()));
        let msg = self.tail.cancel_msg();
        if w.cancel_waitable(msg.as_deref()) {
            self.tail.must_cancel.set(false);
        }
    }

    /// asyncio's `Task.__step` for `SystemExit` and `KeyboardInterrupt`: the task fails with
    /// the error, and the error leaves the loop (`run_forever` returns it at once).
    #[cold]
    pub(super) fn escape(self: Rc<Self>, e: anyhow::Error) {
        let shared = crate::errors::SharedError::new(e);
        let _ = self.handle().set_exception(shared.to_error());
        drop(self);
        // Not a panic: the batch runner takes it back and returns the error (no hook runs).
        std::panic::resume_unwind(Box::new(crate::callbacks::Escape(shared.into_error())));
    }

    /// A bad await: the RuntimeError is thrown in at the next step.
    #[cold]
    pub(super) fn retry_with(self: Rc<Self>, msg: String) {
        self.tail
            .cold(|c| c.pending_exc = Some(RuntimeError::new(msg).into()));
        let lp = self.event_loop().clone();
        let _ = lp.schedule_callable(Step(self));
    }

    /// The body ended: free its stack and leave the registry.
    pub(super) fn finish(&self) {
        let coro = self.tail.coro.borrow_mut().take();
        drop(coro);
        self.tail.tasks.unregister(self.tail.slot.replace(NO_SLOT));
    }

    pub(super) fn cancel(&self, msg: Option<&str>) -> bool {
        self.clear_log_traceback();
        if self.done() {
            return false;
        }
        self.tail.num_cancels.set(self.tail.num_cancels.get() + 1);
        // Cells hold no borrow: take the waiter out, look at it, put it back.
        let waiter = self.tail.fut_waiter.take();
        self.tail.fut_waiter.set(waiter.clone());
        if let Some(w) = waiter
            && w.cancel_waitable(msg)
        {
            self.tail
                .set_cold(msg.map(Box::from), |c| &mut c.waiter_cancel_msg);
            // Keep the waiter: a task that swallows the cancel may need another one.
            return true;
        }
        self.tail.must_cancel.set(true);
        self.tail.set_cancel_msg(msg);
        true
    }
}

impl<T: 'static> Subject for TaskCore<T> {
    fn subject_repr(&self) -> String {
        self.repr()
    }
}

impl<T: 'static> Wake for TaskCore<T> {
    fn wake(self: Rc<Self>) {
        self.step()
    }
    fn subject(self: Rc<Self>) -> Option<Rc<dyn Subject>> {
        Some(self)
    }
}

/// A scheduled task step: one word, as the `move || task.step()` closure it replaces, but it
/// can say which task it steps (debug mode's slow-callback report).
pub(super) struct Step<T: 'static>(pub(super) Rc<TaskCore<T>>);

impl<T: 'static> Callable for Step<T> {
    fn name(&self) -> &'static str {
        "Task.__step"
    }
    #[inline]
    fn call(self) {
        self.0.step()
    }
    fn subject(&self) -> Option<Rc<dyn Subject>> {
        Some(self.0.clone())
    }
}
