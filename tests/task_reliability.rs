//! Reliability faults (issue #15, items 1-2): a panicking `Drop` must not stop later
//! clean-up, and user code (a result's `Clone`, an error's `Display`, a value's `Drop`) that
//! reaches back into its own future must get asyncio's answers, never a borrow panic (debug)
//! or aliasing (release). Run in both profiles: `cargo test --release --test task_reliability`.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tulip::{ErrorExt, EventLoop, Future, InvalidStateError};

/// Keeps the default hook from printing the panics these tests provoke on purpose.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let p = info.payload();
        let msg = (p.downcast_ref::<&str>().copied())
            .or_else(|| p.downcast_ref::<String>().map(String::as_str))
            .unwrap_or_default();
        if !msg.starts_with("boom") {
            eprintln!("{info}");
        }
    }));
}

/// A result whose `Drop` panics.
struct Boom;
impl Drop for Boom {
    fn drop(&mut self) {
        panic!("boom");
    }
}

/// Sets a `Boom` result on a future and drops it: the panic reaches the caller.
fn panic_in_a_future_drop(lp: &EventLoop) {
    let fut = lp.create_future::<Boom>();
    fut.set_result(Boom).unwrap();
    let r = catch_unwind(AssertUnwindSafe(move || drop(fut)));
    assert!(r.is_err(), "the result's panic propagates");
}

/// One link of a chain: the future's result holds the previous future.
struct Link {
    drops: Rc<Cell<usize>>,
    /// Which link panics in its drop (none if `usize::MAX`).
    boom_at: usize,
    index: usize,
    _next: Option<Future<Link>>,
}
impl Drop for Link {
    fn drop(&mut self) {
        self.drops.set(self.drops.get() + 1);
        if self.index == self.boom_at {
            panic!("boom at {}", self.index);
        }
    }
}

/// A chain of `n` futures, the head last: dropping it drops every link.
fn chain(lp: &EventLoop, n: usize, drops: &Rc<Cell<usize>>, boom_at: usize) -> Future<Link> {
    let mut prev: Option<Future<Link>> = None;
    for index in 0..n {
        let fut = lp.create_future::<Link>();
        fut.set_result(Link {
            drops: drops.clone(),
            boom_at,
            index,
            _next: prev.take(),
        })
        .unwrap();
        prev = Some(fut);
    }
    prev.unwrap()
}

/// A value that counts its drops.
struct Counted(Rc<Cell<usize>>);
impl Drop for Counted {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn a_chain_is_freed_after_a_panicking_drop() {
    quiet_panics();
    let lp = EventLoop::new().unwrap();
    panic_in_a_future_drop(&lp);
    let drops = Rc::new(Cell::new(0));
    drop(chain(&lp, 1000, &drops, usize::MAX));
    assert_eq!(drops.get(), 1000, "every link is dropped");
}

#[test]
fn results_are_dropped_after_many_panicking_drops() {
    quiet_panics();
    let lp = EventLoop::new().unwrap();
    for _ in 0..100 {
        panic_in_a_future_drop(&lp);
    }
    let drops = Rc::new(Cell::new(0));
    for _ in 0..1000 {
        let fut = lp.create_future::<Counted>();
        fut.set_result(Counted(drops.clone())).unwrap();
        drop(fut);
    }
    assert_eq!(drops.get(), 1000, "every result is dropped at once");
    // A descriptor held by a result is closed too.
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    let fut = lp.create_future::<std::os::unix::net::UnixStream>();
    fut.set_result(a).unwrap();
    drop(fut);
    use std::io::Read;
    let mut buf = [0u8; 1];
    assert_eq!((&b).read(&mut buf).unwrap(), 0, "the peer sees EOF");
}

#[test]
fn a_panic_deep_in_a_chain_loses_no_other_link() {
    quiet_panics();
    let lp = EventLoop::new().unwrap();
    // Deep (past the nesting limit, so dropped from the deferred list) and shallow.
    for boom_at in [10, 500, 990] {
        let drops = Rc::new(Cell::new(0));
        let head = chain(&lp, 1000, &drops, boom_at);
        let r = catch_unwind(AssertUnwindSafe(move || drop(head)));
        let msg = r.expect_err("the panic propagates, once");
        assert_eq!(
            msg.downcast_ref::<String>().map(String::as_str),
            Some(format!("boom at {boom_at}").as_str())
        );
        assert_eq!(
            drops.get(),
            1000,
            "every link is dropped (boom at {boom_at})"
        );
        // Clean-up still works afterwards.
        let drops = Rc::new(Cell::new(0));
        drop(chain(&lp, 1000, &drops, usize::MAX));
        assert_eq!(drops.get(), 1000);
    }
}

/// An error that counts its drops and whose `Display` panics.
#[derive(Debug)]
struct BadDisplay(Arc<AtomicUsize>);
impl Drop for BadDisplay {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}
impl std::fmt::Display for BadDisplay {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        panic!("boom in Display")
    }
}
impl std::error::Error for BadDisplay {}

#[test]
fn an_error_is_dropped_when_its_report_panics() {
    quiet_panics();
    let lp = EventLoop::new().unwrap();
    let drops = Arc::new(AtomicUsize::new(0));
    let fut = lp.create_future::<()>();
    fut.set_exception(BadDisplay(drops.clone()).into()).unwrap();
    // Never retrieved: the drop reports it, and formatting the error panics.
    let r = catch_unwind(AssertUnwindSafe(move || drop(fut)));
    assert!(r.is_err());
    assert_eq!(
        drops.load(Ordering::Relaxed),
        1,
        "the error is dropped all the same"
    );
    lp.close().unwrap();
}

fn is_invalid_state(r: anyhow::Result<()>) -> bool {
    r.is_err_and(|e| e.isinstance::<InvalidStateError>())
}

