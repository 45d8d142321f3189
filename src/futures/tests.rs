//! Unit tests of the futures layer's internal invariants.

use std::cell::RefCell;

use super::*;

/// One loop iteration: what is scheduled now runs, nothing later.
fn run_once(lp: &EventLoop) {
    let l = lp.clone();
    lp.call_soon(move || l.stop()).unwrap();
    lp.run_forever().unwrap();
}

fn is_invalid_state(r: Result<()>) -> bool {
    r.is_err_and(|e| e.isinstance::<InvalidStateError>())
}

fn state_word<T>(f: &Future<T>) -> &'static str {
    match &*f.0.state.borrow() {
        State::Pending => "pending",
        State::Finished(_) => "finished",
        State::Failed(_) => "failed",
        State::Cancelled(_) => "cancelled",
        State::CancelledSaved(_) => "cancelled-saved",
        State::Taken => "taken",
    }
}

#[test]
fn a_final_state_is_never_left() {
    let lp = EventLoop::new().unwrap();
    // Finished: every later transition is refused, the value is kept.
    let f = lp.create_future::<i32>();
    f.set_result(1).unwrap();
    assert!(is_invalid_state(f.set_result(2)));
    assert!(is_invalid_state(
        f.set_exception(RuntimeError::new("x").into())
    ));
    assert!(!f.cancel(None), "cancel after set_result returns false");
    assert!(is_invalid_state(f.cancel_with(CancelledError::new(None))));
    assert_eq!(state_word(&f), "finished");
    assert_eq!(f.result().unwrap(), 1);

    // Cancelled: set_result is InvalidStateError, the message stays.
    let c = lp.create_future::<i32>();
    assert!(c.cancel(Some("why")));
    assert!(is_invalid_state(c.set_result(3)));
    assert!(is_invalid_state(
        c.set_exception(RuntimeError::new("x").into())
    ));
    assert!(!c.cancel(Some("again")));
    assert_eq!(state_word(&c), "cancelled");
    assert_eq!(c.cancel_message().as_deref(), Some("why"));

    // Failed: the same, and the error is the one set first.
    let e = lp.create_future::<i32>();
    e.set_exception(RuntimeError::new("first").into()).unwrap();
    assert!(is_invalid_state(e.set_result(4)));
    assert!(!e.cancel(None));
    assert_eq!(state_word(&e), "failed");
    assert_eq!(e.result().unwrap_err().to_string(), "first");
    lp.close().unwrap();
}

#[test]
fn a_refused_stop_iteration_leaves_the_future_pending() {
    let lp = EventLoop::new().unwrap();
    let f = lp.create_future::<()>();
    let e = f.set_exception(StopIteration(None).into()).unwrap_err();
    assert!(e.isinstance::<TypeError>());
    assert_eq!(state_word(&f), "pending");
    assert!(!f.0.log_traceback.get(), "nothing to report");
    f.set_result(()).unwrap();
    lp.close().unwrap();
}

#[test]
fn done_callbacks_are_scheduled_in_order_never_run_inside_set_result() {
    let lp = EventLoop::new().unwrap();
    let f = lp.create_future::<u8>();
    let log = Rc::new(RefCell::new(Vec::new()));
    for i in 0..5 {
        let l = log.clone();
        f.add_done_callback(move |f| l.borrow_mut().push((i, f.result().unwrap())));
    }
    {
        let cbs = f.0.callbacks.borrow();
        assert!(cbs.first.is_some(), "the first registration is inline");
        assert_eq!(cbs.rest.len(), 4);
    }
    f.set_result(9).unwrap();
    assert!(log.borrow().is_empty(), "set_result runs no callback");
    {
        let cbs = f.0.callbacks.borrow();
        assert!(
            cbs.first.is_none() && cbs.rest.is_empty(),
            "all handed to the loop"
        );
    }
    // Registered once done: scheduled at once, after the others.
    let l = log.clone();
    f.add_done_callback(move |_| l.borrow_mut().push((5, 0)));
    assert!(log.borrow().is_empty());
    run_once(&lp);
    assert_eq!(
        *log.borrow(),
        [(0, 9), (1, 9), (2, 9), (3, 9), (4, 9), (5, 0)]
    );
    lp.close().unwrap();
}

