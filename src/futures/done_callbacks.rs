//! A future's done callbacks: the user's (boxed with a name, removable by [`CallbackId`]),
//! a task's wake-up and a combinator's per-child callback, the first one stored inline.

use std::cell::Cell;
use std::rc::Rc;

use super::{ChildDone, Future, Wake};
use crate::callbacks::Callable;

/// Identifies one done-callback registration, for [`Future::remove_done_callback`].
/// (Rust closures have no identity, so registering returns one; ids are unique per thread.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallbackId(u64);

thread_local! {
    static NEXT_CALLBACK_ID: Cell<u64> = const { Cell::new(0) };
}

impl CallbackId {
    pub(super) fn next() -> Self {
        CallbackId(NEXT_CALLBACK_ID.with(|n| n.replace(n.get() + 1)))
    }
}

/// A user's done callback, boxed with its name (the box's vtable gives it: no extra word).
pub(crate) trait DoneFn<T: 'static> {
    /// Runs it.
    fn call(self: Box<Self>, fut: &Future<T>);
    /// Its name (a type name), for reprs and reports.
    fn name(&self) -> &'static str;
}

/// A closure as a [`DoneFn`], named by its type, or by the name given (tulip's own).
pub(super) struct Named<F> {
    pub(super) f: F,
    pub(super) name: Option<&'static str>,
}

impl<T: 'static, F: FnOnce(&Future<T>) + 'static> DoneFn<T> for Named<F> {
    fn call(self: Box<Self>, fut: &Future<T>) {
        (self.f)(fut)
    }
    fn name(&self) -> &'static str {
        self.name.unwrap_or(std::any::type_name::<F>())
    }
}

pub(super) type UserCallback<T> = Box<dyn DoneFn<T>>;

/// A user's done callback queued with its future: a panic in it is reported as asyncio
/// reports it, under the user's callback name with the future as its argument
/// (`Exception in callback on_done(<Future cancelled>)`).
pub(super) struct UserDone<T: 'static> {
    pub(super) f: UserCallback<T>,
    pub(super) fut: Future<T>,
}

impl<T: 'static> Callable for UserDone<T> {
    fn name(&self) -> &'static str {
        self.f.name()
    }
    fn call(self) {
        let UserDone { f, fut } = self;
        let name = f.name();
        let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f.call(&fut)));
        if let Err(payload) = res {
            let args = format!("{fut:?}");
            fut.get_loop().report_callback_panic(name, &args, payload);
        }
    }
}

pub(super) enum Callback<T: 'static> {
    Wake(Rc<dyn Wake>),
    Child(Rc<dyn ChildDone<T>>, usize),
    User(CallbackId, UserCallback<T>),
}

impl<T: 'static> Callback<T> {
    /// asyncio's name for it in a future's repr (`cb=[Task.task_wakeup()]`).
    pub(super) fn py_name(&self) -> String {
        match self {
            Callback::Wake(_) => "Task.task_wakeup".to_string(),
            Callback::Child(c, _) => c.name().to_string(),
            Callback::User(_, f) => crate::errors::py_qualname(f.name()),
        }
    }
}

/// The callback list with its first entry inline: most futures have exactly one waiter,
/// and that one needs no Vec allocation (CPython's C Future does the same).
pub(super) struct Callbacks<T: 'static> {
    pub(super) first: Option<Callback<T>>,
    pub(super) rest: Vec<Callback<T>>,
}

impl<T> Callbacks<T> {
    pub(super) fn push(&mut self, cb: Callback<T>) {
        if self.first.is_none() && self.rest.is_empty() {
            self.first = Some(cb);
        } else {
            self.rest.push(cb);
        }
    }
}
