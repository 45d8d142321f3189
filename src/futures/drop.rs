//! Dropping a future: the "exception was never retrieved" report, and a depth limit so that
//! a chain of futures (each holding the next) drops iteratively, through panics.

use std::cell::{Cell, RefCell};
use std::mem::ManuallyDrop;

use crate::errors::{SharedError, py_repr};
use crate::event_loop::{ExceptionContext, write_source};
use crate::futures::done_callbacks::Callbacks;
use crate::futures::{FutureCore, FutureTail, State};

// Thread-local bookkeeping so that dropping a chain of futures (a future whose result or
// callbacks hold the next one) never recurses deeper than DROP_DEPTH_LIMIT frames.
thread_local! {
    static DROP_DEPTH: Cell<usize> = const { Cell::new(0) };
    static DEFERRED: RefCell<Vec<Box<dyn std::any::Any>>> = const { RefCell::new(Vec::new()) };
}
const DROP_DEPTH_LIMIT: usize = 64;

impl<T: 'static, X: ?Sized + FutureTail<T>> FutureCore<T, X> {
    /// The exception of a failed future, as a handle of its own.
    pub(crate) fn failure(&self) -> Option<SharedError> {
        match &*self.state.borrow() {
            State::Failed(e) => Some(e.clone()),
            _ => None,
        }
    }

    #[cold]
    fn report_never_retrieved(&self) {
        // No borrow held: formatting and the handler are user code.
        if let Some(e) = self.failure() {
            let kind = self.kind.get().name();
            let mut fields = vec![(
                "future",
                format!(
                    "<{kind} finished exception={}{}>",
                    py_repr(&e.to_error()),
                    self.created_suffix()
                ),
            )];
            if self.lp.get_debug() {
                fields.push(("source_traceback", write_source(self.created)));
            }
            self.lp.call_exception_handler(ExceptionContext {
                message: format!("{kind} exception was never retrieved"),
                exception: Some(e.to_error()),
                fields,
            });
        }
    }
}

impl<T: 'static, X: ?Sized + FutureTail<T>> Drop for FutureCore<T, X> {
    #[inline]
    fn drop(&mut self) {
        // Frees the contents last, even if the report unwinds (an error's `Display`).
        let this = FreeContents(self);
        if this.0.log_traceback.get() {
            this.0.report_never_retrieved();
        }
        let pending = matches!(this.0.state.get_mut(), State::Pending);
        this.0.tail.on_drop(&this.0.lp, pending, this.0.created);
    }
}

/// The end of a future's `Drop`, as a guard: the state and callbacks are `ManuallyDrop`, so
/// an unwinding `Drop` would otherwise leak them.
struct FreeContents<'a, T: 'static, X: ?Sized + FutureTail<T>>(&'a mut FutureCore<T, X>);

impl<T: 'static, X: ?Sized + FutureTail<T>> Drop for FreeContents<'_, T, X> {
    #[inline]
    fn drop(&mut self) {
        if !self.0.contents_free() {
            self.0.drop_contents();
        }
    }
}

impl<T: 'static> FutureCore<T, ()> {
    /// Whether `Drop` would do nothing but release the loop handle: nothing to report, and
    /// nothing owned in the state or the callback list.
    #[inline]
    pub(crate) fn drops_trivially(&self) -> bool {
        !self.log_traceback.get() && self.contents_free()
    }
}

impl<T: 'static, X: ?Sized + FutureTail<T>> FutureCore<T, X> {
    /// Whether the state and the callback list own nothing (no callbacks, no spare
    /// capacity, a result without drop glue): then there is nothing in them to free.
    #[inline]
    fn contents_free(&self) -> bool {
        let cbs = self.callbacks.borrow();
        let cbs_free = cbs.first.is_none() && cbs.rest.capacity() == 0;
        cbs_free
            && match &*self.state.borrow() {
                State::Pending | State::Cancelled(None) | State::Taken => true,
                State::Finished(_) => !std::mem::needs_drop::<T>(),
                _ => false,
            }
    }
}

impl<T: 'static, X: ?Sized + FutureTail<T>> FutureCore<T, X> {
    /// Drops the state and the callbacks, deferring past `DROP_DEPTH_LIMIT` nested drops.
    #[cold]
    #[inline(never)]
    fn drop_contents(&mut self) {
        let depth = DROP_DEPTH.with(Cell::get);
        if depth >= DROP_DEPTH_LIMIT {
            // SAFETY: called once, from `drop`, and the fields are not used again.
            let contents = unsafe { self.take_contents() };
            DEFERRED.with(|d| d.borrow_mut().push(Box::new(contents)));
            return;
        }
        // First, so that it is dropped last: if `state` unwinds, `cbs` drops at this depth.
        let _level = DropLevel::enter(depth);
        // SAFETY: as above.
        let (state, cbs) = unsafe { self.take_contents() };
        drop(state);
        drop(cbs);
    }

    /// Moves the state and the callbacks out.
    ///
    /// # Safety
    /// Once only, from `drop`: the fields are not used again.
    unsafe fn take_contents(&mut self) -> (State<T>, Callbacks<T>) {
        // SAFETY: the caller's contract.
        unsafe {
            (
                ManuallyDrop::take(&mut self.state).into_inner(),
                ManuallyDrop::take(&mut self.callbacks).into_inner(),
            )
        }
    }
}

/// One level of nested `drop_contents`. A guard, so that an unwinding drop lowers the depth
/// too (left raised, it would defer every later drop past the limit to the thread's exit);
/// the outermost level drains what deeper ones deferred.
struct DropLevel(usize);

