//! Introspection and asyncio's reprs (issue #11, items 3 and 4): the port of
//! cases/loop/introspection.py.

#[macro_use]
mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use anyhow::Result;
use common::{check_case, py_bool};
use tulip::{
    Co, EventLoop, ExceptionContext, Future, Generator, PyRepr, TimerHandle, get_running_loop,
    py_repr, sleep,
};

/// Python's `re.sub(r'when=(\S+)', ...)` of the case: the deadline's text.
fn when_of(handle: &str) -> Option<&str> {
    let rest = handle.split_once("when=")?.1;
    Some(rest.split(' ').next().unwrap_or(rest))
}

fn py_opt(s: Option<String>) -> String {
    s.unwrap_or_else(|| "None".to_string())
}

fn on_done<T>(_: &Future<T>) {}

fn show<T: PyRepr + 'static>(lp: &EventLoop, value: T) {
    let f = lp.create_future::<T>();
    f.set_result(value).unwrap();
    tprint!("{}", f.repr());
}

fn zero_error() {
    panic!("division by zero")
}

fn lambdas(lp: &EventLoop) {
    lp.call_soon(|| panic!("division by zero")).unwrap();
}

fn bad_done(_: &Future<()>) {
    panic!("division by zero")
}

fn inner(co: &Co<i32, ()>) -> Result<()> {
    co.yield_(1)?;
    Ok(())
}

fn reprs_and_failing_callbacks(lp: &EventLoop) {
    let timer: Rc<RefCell<Option<TimerHandle>>> = Rc::default();
    let t = timer.clone();
    lp.set_exception_handler(Some(move |_: &EventLoop, ctx: &ExceptionContext| {
        tprint!("handler: {}", ctx.message);
        let mut h = ctx.get("handle").unwrap().to_string();
        if let Some(when) = when_of(&h).map(str::to_string) {
            let secs = t.borrow().as_ref().unwrap().when_secs();
            tprint!(
                "  when is the handle's: {}",
                py_bool(when.parse::<f64>().unwrap() == secs)
            );
            h = h.replace(&when, "T");
        }
        tprint!("  handle: {h}");
    }));
    tprint!(
        "handler is ours: {}",
        py_bool(lp.get_exception_handler().is_some())
    );

    let fut = lp.create_future::<i32>();
    tprint!("{:?}", fut);
    fut.add_done_callback(on_done);
    tprint!("{:?}", fut);
    fut.add_done_callback(on_done);
    tprint!("{:?}", fut);
    fut.add_done_callback(on_done);
    fut.add_done_callback(on_done);
    tprint!("{:?}", fut);
    fut.set_result(4).unwrap();
    tprint!("{}", fut.repr());
    show(lp, "hello".to_string());
    show(lp, "x".repeat(40));
    show(lp, (1..=10).collect::<Vec<i32>>());
    show(lp, ());
    show(lp, 2.5);
    show(lp, (1, "a"));
    show(lp, true);
    let f = lp.create_future::<i32>();
    f.set_exception(tulip::ValueError::new("bad").into())
        .unwrap();
    tprint!("{}", f.repr());
    let _ = f.exception();
    let f = lp.create_future::<i32>();
    f.cancel(None);
    tprint!("{}", f.repr());

    lp.call_soon(zero_error).unwrap();
    lambdas(lp);
    let c = lp.create_future::<()>();
    c.add_done_callback(bad_done);
    c.cancel(None);
    *timer.borrow_mut() = Some(lp.call_later(Duration::ZERO, zero_error).unwrap());
    let repr = format!("{:?}", timer.borrow().as_ref().unwrap());
    tprint!(
        "timer handle names its callback: {}",
        py_bool(repr.ends_with(" zero_error()>"))
    );
    let l = lp.clone();
    lp.call_later(Duration::from_millis(10), move || l.stop())
        .unwrap();
    lp.run_forever().unwrap();
}

