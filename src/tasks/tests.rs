//! Unit tests of the tasks layer's internal invariants.

use super::*;
use crate::errors::{CancelledError, ErrorExt};
use crate::event_loop::get_running_loop;
use crate::generator::stack_pool_stats;

/// One loop iteration: what is scheduled now runs, nothing later.
fn run_once(lp: &EventLoop) {
    let l = lp.clone();
    lp.call_soon(move || l.stop()).unwrap();
    lp.run_forever().unwrap();
}

/// Registered tasks and the registry's slot count.
fn registry(lp: &EventLoop) -> (usize, usize) {
    lp.extension::<Tasks>().counts()
}

#[test]
fn the_registry_shrinks_as_tasks_finish_and_reuses_slots() {
    let lp = EventLoop::new().unwrap();
    let gate = lp.create_future::<()>();
    let tasks: Vec<Task<()>> = (0..10)
        .map(|i| {
            let g = gate.clone();
            lp.create_task(move |co| if i % 2 == 0 { co.wait(&g) } else { Ok(()) })
                .unwrap()
        })
        .collect();
    assert_eq!(registry(&lp), (10, 10));
    run_once(&lp);
    assert_eq!(registry(&lp), (5, 10), "the five that returned left");
    assert_eq!(all_tasks(Some(&lp)).unwrap().len(), 5);
    for t in tasks.iter().skip(1).step_by(2) {
        assert_eq!(t.core.tail.slot.get(), NO_SLOT);
    }
    // New tasks take the freed slots: the registry does not grow.
    let more: Vec<Task<()>> = (0..5)
        .map(|_| lp.create_task(|_| Ok(())).unwrap())
        .collect();
    assert_eq!(registry(&lp), (10, 10));
    gate.set_result(()).unwrap();
    lp.run_until_complete(&tasks[0]).unwrap();
    run_once(&lp);
    assert_eq!(registry(&lp).0, 0);
    assert!(all_tasks(Some(&lp)).unwrap().is_empty());
    drop((tasks, more));
    lp.close().unwrap();
}

#[test]
fn closing_the_loop_abandons_pending_tasks() {
    let lp = EventLoop::new().unwrap();
    let reports = Rc::new(Cell::new(0));
    let r = reports.clone();
    lp.set_exception_handler(Some(move |_: &EventLoop, ctx: &ExceptionContext| {
        assert_eq!(ctx.message, "Task was destroyed but it is pending!");
        r.set(r.get() + 1);
    }));
    let t = lp
        .create_task(|co| co.wait(&get_running_loop()?.create_future::<()>()))
        .unwrap();
    run_once(&lp);
    assert_eq!(registry(&lp).0, 1);
    assert!(t.core.tail.coro.borrow().is_some());
    lp.close().unwrap();
    assert_eq!(reports.get(), 1, "reported once, at close");
    assert_eq!(registry(&lp).0, 0);
    assert!(t.core.tail.coro.borrow().is_none(), "its stack was unwound");
    assert!(!t.done(), "abandoned, not cancelled");
    drop(t);
    assert_eq!(reports.get(), 1, "not reported again when dropped");
}

#[test]
fn a_step_runs_only_from_the_loop() {
    let lp = EventLoop::new().unwrap();
    let ran = Rc::new(Cell::new(0));
    let r = ran.clone();
    let t = lp
        .create_task(move |co| {
            r.set(r.get() + 1);
            let me = current_task(None)?.expect("a step runs as the current task");
            assert_eq!(me.get_name(), current_task(None)?.unwrap().get_name());
            co.yield_now()?;
            r.set(r.get() + 1);
            Ok(())
        })
        .unwrap();
    assert_eq!(ran.get(), 0, "create_task runs nothing");
    assert!(
        t.core
            .tail
            .coro
            .borrow()
            .as_ref()
            .is_some_and(|c| !c.is_started())
    );
    assert!(!lp.extension::<Tasks>().has_current());
    run_once(&lp);
    assert_eq!(ran.get(), 1, "one step per iteration");
    assert!(
        !lp.extension::<Tasks>().has_current(),
        "no current task between steps"
    );
    run_once(&lp);
    assert_eq!(ran.get(), 2);
    assert!(t.done());
    lp.close().unwrap();
}

#[test]
fn a_finished_task_holds_no_coroutine_and_its_stack_is_pooled() {
    let lp = EventLoop::new().unwrap();
    let before = stack_pool_stats();
    let ok = lp.create_task(|co| {
        co.yield_now()?;
        Ok(1)
    });
    let ok = ok.unwrap();
    let failed = lp
        .create_task(|_| -> Result<()> { Err(RuntimeError::new("x").into()) })
        .unwrap();
    let cancelled = lp
        .create_task(|co| co.wait(&get_running_loop()?.create_future::<()>()))
        .unwrap();
    run_once(&lp);
    assert!(cancelled.cancel(None));
    assert_eq!(lp.run_until_complete(&ok).unwrap(), 1);
    run_once(&lp);
    fn check<T>(t: &Task<T>, what: &str) {
        let part = &t.core.tail;
        assert!(
            part.coro.borrow().is_none(),
            "a {what} task keeps its coroutine"
        );
        assert_eq!(
            part.slot.get(),
            NO_SLOT,
            "a {what} task is still registered"
        );
    }
    check(&ok, "returned");
    check(&failed, "failed");
    check(&cancelled, "cancelled");
    assert!(failed.done() && cancelled.cancelled());
    let after = stack_pool_stats();
    assert_eq!(
        after.idle,
        before.idle + (after.mapped - before.mapped) as usize,
        "every stack the tasks took went back to the pool"
    );
    let _ = failed.exception();
    lp.close().unwrap();
}

#[test]
fn a_step_of_a_finished_task_does_nothing() {
    let lp = EventLoop::new().unwrap();
    let runs = Rc::new(Cell::new(0));
    let r = runs.clone();
    let t = lp
        .create_task(move |_| {
            r.set(r.get() + 1);
            Ok(5)
        })
        .unwrap();
    assert_eq!(lp.run_until_complete(&t).unwrap(), 5);
    // A stale wake-up (a step scheduled before the task finished) is a no-op.
    t.core.clone().step();
    assert_eq!(runs.get(), 1);
    assert_eq!(t.result().unwrap(), 5);
    lp.close().unwrap();
}

#[test]
fn a_cancel_before_the_first_step_is_delivered_at_it() {
    let lp = EventLoop::new().unwrap();
    let t = lp.create_task(|_| Ok(())).unwrap();
    assert!(t.cancel(Some("early")));
    assert!(t.core.tail.must_cancel.get());
    assert_eq!(t.core.tail.cancel_msg().as_deref(), Some("early"));
    assert_eq!(t.cancelling(), 1);
    assert!(!t.done(), "cancel() only requests");
    let e = lp.run_until_complete(&t).unwrap_err();
    assert!(e.isinstance::<CancelledError>());
    assert!(t.cancelled() && !t.core.tail.must_cancel.get());
    lp.close().unwrap();
}
