//! Unit tests of the generator's internal invariants.

use std::rc::Rc;

use super::*;

fn inner_word<Y, S, R>(g: &Generator<Y, S, R>) -> &'static str {
    // SAFETY: read between resumes only (no resume is running).
    match unsafe { &*g.inner.get() } {
        Inner::Unstarted(_) => "unstarted",
        Inner::Started(_) => "started",
        Inner::Finished => "finished",
    }
}

#[test]
fn status_and_inner_move_together() {
    let g: Rc<Generator<i32>> = Rc::new(Generator::new(|co| {
        co.yield_(1)?;
        Ok(())
    }));
    assert_eq!(
        (g.status.get(), inner_word(&g)),
        (Status::Unstarted, "unstarted")
    );
    assert!(g.next().unwrap().is_yielded());
    assert_eq!(
        (g.status.get(), inner_word(&g)),
        (Status::Suspended, "started")
    );
    assert!(g.next().unwrap().is_returned());
    assert_eq!(
        (g.status.get(), inner_word(&g)),
        (Status::Finished, "finished")
    );
    let e = g.next().unwrap_err();
    assert!(
        e.is::<StopIteration>(),
        "a finished generator stays finished"
    );
    assert_eq!(g.status.get(), Status::Finished);
}

#[test]
fn a_running_generator_refuses_every_resume() {
    let slot: Rc<Cell<Option<Rc<Generator<u8>>>>> = Rc::default();
    let me = slot.clone();
    let g = Rc::new(Generator::new(move |co| {
        let g = me.take().unwrap();
        assert_eq!(g.status.get(), Status::Running);
        for e in [
            g.next().unwrap_err(),
            g.throw(RuntimeError::new("x").into()).unwrap_err(),
            g.close().unwrap_err(),
        ] {
            assert!(e.is::<ValueError>());
            assert_eq!(e.to_string(), "generator already executing");
        }
        drop(g);
        co.yield_(1)?;
        Ok(())
    }));
    slot.set(Some(g.clone()));
    assert!(g.next().unwrap().is_yielded());
    assert_eq!(
        g.status.get(),
        Status::Suspended,
        "the refusals changed nothing"
    );
    assert!(g.next().unwrap().is_returned());
}

#[test]
fn the_stack_goes_back_to_the_pool_when_a_generator_finishes() {
    let g: Generator<u8> = Generator::new(|co| {
        co.yield_(1)?;
        Ok(())
    });
    let before = stack_pool_stats();
    g.next().unwrap();
    let taken = stack_pool_stats();
    // A cache miss carves or takes a batch of slots, so only the growth is certain.
    assert!(
        taken.mapped + taken.reused > before.mapped + before.reused,
        "a stack is taken at the first resume, not before"
    );
    // (The cache may refill from the shared list on a miss: its idle count is not a
    // measure of the take.)
    g.next().unwrap();
    assert_eq!(
        stack_pool_stats().idle,
        taken.idle + 1,
        "returned at the end"
    );
    // The next generator reuses it.
    let h: Generator<u8> = Generator::new(|_| Ok(()));
    let reused = stack_pool_stats().reused;
    h.next().unwrap();
    assert_eq!(stack_pool_stats().reused, reused + 1);
}

#[test]
fn an_unstarted_generator_never_takes_a_stack() {
    let before = stack_pool_stats();
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    let g: Generator<u8> = Generator::new(move |_| {
        r.set(true);
        Ok(())
    });
    let e = g.throw(RuntimeError::new("in").into()).unwrap_err();
    assert_eq!(e.to_string(), "in", "thrown straight back");
    assert_eq!(
        (g.status.get(), inner_word(&g)),
        (Status::Finished, "finished")
    );
    drop(g);
    let dropped: Generator<u8> = Generator::new(|_| Ok(()));
    drop(dropped);
    let after = stack_pool_stats();
    assert!(!ran.get());
    assert_eq!((after.mapped, after.reused), (before.mapped, before.reused));
}

/// Sets its flag when dropped.
struct Cleanup(Rc<Cell<bool>>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[test]
fn a_generator_dropped_while_suspended_runs_its_cleanup() {
    let (cleaned, saw_exit) = (Rc::new(Cell::new(false)), Rc::new(Cell::new(false)));
    let (c, s) = (cleaned.clone(), saw_exit.clone());
    let g: Generator<u8> = Generator::new(move |co| {
        let _guard = Cleanup(c);
        let r = co.yield_(1);
        s.set(r.as_ref().is_err_and(|e| e.is::<GeneratorExit>()));
        r?;
        Ok(())
    });
    g.next().unwrap();
    let idle = stack_pool_stats().idle;
    assert!(!cleaned.get());
    drop(g);
    assert!(saw_exit.get(), "the body saw GeneratorExit at its yield");
    assert!(cleaned.get(), "its locals were dropped");
    assert_eq!(stack_pool_stats().idle, idle + 1, "and its stack went back");
}

#[test]
fn a_generator_ignoring_generator_exit_is_unwound_when_dropped() {
    let cleaned = Rc::new(Cell::new(false));
    let c = cleaned.clone();
    let g: Generator<u8> = Generator::new(move |co| {
        let _guard = Cleanup(c);
        loop {
            let _ = co.yield_(1);
        }
    });
    g.next().unwrap();
    let e = g.close().unwrap_err();
    assert_eq!(e.to_string(), "generator ignored GeneratorExit");
    assert_eq!(
        g.status.get(),
        Status::Suspended,
        "it yielded again: still suspended"
    );
    drop(g);
    assert!(cleaned.get(), "a forced unwind still runs destructors");
}
