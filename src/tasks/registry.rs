//! The loop's tasks: the registry behind `all_tasks` and `current_task` (plain pointers,
//! free slots threaded through it), and the type-erased handles it gives out.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::Location;
use std::ptr::NonNull;
use std::rc::Rc;

use anyhow::Result;

use super::awaiting::WaitSite;
use crate::event_loop::{EventLoop, get_running_loop};
use crate::futures::{Future, Waitable};

/// What the loop keeps per task, type-erased: the registry and `current_task`.
pub(crate) trait TaskAny {
    fn name(&self) -> String;
    fn set_name(&self, name: String);
    fn cancel(&self, msg: Option<&str>) -> bool;
    fn cancelling(&self) -> u32;
    fn uncancel(&self) -> u32;
    fn is_done(&self) -> bool;
    fn is_cancelled(&self) -> bool;
    fn repr(&self) -> String;
    /// The loop closes while this task is pending: report it and unwind its stack.
    fn abandon(&self);
    /// Runs `f` through `call_soon` once the task is done.
    fn on_done(self: Rc<Self>, f: Box<dyn FnOnce()>);
    /// The error the task failed with (retrieving it), `None` otherwise.
    fn exception_if_failed(&self) -> Option<anyhow::Error>;
    /// Where it was created, where it waits and on what, for the task tree.
    fn snapshot(&self) -> TaskSnapshot;
    /// Its loop.
    fn loop_handle(&self) -> EventLoop;
}

/// A pending task as the task tree sees it.
pub(crate) struct TaskSnapshot {
    pub(crate) name: String,
    pub(crate) created: &'static Location<'static>,
    pub(crate) wait_site: Option<WaitSite>,
    pub(crate) waiting_on: Option<Rc<dyn Waitable>>,
}

/// Per-loop task bookkeeping, kept in the loop's extension slot.
#[derive(Default)]
pub(crate) struct Tasks {
    /// The task whose step is running. A plain pointer, so a step costs no reference count:
    /// it is set only while that step runs, and the step holds an `Rc` of the task.
    current: Cell<Option<*const dyn TaskAny>>,
    /// Pending tasks by slot; a free list recycles slots (no hashing per task). Plain
    /// pointers: a task leaves before it is freed (at its end, or first thing in its drop),
    /// so every entry is alive, and no weak count is paid per task.
    registry: RefCell<Registry>,
    hooked: Cell<bool>,
}

/// The registry's slots; the free ones form a list through `Entry::Free`.
#[derive(Default)]
struct Registry {
    slots: Vec<Entry>,
    /// The first free slot, if any.
    free: Option<usize>,
}

enum Entry {
    Task(NonNull<dyn TaskAny>),
    /// A free slot and the next free one.
    Free(Option<usize>),
}

/// A task's slot once it left the registry.
pub(super) const NO_SLOT: usize = usize::MAX;

impl Tasks {
    #[inline]
    pub(super) fn for_loop(lp: &EventLoop) -> Rc<Tasks> {
        let tasks = lp.extension::<Tasks>();
        if !tasks.hooked.get() {
            tasks.hook(lp);
        }
        tasks
    }

    /// On the loop's first task: pending tasks are abandoned when it closes.
    #[cold]
    fn hook(&self, lp: &EventLoop) {
        self.hooked.set(true);
        lp.add_close_hook(|lp| {
            let tasks = lp.extension::<Tasks>();
            for t in tasks.pending() {
                t.abandon();
            }
        });
    }

    pub(super) fn register(&self, t: NonNull<dyn TaskAny>) -> usize {
        let mut reg = self.registry.borrow_mut();
        match reg.free {
            Some(slot) => {
                let Entry::Free(next) = reg.slots[slot] else {
                    unreachable!("the free list holds free slots")
                };
                reg.free = next;
                reg.slots[slot] = Entry::Task(t);
                slot
            }
            None => {
                reg.slots.push(Entry::Task(t));
                reg.slots.len() - 1
            }
        }
    }

    /// Takes the task in `slot` out (once: the caller then forgets the slot).
    pub(super) fn unregister(&self, slot: usize) {
        if slot == NO_SLOT {
            return;
        }
        let mut reg = self.registry.borrow_mut();
        let next = reg.free;
        reg.slots[slot] = Entry::Free(next);
        reg.free = Some(slot);
    }

    fn pending(&self) -> Vec<Rc<dyn TaskAny>> {
        let reg = self.registry.borrow();
        reg.slots
            .iter()
            .filter_map(|e| match e {
                // SAFETY: a registered task is alive (see `registry`); this makes one more
                // strong reference.
                Entry::Task(p) => Some(unsafe {
                    Rc::increment_strong_count(p.as_ptr());
                    Rc::from_raw(p.as_ptr())
                }),
                Entry::Free(_) => None,
            })
            .filter(|t| !t.is_done())
            .collect()
    }
}

/// Restores the previous current task when a step ends, however it ends.
pub(super) struct CurrentGuard<'a> {
    tasks: &'a Tasks,
    prev: Option<*const dyn TaskAny>,
}

