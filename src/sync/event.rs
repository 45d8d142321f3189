//! asyncio's `Event`.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use anyhow::Result;

use crate::futures::Future;
use crate::sync::{
    LoopBinding, Step, WaitOp, Waiters, queue_waiter, remove_waiter, repr_head, wait_stackful,
    waiters_suffix,
};
use crate::tasks::{TaskCo, WaitKind};

struct EventInner {
    value: Cell<bool>,
    waiters: Waiters,
    binding: LoopBinding,
}

/// asyncio's `Event`: a flag that tasks wait for. `set()` wakes every waiter; waiting on a set
/// event returns at once. Clones are handles to the same event.
#[derive(Clone)]
pub struct Event(Rc<EventInner>);

impl Default for Event {
    fn default() -> Self {
        Self::new()
    }
}

impl Event {
    /// `asyncio.Event()`: not set.
    pub fn new() -> Self {
        Event(Rc::new(EventInner {
            value: Cell::new(false),
            waiters: RefCell::default(),
            binding: LoopBinding::default(),
        }))
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        self.0.value.get()
    }

    /// Sets the flag and wakes every waiter (each one's task runs in registration order).
    pub fn set(&self) {
        if self.0.value.replace(true) {
            return;
        }
        let waiters: Vec<Future<()>> = self.0.waiters.borrow().iter().cloned().collect();
        for fut in waiters {
            if !fut.done() {
                let _ = fut.set_result(());
            }
        }
    }

    /// Clears the flag: later `wait`s block until the next `set`. A waiter already woken
    /// still returns `true` (as in asyncio).
    pub fn clear(&self) {
        self.0.value.set(false);
    }

    /// `await event.wait()`: returns `true` once the flag is set (at once if it is).
    #[track_caller]
    pub fn wait(&self, co: &TaskCo) -> Result<bool> {
        if self.0.value.get() {
            return Ok(true); // set: no wait (checked again by `Wait`, which decides)
        }
        wait_stackful(co, self, Wait)
    }
}

/// `event.wait()`, shared by [`Event::wait`] and its stackless form.
pub(crate) struct Wait;

impl WaitOp<Event> for Wait {
    type Output = bool;

    #[inline]
    fn begin(&mut self, event: &Event) -> Step<bool> {
        if event.0.value.get() {
            return Step::Done(Ok(true));
        }
        match queue_waiter(&event.0.binding, &event.0.waiters, || format!("{event:?}")) {
            Ok(fut) => Step::Wait(fut, WaitKind::EventWait),
            Err(e) => Step::Done(Err(e)),
        }
    }

    #[inline(always)] // into the stackful method, as when it was written there
    fn resume(&mut self, event: &Event, fut: Future<()>, waited: Result<()>) -> Step<bool> {
        remove_waiter(&event.0.waiters, &fut);
        Step::Done(waited.map(|()| true))
    }
}

/// Python's repr: `<tulip.locks.Event object at 0x... [unset, waiters:2]>`.
impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.is_set() { "set" } else { "unset" };
        write!(
            f,
            "<{} [{state}{}]>",
            repr_head("Event", &self.0),
            waiters_suffix(&self.0.waiters)
        )
    }
}