thread_local! {
    /// The future under test, for user code that reaches back into it.
    static FUT: RefCell<Option<Future<Reenter>>> = const { RefCell::new(None) };
    static FUT_U32: RefCell<Option<Future<u32>>> = const { RefCell::new(None) };
    static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

fn log(s: String) {
    LOG.with(|l| l.borrow_mut().push(s));
}

fn take_log() -> Vec<String> {
    LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

/// A result whose `Clone` and `Drop` call the future that holds it.
#[derive(Debug)]
struct Reenter(u32);

/// What user code sees of its own future (once: the calls may re-enter this).
fn poke(who: &str) {
    if INSIDE.replace(true) {
        return;
    }
    let Some(fut) = FUT.with(|f| f.borrow().clone()) else {
        INSIDE.set(false);
        return;
    };
    log(format!("{who}: done={}", fut.done()));
    log(format!(
        "{who}: set_result invalid={}",
        is_invalid_state(fut.set_result(Reenter(7)))
    ));
    log(format!(
        "{who}: set_exception invalid={}",
        is_invalid_state(fut.set_exception(anyhow::anyhow!("late")))
    ));
    log(format!("{who}: cancel={}", fut.cancel(Some("late"))));
    log(format!(
        "{who}: result={:?}",
        fut.result().map(|r| r.0).map_err(|e| e.to_string())
    ));
    log(format!(
        "{who}: exception none={}",
        matches!(fut.exception(), Ok(None))
    ));
    log(format!("{who}: debug={fut:?}"));
    fut.add_done_callback(|_| {});
    INSIDE.set(false);
}

impl Clone for Reenter {
    fn clone(&self) -> Self {
        poke("clone");
        Reenter(self.0)
    }
}

impl Drop for Reenter {
    fn drop(&mut self) {
        if self.0 == 7 {
            poke("drop");
        }
    }
}

#[test]
fn a_results_clone_may_call_its_own_future() {
    let lp = EventLoop::new().unwrap();
    let fut = lp.create_future::<Reenter>();
    FUT.with(|f| *f.borrow_mut() = Some(fut.clone()));
    fut.set_result(Reenter(1)).unwrap();
    assert_eq!(fut.result().unwrap().0, 1);
    let log = take_log();
    assert_eq!(
        log,
        [
            "clone: done=true",
            "clone: set_result invalid=true",
            "clone: set_exception invalid=true",
            "clone: cancel=false",
            "clone: result=Ok(1)",
            "clone: exception none=true",
            "clone: debug=<Future finished>",
        ]
    );
    FUT.with(|f| f.borrow_mut().take());
    lp.close().unwrap();
}

#[test]
fn a_rejected_values_drop_may_call_its_own_future() {
    let lp = EventLoop::new().unwrap();
    let fut = lp.create_future::<Reenter>();
    FUT.with(|f| *f.borrow_mut() = Some(fut.clone()));
    fut.set_result(Reenter(1)).unwrap();
    // Refused: the value is dropped, and its `Drop` calls the future.
    assert!(is_invalid_state(fut.set_result(Reenter(7))));
    let log = take_log();
    assert_eq!(log[0], "drop: done=true");
    assert!(log.contains(&"drop: result=Ok(1)".to_string()), "{log:?}");
    FUT.with(|f| f.borrow_mut().take());
    drop(fut);
    lp.close().unwrap();
}

/// An error whose `Display` calls the future that failed with it.
#[derive(Debug)]
struct Loud;
impl std::fmt::Display for Loud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !INSIDE.replace(true)
            && let Some(fut) = FUT_U32.with(|f| f.borrow().clone())
        {
            log(format!(
                "set_result invalid={}",
                is_invalid_state(fut.set_result(5))
            ));
            log(format!("cancel={}", fut.cancel(None)));
            log(format!("result err={}", fut.result().is_err()));
            log(format!(
                "exception some={}",
                matches!(fut.exception(), Ok(Some(_)))
            ));
            log(format!("debug={fut:?}"));
            INSIDE.set(false);
        }
        f.write_str("loud")
    }
}
impl std::error::Error for Loud {}

#[test]
fn an_errors_display_may_call_its_own_future() {
    let lp = EventLoop::new().unwrap();
    let fut = lp.create_future::<u32>();
    FUT_U32.with(|f| *f.borrow_mut() = Some(fut.clone()));
    fut.set_exception(Loud.into()).unwrap();
    assert_eq!(
        format!("{fut:?}"),
        "<Future finished exception=Exception('loud')>"
    );
    assert_eq!(
        take_log(),
        [
            "set_result invalid=true",
            "cancel=false",
            "result err=true",
            "exception some=true",
            "debug=<Future finished exception=Exception('loud')>",
        ]
    );
    FUT_U32.with(|f| f.borrow_mut().take());
    lp.close().unwrap();
}

/// A callback whose drop calls the future it was registered on.
struct OnDrop(Future<u32>, Rc<Cell<bool>>);
impl Drop for OnDrop {
    fn drop(&mut self) {
        self.0.add_done_callback(|_| {});
        self.0.cancel(None);
        self.1.set(self.0.cancelled());
    }
}

#[test]
fn a_removed_callbacks_drop_may_call_its_own_future() {
    let lp = EventLoop::new().unwrap();
    let fut = lp.create_future::<u32>();
    let seen = Rc::new(Cell::new(false));
    let guard = OnDrop(fut.clone(), seen.clone());
    let id = fut.add_done_callback(move |_| drop(guard));
    assert_eq!(fut.remove_done_callback(id), 1);
    assert!(seen.get(), "the drop cancelled the future");
    assert!(fut.cancelled());
    lp.close().unwrap();
}