#[test]
fn removing_the_inline_callback_promotes_the_next() {
    let lp = EventLoop::new().unwrap();
    let f = lp.create_future::<()>();
    let log = Rc::new(RefCell::new(Vec::new()));
    let ids: Vec<CallbackId> = (0..3)
        .map(|i| {
            let l = log.clone();
            f.add_done_callback(move |_| l.borrow_mut().push(i))
        })
        .collect();
    assert_eq!(f.remove_done_callback(ids[0]), 1);
    assert_eq!(f.remove_done_callback(ids[0]), 0, "removed once");
    {
        let cbs = f.0.callbacks.borrow();
        assert!(cbs.first.is_some(), "the list never starts with a hole");
        assert_eq!(cbs.rest.len(), 1);
    }
    f.set_result(()).unwrap();
    run_once(&lp);
    assert_eq!(*log.borrow(), [1, 2]);
    lp.close().unwrap();
}

#[test]
fn callback_ids_are_unique_across_futures() {
    let lp = EventLoop::new().unwrap();
    let (a, b) = (lp.create_future::<()>(), lp.create_future::<()>());
    let ids = [
        a.add_done_callback(|_| ()),
        b.add_done_callback(|_| ()),
        a.add_done_callback(|_| ()),
    ];
    assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
    assert_eq!(
        a.remove_done_callback(ids[1]),
        0,
        "b's id finds nothing in a"
    );
    lp.close().unwrap();
}

#[test]
fn an_error_is_logged_until_retrieved_or_cancelled() {
    let lp = EventLoop::new().unwrap();
    let f = lp.create_future::<()>();
    f.set_exception(RuntimeError::new("x").into()).unwrap();
    assert!(f.0.log_traceback.get());
    let _ = f.exception();
    assert!(!f.0.log_traceback.get(), "exception() retrieves it");
    let g = lp.create_future::<()>();
    g.set_exception(RuntimeError::new("y").into()).unwrap();
    assert!(!g.cancel(None));
    assert!(!g.0.log_traceback.get(), "a refused cancel() clears it too");
    lp.close().unwrap();
}

#[test]
fn a_value_being_cloned_is_not_taken_from_under_the_clone() {
    thread_local! {
        static FUT: RefCell<Option<Future<Reenter>>> = const { RefCell::new(None) };
    }
    /// Its `clone` tries to take the value it is cloning.
    struct Reenter(Box<u8>);
    impl Clone for Reenter {
        fn clone(&self) -> Self {
            if let Some(f) = FUT.with(|f| f.borrow().clone()) {
                let e = f.take_result().err().expect("refused while cloning");
                assert_eq!(e.to_string(), "Result is being read.");
            }
            Reenter(self.0.clone())
        }
    }
    let lp = EventLoop::new().unwrap();
    let f = lp.create_future::<Reenter>();
    f.set_result(Reenter(Box::new(4))).unwrap();
    FUT.with(|x| *x.borrow_mut() = Some(f.clone()));
    assert_eq!(*f.result().unwrap().0, 4);
    FUT.with(|x| x.borrow_mut().take());
    assert_eq!(f.0.readers.get(), 0, "the count is back down");
    assert_eq!(*f.take_result().unwrap().0, 4);
    assert_eq!(state_word(&f), "taken");
    lp.close().unwrap();
}

#[test]
fn a_clone_is_the_same_future() {
    let lp = EventLoop::new().unwrap();
    let f = lp.create_future::<u8>();
    let g = f.clone();
    assert!(f.ptr_eq(&g) && !f.ptr_eq(&lp.create_future()));
    assert_eq!(Rc::strong_count(&f.0), 2);
    drop(g);
    assert_eq!(Rc::strong_count(&f.0), 1);
    g_set(&f);
    assert_eq!(f.result().unwrap(), 7);
    lp.close().unwrap();

    fn g_set(f: &Future<u8>) {
        f.clone().set_result(7).unwrap();
    }
}