fn waiter_and_cancel_messages(co: &tulip::TaskCo) -> Result<()> {
    let lp = get_running_loop()?;
    let inner = lp.create_future::<i32>();
    let i = inner.clone();
    let t = lp.create_task(move |co| co.wait(&i))?;
    sleep(co, Duration::ZERO)?;
    let w = t.fut_waiter().unwrap();
    tprint!("fut_waiter is inner: {}", py_bool(w.is(&inner)));
    tprint!("fut_waiter: {w:?}");
    t.cancel(Some("stop it"));
    tprint!("task cancel message: {}", py_opt(t.cancel_message()));
    tprint!("inner cancel message: {}", py_opt(inner.cancel_message()));
    inner.set_cancel_message(Some("changed"));
    if let Err(e) = co.wait(&t) {
        tprint!("task raised: {}", py_repr(&e));
    }
    tprint!(
        "fut_waiter when done: {}",
        py_opt(t.fut_waiter().map(|w| format!("{w:?}")))
    );
    let lone = lp.create_task(|co| sleep(co, Duration::ZERO))?;
    lone.cancel(Some("bare"));
    tprint!("pending cancel message: {}", py_opt(lone.cancel_message()));
    if let Err(e) = co.wait(&lone) {
        tprint!("lone raised: {}", py_repr(&e));
    }
    Ok(())
}

#[test]
fn introspection() {
    check_case("loop/introspection", || {
        let lp = EventLoop::new().unwrap();
        reprs_and_failing_callbacks(&lp);
        let main = lp.create_task(waiter_and_cancel_messages).unwrap();
        lp.run_until_complete(&main).unwrap();
        lp.close().unwrap();

        let lp = EventLoop::new().unwrap();
        let seen = Rc::new(RefCell::new(Vec::new()));
        let s = seen.clone();
        lp.set_iteration_hook(Some(move |lp: &EventLoop| {
            s.borrow_mut()
                .push(format!("({}, {})", lp.iteration(), lp.ready_len()))
        }));
        let l = lp.clone();
        lp.call_soon(move || {
            l.call_soon(|| tprint!("scheduled by a")).unwrap();
        })
        .unwrap();
        lp.call_soon(|| tprint!("b")).unwrap();
        let l = lp.clone();
        lp.call_soon(move || l.stop()).unwrap();
        lp.run_forever().unwrap();
        let l = lp.clone();
        lp.call_soon(move || l.stop()).unwrap();
        lp.run_forever().unwrap();
        tprint!(
            "iterations and ready lengths: [{}]",
            seen.borrow().join(", ")
        );
        lp.close().unwrap();

        let g = Generator::<i32>::new(|co| {
            let sub = Generator::new(inner);
            co.yield_from_ref(&sub)
        });
        tprint!(
            "before start: {} {}",
            py_opt(g.gi_yieldfrom()),
            py_bool(g.is_suspended())
        );
        g.next().unwrap();
        tprint!(
            "delegating to: {} | suspended: {} | running: {}",
            py_opt(g.gi_yieldfrom()),
            py_bool(g.is_suspended()),
            py_bool(g.is_running())
        );
        g.close().unwrap();
        tprint!(
            "closed: {} {}",
            py_opt(g.gi_yieldfrom()),
            py_bool(g.is_suspended())
        );
    });
}

#[test]
fn the_hook_costs_nothing_when_removed_and_watched_fds_are_listed() {
    use std::os::fd::AsRawFd;
    let lp = EventLoop::new().unwrap();
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    lp.add_reader(&a, || {}).unwrap();
    lp.add_writer(&b, || {}).unwrap();
    lp.add_reader(&b, || {}).unwrap();
    let mut expected = vec![(a.as_raw_fd(), true, false), (b.as_raw_fd(), true, true)];
    expected.sort();
    assert_eq!(lp.watched_fds(), expected);
    lp.remove_reader(&a);
    lp.remove_reader(&b);
    lp.remove_writer(&b);
    assert!(lp.watched_fds().is_empty());
    let calls = Rc::new(RefCell::new(0));
    let c = calls.clone();
    lp.set_iteration_hook(Some(move |lp: &EventLoop| {
        *c.borrow_mut() += 1;
        // A hook may remove itself.
        lp.set_iteration_hook(None::<fn(&EventLoop)>);
    }));
    common::run_briefly(&lp);
    common::run_briefly(&lp);
    assert_eq!(*calls.borrow(), 1);
    assert_eq!(lp.iteration(), 2);
    lp.close().unwrap();
}
