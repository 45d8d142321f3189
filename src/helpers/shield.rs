//! `asyncio.shield` (layer 8): wait for something without passing cancellation on to it.

use std::rc::Rc;

use crate::futures::{Awaitable, Future};

/// `asyncio.shield(aw)`: a future that mirrors `aw` but protects it from cancellation.
///
/// If `aw` is already done, its own future is returned (asyncio returns the argument itself).
/// Otherwise a new outer future: cancelling it (e.g. cancelling the task that waits on it)
/// leaves `aw` running; `aw` being cancelled cancels the outer (without the message, as
/// asyncio); `aw`'s result or error is copied to the outer. To shield a coroutine, make it a
/// task first: `shield(&lp.create_task(body)?)`.
pub fn shield<A>(aw: &A) -> Future<A::Output>
where
    A: Awaitable + ?Sized,
    A::Output: Clone,
{
    let inner = aw.future().clone();
    if inner.done() {
        return inner;
    }
    let outer = Future::new(inner.get_loop());
    // The inner's callback owns the outer (someone may only hold a callback on it); the
    // outer points back weakly, so no cycle outlives an inner that never finishes.
    let target = outer.clone();
    let id = inner.add_done_callback(move |inner| {
        if target.cancelled() {
            if !inner.cancelled() {
                // Mark the result retrieved: nobody will read it through the outer.
                let _ = inner.exception();
            }
            return;
        }
        if inner.cancelled() {
            target.cancel(None);
            return;
        }
        let _ = match inner.exception() {
            Ok(Some(e)) => target.set_exception(e),
            _ => match inner.result() {
                Ok(v) => target.set_result(v),
                Err(e) => target.set_exception(e),
            },
        };
    });
    let weak_inner = Rc::downgrade(&inner.0);
    outer.add_done_callback(move |_| {
        if let Some(core) = weak_inner.upgrade() {
            let inner = Future::from_core(core);
            if !inner.done() {
                inner.remove_done_callback(id);
            }
        }
    });
    outer
}