impl DropLevel {
    #[inline]
    fn enter(depth: usize) -> Self {
        DROP_DEPTH.with(|d| d.set(depth + 1));
        DropLevel(depth)
    }
}

impl Drop for DropLevel {
    #[inline]
    fn drop(&mut self) {
        let panic = if self.0 == 0 { drain_deferred() } else { None };
        DROP_DEPTH.with(|d| d.set(self.0));
        // A result may own a descriptor, so a panicking drop stops nothing: every other
        // value was dropped, and now the first panic goes on (as a `Vec`'s drop glue does
        // with its elements), unless one is already unwinding. Later panics were shown by
        // the panic hook and are dropped here, where a second panic in drop glue aborts.
        if let Some(payload) = panic
            && !std::thread::panicking()
        {
            std::panic::resume_unwind(payload);
        }
    }
}

/// Drops the deferred contents, iteratively, through any panic: returns the first one.
fn drain_deferred() -> Option<Box<dyn std::any::Any + Send>> {
    let mut first_panic = None;
    while let Some(item) = DEFERRED.with(|d| d.borrow_mut().pop()) {
        if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(item)))
        {
            first_panic.get_or_insert(payload);
        }
    }
    first_panic
}

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    use std::rc::Rc;

    use super::*;
    use crate::event_loop::EventLoop;
    use crate::futures::Future;

    fn depth() -> usize {
        DROP_DEPTH.with(Cell::get)
    }

    fn deferred() -> usize {
        DEFERRED.with(|d| d.borrow().len())
    }

    /// Records the deepest drop-nesting level it is dropped at.
    struct Probe(Rc<Cell<usize>>);

    impl Drop for Probe {
        fn drop(&mut self) {
            self.0.set(self.0.get().max(depth()));
        }
    }

    /// `n` futures, each holding the next (and a probe) in a done callback.
    fn chain(lp: &EventLoop, n: usize, deepest: &Rc<Cell<usize>>) -> Future<()> {
        let mut next: Option<Future<()>> = None;
        for _ in 0..n {
            let f = lp.create_future::<()>();
            let (held, probe) = (next.take(), Probe(deepest.clone()));
            f.add_done_callback(move |_| {
                drop(held);
                drop(probe);
            });
            next = Some(f);
        }
        next.unwrap()
    }

    #[test]
    fn a_long_chain_drops_within_the_depth_limit_and_resets_it() {
        let lp = EventLoop::new().unwrap();
        let deepest = Rc::new(Cell::new(0));
        let head = chain(&lp, 100_000, &deepest);
        assert_eq!(depth(), 0);
        drop(head);
        assert_eq!(depth(), 0, "the counter is back to 0");
        assert_eq!(deferred(), 0, "everything deferred was drained");
        assert!(deepest.get() >= DROP_DEPTH_LIMIT, "the chain did nest");
        assert!(
            deepest.get() <= DROP_DEPTH_LIMIT,
            "no drop ran past the limit: {}",
            deepest.get()
        );
        assert_eq!(Rc::strong_count(&deepest), 1, "every probe was dropped");
        lp.close().unwrap();
    }

    /// A value whose drop panics.
    struct Boom;

    impl Drop for Boom {
        fn drop(&mut self) {
            panic!("boom");
        }
    }

    #[test]
    fn a_panicking_drop_resets_the_depth_and_drains_the_rest() {
        let lp = EventLoop::new().unwrap();
        let deepest = Rc::new(Cell::new(0));
        let tail = chain(&lp, 1000, &deepest);
        // The result panics first, then the chain it holds is dropped while unwinding.
        let head = lp.create_future::<(Boom, Future<()>)>();
        head.set_result((Boom, tail)).unwrap();
        let r = catch_unwind(AssertUnwindSafe(move || drop(head)));
        assert!(r.is_err(), "the panic goes on");
        assert_eq!(depth(), 0);
        assert_eq!(deferred(), 0);
        assert_eq!(
            Rc::strong_count(&deepest),
            1,
            "the rest was dropped all the same"
        );
        // Dropping works as before afterwards.
        let deepest = Rc::new(Cell::new(0));
        drop(chain(&lp, 1000, &deepest));
        assert_eq!((depth(), Rc::strong_count(&deepest)), (0, 1));
        lp.close().unwrap();
    }

    #[test]
    fn a_future_with_nothing_to_free_drops_trivially() {
        let lp = EventLoop::new().unwrap();
        let f = lp.create_future::<u32>();
        // SAFETY: a plain future's allocation holds a `FutureCore<T, ()>`.
        let core = unsafe { crate::futures::downcast_core::<u32, ()>(&f.0) };
        assert!(core.drops_trivially(), "pending, no callbacks");
        f.set_result(1).unwrap();
        assert!(core.drops_trivially(), "a result without drop glue");
        let g = lp.create_future::<String>();
        // SAFETY: as above.
        let gcore = unsafe { crate::futures::downcast_core::<String, ()>(&g.0) };
        g.set_result("x".into()).unwrap();
        assert!(!gcore.drops_trivially(), "a String must be freed");
        let h = lp.create_future::<u32>();
        // SAFETY: as above.
        let hcore = unsafe { crate::futures::downcast_core::<u32, ()>(&h.0) };
        h.set_exception(crate::errors::RuntimeError::new("x").into())
            .unwrap();
        assert!(!hcore.drops_trivially(), "an unretrieved error is reported");
        let _ = h.exception();
        drop((core, gcore, hcore));
        lp.close().unwrap();
    }
}