#[cfg(test)]
impl Tasks {
    /// Registered tasks and the registry's slot count.
    pub(super) fn counts(&self) -> (usize, usize) {
        let reg = self.registry.borrow();
        let live = reg
            .slots
            .iter()
            .filter(|e| matches!(e, Entry::Task(_)))
            .count();
        (live, reg.slots.len())
    }

    /// Whether a task's step is running.
    pub(super) fn has_current(&self) -> bool {
        self.current.get().is_some()
    }
}

impl<'a> CurrentGuard<'a> {
    /// `task` is the current task until the guard drops.
    pub(super) fn enter(tasks: &'a Tasks, task: *const dyn TaskAny) -> Self {
        let prev = tasks.current.replace(Some(task));
        CurrentGuard { tasks, prev }
    }
}

impl Drop for CurrentGuard<'_> {
    fn drop(&mut self) {
        self.tasks.current.set(self.prev);
    }
}

/// A future or task of any result type: what [`Task::fut_waiter`](super::Task::fut_waiter) returns. `{:?}` is
/// asyncio's repr (`<Future pending cb=[Task.task_wakeup()]>`).
#[derive(Clone)]
pub struct AnyFuture(pub(crate) Rc<dyn Waitable>);

impl AnyFuture {
    /// Whether it is done.
    pub fn done(&self) -> bool {
        self.0.is_done()
    }
    /// `cancel(msg)` (a task's `Task.cancel`).
    pub fn cancel(&self, msg: Option<&str>) -> bool {
        self.0.clone().cancel_waitable(msg)
    }
    /// Whether it is `fut` (Python's `is`); a task's result future is the task.
    pub fn is<T: 'static>(&self, fut: &Future<T>) -> bool {
        std::ptr::addr_eq(Rc::as_ptr(&self.0), Rc::as_ptr(&fut.0))
    }
}

impl fmt::Debug for AnyFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.full_repr())
    }
}

/// A task of any result type: what `current_task` and `all_tasks` return.
#[derive(Clone)]
pub struct AnyTask(pub(crate) Rc<dyn TaskAny>);

impl AnyTask {
    /// The task's name.
    pub fn get_name(&self) -> String {
        self.0.name()
    }
    /// Renames the task.
    pub fn set_name(&self, name: impl fmt::Display) {
        self.0.set_name(name.to_string())
    }
    /// `Task.cancel(msg)`.
    pub fn cancel(&self, msg: Option<&str>) -> bool {
        self.0.cancel(msg)
    }
    /// `Task.cancelling()`.
    pub fn cancelling(&self) -> u32 {
        self.0.cancelling()
    }
    /// `Task.uncancel()`.
    pub fn uncancel(&self) -> u32 {
        self.0.uncancel()
    }
    /// Whether the task finished.
    pub fn done(&self) -> bool {
        self.0.is_done()
    }
    /// Whether the task ended cancelled.
    pub fn cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
    /// Runs `f` through `call_soon` once the task is done.
    pub fn on_done(&self, f: Box<dyn FnOnce()>) {
        self.0.clone().on_done(f)
    }
    /// The error the task failed with (marking it retrieved), `None` otherwise.
    pub fn exception_if_failed(&self) -> Option<anyhow::Error> {
        self.0.exception_if_failed()
    }
    /// Whether both handles name the same task.
    pub fn ptr_eq(&self, other: &AnyTask) -> bool {
        std::ptr::addr_eq(Rc::as_ptr(&self.0), Rc::as_ptr(&other.0))
    }
}

impl fmt::Debug for AnyTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.repr())
    }
}

fn loop_or_running(lp: Option<&EventLoop>) -> Result<EventLoop> {
    match lp {
        Some(lp) => Ok(lp.clone()),
        None => get_running_loop(),
    }
}

/// `asyncio.current_task(loop)`: the task whose step is running, if any. Without a loop it
/// uses the running one.
///
/// # Errors
///
/// `RuntimeError("no running event loop")` for `None` outside a running loop.
pub fn current_task(lp: Option<&EventLoop>) -> Result<Option<AnyTask>> {
    let lp = loop_or_running(lp)?;
    let tasks = lp.extension::<Tasks>();
    Ok(tasks.current.get().map(|p| {
        // SAFETY: `current` points at the task whose step is running, and that step holds
        // an `Rc` of it (see `Tasks::current`); this makes one more.
        unsafe {
            Rc::increment_strong_count(p);
            AnyTask(Rc::from_raw(p))
        }
    }))
}

/// `asyncio.all_tasks(loop)`: the loop's tasks that are not done, in creation order
/// (slots are reused, so the order is only stable while no task finishes).
///
/// # Errors
///
/// `RuntimeError("no running event loop")` for `None` outside a running loop.
pub fn all_tasks(lp: Option<&EventLoop>) -> Result<Vec<AnyTask>> {
    let lp = loop_or_running(lp)?;
    let tasks = lp.extension::<Tasks>();
    Ok(tasks.pending().into_iter().map(AnyTask).collect())
}
