//! wait_for, timeout scopes and TaskGroup, ported from CPython 3.11's test_waitfor.py,
//! test_timeouts.py and test_taskgroups.py (the asyncio behaviour cases 51 and 53
//! and more): each port prints the same trace as its Python program in tests/cases/helpers/.
//! Only the order of events is compared, never timing; delays are clearly apart (ms).
use crate::Body;
use crate::common::{self, ms, py_bool};
use crate::tprint;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use anyhow::Result;
use tulip::errors::{Exception, py_name, py_repr, py_str};
use tulip::{
    CancelledError, ErrorExt, ExceptionGroup, Future, RuntimeError, TaskGroup, Timeout,
    TimeoutError, ValueError, cause, current_task, get_running_loop,
};

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// `type(e.__cause__).__name__`.
fn cause_name(e: &anyhow::Error) -> String {
    cause(e).map(py_name).unwrap_or_else(|| "NoneType".into())
}

/// `repr(cm).split(' when=')[0] + '>'`.
fn repr_head(cm: &Timeout) -> String {
    let repr = format!("{cm:?}");
    format!("{}>", repr.split(" when=").next().unwrap())
}

fn cancelling() -> u32 {
    current_task(None).unwrap().unwrap().cancelling()
}

/// Python's repr of a list of strings.
fn py_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
    format!("[{}]", items.join(", "))
}

fn zero_division() -> anyhow::Error {
    Exception::new("ZeroDivisionError", "division by zero").into()
}

fn key_error(msg: &str) -> anyhow::Error {
    Exception::new("KeyError", msg).into()
}

#[test]
fn case_51_wait_for() {
    common::check_case("helpers/wait_for", || {
        run!(|co| -> Result<()> {
            let lp = get_running_loop()?;
            let state: Rc<RefCell<Vec<String>>> = Rc::default();
            let s = state.clone();
            let fut = spawn!(lp, move |co| {
                s.borrow_mut().push("running".into());
                let slept = sleep!(co, secs(10));
                s.borrow_mut().push("stopped".into());
                slept?;
                Ok("done")
            })?;
            match wait_for!(co, fut, Some(ms(50))) {
                Err(e) if e.isinstance::<TimeoutError>() => tprint!(
                    "TimeoutError {} is builtin TimeoutError: {} cause: {}",
                    py_repr(&e),
                    py_bool(e.isinstance::<TimeoutError>()),
                    cause_name(&e)
                ),
                other => panic!("expected TimeoutError, got {other:?}"),
            }
            tprint!(
                "inner cancelled before wait_for returned: {} {}",
                py_bool(fut.cancelled()),
                py_list(&state.borrow())
            );
            let started = Rc::new(Cell::new(false));
            let s = started.clone();
            let quick = wait_for_coro!(co, Some(Duration::ZERO), [s], |_| {
                s.set(true);
                Ok(())
            });
            if quick.is_err_and(|e| e.isinstance::<TimeoutError>()) {
                tprint!(
                    "timeout=0 with coroutine: started? {}",
                    py_bool(started.get())
                );
            }
            let done = lp.create_future();
            done.set_result("ready")?;
            tprint!(
                "timeout=0 with done future -> {}",
                wait_for!(co, done, Some(Duration::ZERO))?
            );
            let slept = wait_for_coro!(co, None, [], |co| {
                sleep!(co, ms(10))?;
                Ok("slept")
            })?;
            tprint!("timeout=None -> {slept}");
            let ok = wait_for_coro!(co, Some(secs(1)), [], |co| {
                sleep!(co, ms(10))?;
                Ok("ok")
            })?;
            tprint!("fast enough -> {ok}");
            let inner_task = spawn!(lp, |co| sleep!(co, secs(10)))?;
            let inner = inner_task.clone();
            let w = spawn!(lp, move |co| wait_for!(co, inner, Some(secs(10))))?;
            sleep!(co, ms(10))?;
            w.cancel(None);
            if wait!(co, w).is_err_and(|e| e.isinstance::<CancelledError>()) {
                tprint!(
                    "cancelling wait_for also cancels inner: {}",
                    py_bool(inner_task.cancelled())
                );
            }
            Ok(())
        })
        .unwrap();
    });
}

#[test]
fn case_53_timeout() {
    common::check_case("helpers/timeout", || {
        run!(|co| -> Result<()> {
            let lp = get_running_loop()?;
            // `async with asyncio.timeout(0.01) as cm:`, keeping `cm` for after the block.
            let cm = Timeout::after(Some(ms(10)))?;
            let r = scope!(co, cm, [], |co, cm| {
                tprint!("{}", repr_head(cm));
                sleep!(co, secs(10))
            });
            if let Err(e) = r {
                assert!(e.isinstance::<TimeoutError>());
                tprint!(
                    "TimeoutError; cause: {} expired: {} {:?}",
                    cause_name(&e),
                    py_bool(cm.expired()),
                    cm
                );
            }
            tprint!("task cancelling() after timeout: {}", cancelling());

            let cancelled = Rc::new(Cell::new(false));
            let deadline = lp.time() + ms(10);
            let (cm1, cm2) = (Timeout::new(Some(deadline)), Timeout::new(Some(deadline)));
            let r = scope!(co, cm1, [cm2, cancelled], |co, _| {
                let inner = scope!(co, cm2, [], |co, _| sleep!(co, secs(10)));
                if inner
                    .as_ref()
                    .is_err_and(|e| e.isinstance::<CancelledError>())
                {
                    // The inner scope re-raises CancelledError; only the outer converts.
                    cancelled.set(true);
                }
                inner
            });
            if r.is_err_and(|e| e.isinstance::<TimeoutError>()) {
                tprint!(
                    "nested: inner saw CancelledError: {} both expired: {} {}",
                    py_bool(cancelled.get()),
                    py_bool(cm1.expired()),
                    py_bool(cm2.expired())
                );
            }

            let cm = Timeout::after(Some(secs(10)))?;
            scope!(co, cm, [], |co, _| sleep!(co, ms(10)))?;
            tprint!("not triggered: {} {:?}", py_bool(cm.expired()), cm);
            let cm = Timeout::after(None)?;
            scope!(co, cm, [], |co, _| sleep!(co, ms(10)))?;
            tprint!(
                "disabled: {} {:?}",
                cm.when().map_or("None".into(), |w| format!("{w:?}")),
                cm
            );

            let cm = Timeout::after(Some(ms(10)))?;
            let r: Result<()> = scope!(co, cm, [], |_, _| Err(key_error("foreign")));
            if let Err(e) = r {
                tprint!(
                    "foreign exception passes through: {} {}",
                    py_repr(&e),
                    py_bool(cm.expired())
                );
            }
            let later = lp.time() + secs(1);
            for (label, r) in [
                ("reschedule finished", cm.reschedule(Some(later))),
                (
                    "reschedule not entered",
                    Timeout::after(Some(secs(1)))?.reschedule(Some(later)),
                ),
            ] {
                if let Err(e) = r {
                    assert!(e.isinstance::<RuntimeError>());
                    tprint!("{label} RuntimeError: {}", py_str(&e));
                }
            }

            let cm = Timeout::after(Some(Duration::ZERO))?;
            let r = scope!(co, cm, [], |co, _| sleep!(co, Duration::ZERO));
            if r.is_err_and(|e| e.isinstance::<TimeoutError>()) {
                tprint!("timeout(0) fires at the first await (next iteration)");
            }
            if let Err(e) = scope!(co, cm, [], |_, _| Ok(())) {
                tprint!("re-enter RuntimeError: {}", py_str(&e));
            }
            Ok(())
        })
        .unwrap();
    });
}

/// `async def slow_cleanup()`: its cleanup after a cancel takes a while.
fn slow_cleanup() -> impl Body<()> {
    body!(|co| {
        let r = sleep!(co, secs(10));
        if let Err(e) = &r
            && e.isinstance::<CancelledError>()
        {
            tprint!("inner: cleaning up");
            sleep!(co, ms(10))?;
            tprint!("inner: cleaned up");
        }
        r
    })
}

#[test]
fn wait_for_more() {
    common::check_case("helpers/wait_for_more", || {
        // `wait_for(coro(), t)` is `wait_for(create_task(coro()), t)`: the coroutines are
        // tasks of the backend under test.
        run!(|co| -> Result<()> {
            let lp = get_running_loop()?;

            let swallow = spawn!(lp, |co| {
                if sleep!(co, secs(1)).is_err_and(|e| e.isinstance::<CancelledError>()) {
                    tprint!("inner: cancelled, returning 1 anyway");
                }
                Ok(1)
            })?;
            let swallowed = wait_for!(co, swallow, Some(ms(10)))?;
            tprint!("swallowed cancel -> {swallowed}");

            let t = spawn!(lp, slow_cleanup())?;
            if let Err(e) = wait_for!(co, t, Some(ms(10))) {
                assert!(e.isinstance::<TimeoutError>());
                tprint!(
                    "TimeoutError after the cleanup; inner done: {} cause: {}",
                    py_bool(t.done()),
                    cause_name(&e)
                );
            }
            let t = spawn!(lp, slow_cleanup())?;
            sleep!(co, ms(10))?;
            if let Err(e) = wait_for!(co, t, Some(Duration::ZERO)) {
                assert!(e.isinstance::<TimeoutError>());
                tprint!(
                    "timeout=0: TimeoutError after the cleanup; inner done: {} cause: {}",
                    py_bool(t.done()),
                    cause_name(&e)
                );
            }

            let fails_on_cancel = spawn!(lp, |co| {
                let _ = sleep!(co, secs(10));
                Err::<(), _>(ValueError::new("from finally").into())
            })?;
            let r = wait_for!(co, fails_on_cancel, Some(ms(10)));
            if let Err(e) = r {
                tprint!(
                    "an error raised while cancelled passes through: {}",
                    py_repr(&e)
                );
            }

            let fut: Future<&str> = lp.create_future();
            let f = fut.clone();
            lp.call_later(ms(10), move || {
                let _ = f.set_result("ok");
            })?;
            tprint!(
                "result before the deadline -> {}",
                wait_for!(co, fut, Some(secs(1)))?
            );

            let fails = spawn!(lp, |co| {
                sleep!(co, ms(10))?;
                Err::<(), _>(key_error("early"))
            })?;
            if let Err(e) = wait_for!(co, fails, Some(secs(1))) {
                tprint!(
                    "an error before the deadline passes through: {}",
                    py_repr(&e)
                );
            }

            let inner_task = spawn!(lp, |co| {
                if sleep!(co, secs(1)).is_err() {
                    tprint!("stubborn: cancel swallowed");
                    sleep!(co, ms(200))?;
                }
                Ok(42)
            })?;
            let inner = inner_task.clone();
            let waiting = spawn!(lp, move |co| wait_for!(co, inner, Some(ms(20))))?;
            sleep!(co, ms(100))?;
            waiting.cancel(None);
            if wait!(co, waiting).is_err_and(|e| e.isinstance::<CancelledError>()) {
                tprint!(
                    "wait_for cancelled while the inner held out; inner done: {}",
                    py_bool(inner_task.done())
                );
            }
            tprint!("inner result: {}", wait!(co, inner_task)?);

            for (label, t) in [("None", None), ("60.0", Some(secs(60)))] {
                let task = spawn!(lp, |co| {
                    let never = get_running_loop()?.create_future::<()>();
                    wait!(co, never)
                })?;
                let inner = task.clone();
                let waiting = spawn!(lp, move |co| wait_for!(co, inner, t))?;
                let w = waiting.clone();
                lp.call_soon(move || {
                    w.cancel(None);
                })?;
                if wait!(co, waiting).is_err_and(|e| e.isinstance::<CancelledError>()) {
                    tprint!(
                        "timeout={label}: wait_for cancelled; inner cancelled: {}",
                        py_bool(task.cancelled())
                    );
                }
            }
            Ok(())
        })
        .unwrap();
    });
}

#[test]
fn timeout_more() {
    common::check_case("helpers/timeout_more", || {
        run!(|co| -> Result<()> {
            let lp = get_running_loop()?;

            let fut: Future<Timeout> = lp.create_future();
            let f = fut.clone();
            let task = spawn!(lp, move |co| timeout_scope!(
                co,
                Some(secs(10)),
                [f],
                |co, cm| {
                    f.set_result(cm.clone())?;
                    sleep!(co, secs(50))
                }
            ))?;
            let cm = wait!(co, fut)?;
            cm.reschedule(Some(lp.time() + secs(30)))?;
            tprint!("rescheduled: {}", repr_head(&cm));
            cm.reschedule(None)?;
            tprint!("disarmed: None {cm:?}");
            assert!(cm.when().is_none());
            task.cancel(None);
            if wait!(co, task).is_err_and(|e| e.isinstance::<CancelledError>()) {
                tprint!(
                    "a cancel from outside stays CancelledError; expired: {}",
                    py_bool(cm.expired())
                );
            }

            let cm = Timeout::after(Some(secs(10)))?;
            let r = scope!(co, cm, [lp], |co, cm| {
                cm.reschedule(Some(lp.time() - secs(1)))?;
                sleep!(co, secs(10))
            });
            if r.is_err_and(|e| e.isinstance::<TimeoutError>()) {
                tprint!(
                    "rescheduled into the past: TimeoutError; expired: {}",
                    py_bool(cm.expired())
                );
            }

            let r = timeout_scope!(co, Some(ms(10)), [lp], |co, cm| {
                cm.reschedule(Some(lp.time() + ms(100)))?;
                sleep!(co, ms(20))?;
                tprint!("still running after the first deadline");
                sleep!(co, secs(10))
            });
            if r.is_err_and(|e| e.isinstance::<TimeoutError>()) {
                tprint!("fired at the moved deadline");
            }

            let cm = Timeout::new(Some(lp.time() - secs(11)));
            let r = scope!(co, cm, [], |co, _| {
                tprint!("body runs");
                sleep!(co, Duration::ZERO)?;
                tprint!("not reached");
                Ok(())
            });
            if r.is_err_and(|e| e.isinstance::<TimeoutError>()) {
                tprint!(
                    "past deadline: TimeoutError at the first await; expired: {}",
                    py_bool(cm.expired())
                );
            }

            let cm = Timeout::after(Some(ms(10)))?;
            scope!(co, cm, [lp], |co, cm| {
                if sleep!(co, secs(1)).is_err_and(|e| e.isinstance::<CancelledError>()) {
                    tprint!("body caught CancelledError; {cm:?}");
                }
                if let Err(e) = cm.reschedule(Some(lp.time() + secs(1))) {
                    tprint!("RuntimeError: {}", py_str(&e));
                }
                Ok(())
            })?;
            tprint!(
                "no TimeoutError; expired: {} {cm:?} cancelling: {}",
                py_bool(cm.expired()),
                cancelling()
            );

            let t = spawn!(lp, |co| timeout_scope!(co, Some(secs(10)), [], |co, _| {
                current_task(None)?.unwrap().cancel(None);
                sleep!(co, secs(10))
            }))?;
            if wait!(co, t).is_err_and(|e| e.isinstance::<CancelledError>()) {
                tprint!(
                    "a cancel inside an unexpired timeout stays CancelledError; cancelled: {}",
                    py_bool(t.cancelled())
                );
            }

            let (outer, inner) = (
                Timeout::after(Some(ms(100)))?,
                Timeout::after(Some(ms(10)))?,
            );
            let r = scope!(co, outer, [inner], |co, outer| {
                let r = scope!(co, inner, [], |co, _| sleep!(co, secs(1)));
                if r.is_err_and(|e| e.isinstance::<TimeoutError>()) {
                    tprint!(
                        "inner TimeoutError; outer expired: {}",
                        py_bool(outer.expired())
                    );
                }
                sleep!(co, secs(1))
            });
            if r.is_err_and(|e| e.isinstance::<TimeoutError>()) {
                tprint!(
                    "outer TimeoutError; inner expired: {} outer expired: {}",
                    py_bool(inner.expired()),
                    py_bool(outer.expired())
                );
            }

            let r = timeout_scope!(co, Some(ms(10)), [], |co, _| {
                let body = sleep!(co, secs(1));
                // `finally:` runs whatever the sleep gave.
                let r = timeout_scope!(co, Some(ms(10)), [], |co, _| sleep!(co, secs(10)));
                if r.is_err_and(|e| e.isinstance::<TimeoutError>()) {
                    tprint!("timeout inside finally: TimeoutError");
                }
                body
            });
            if r.is_err_and(|e| e.isinstance::<TimeoutError>()) {
                tprint!("outer: TimeoutError");
            }

            let after_cancel = spawn!(lp, |co| {
                current_task(None)?.unwrap().cancel(None);
                if sleep!(co, secs(1)).is_err_and(|e| e.isinstance::<CancelledError>()) {
                    tprint!("cancelled; cancelling(): {}", cancelling());
                }
                let r = timeout_scope!(co, Some(Duration::ZERO), [], |co, _| sleep!(co, secs(1)));
                if r.is_err_and(|e| e.isinstance::<TimeoutError>()) {
                    tprint!("a timeout after a caught cancel still converts");
                }
                let r = timeout_scope!(co, Some(secs(1)), [], |co, _| {
                    current_task(None)?.unwrap().cancel(None);
                    sleep!(co, secs(2))
                });
                if r.is_err_and(|e| e.isinstance::<CancelledError>()) {
                    tprint!(
                        "a new cancel inside it stays CancelledError; cancelling(): {}",
                        cancelling()
                    );
                }
                Ok("finished")
            })?;
            tprint!("after_cancel -> {}", wait!(co, after_cancel)?);

            let t = spawn!(lp, |co| {
                match timeout_scope!(co, Some(ms(10)), [], |co, _| sleep!(co, secs(10))) {
                    Err(e) if e.isinstance::<TimeoutError>() => Ok("timed out"),
                    Err(e) => Err(e),
                    Ok(()) => Ok("not timed out"),
                }
            })?;
            tprint!(
                "task -> {} cancelled: {}",
                wait!(co, t)?,
                py_bool(t.cancelled())
            );

            // `await_without_task`: enter from a generator stepped by a plain callback.
            let cm = Timeout::after(Some(ms(10)))?;
            let c = cm.clone();
            lp.call_soon(move || {
                let enter = awaiting_generator!(|co| scope!(co, c, [], |_, _| Ok(())));
                if let Err(e) = enter.next() {
                    tprint!("entered outside a task: RuntimeError: {}", py_str(&e));
                }
            })?;
            sleep!(co, Duration::ZERO)?;
            if let Err(e) = cm.reschedule(Some(lp.time() + secs(1))) {
                tprint!("then reschedule: RuntimeError: {}", py_str(&e));
            }
            Ok(())
        })
        .unwrap();
    });
}

thread_local! {
    /// The children that saw their CancelledError (the twins sort them: Python's set order).
    static CANCELLED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn report(what: &str) {
    let mut names = CANCELLED.with(|c| std::mem::take(&mut *c.borrow_mut()));
    names.sort();
    tprint!("{what} cancelled children: {}", py_list(&names));
}

/// `async def sleeper(name, delay)`: records its cancellation.
fn sleeper(name: &str, delay: Duration) -> impl Body<()> {
    let name = name.to_string();
    body!(move |co| {
        let r = sleep!(co, delay);
        if r.as_ref().is_err_and(|e| e.isinstance::<CancelledError>()) {
            CANCELLED.with(|c| c.borrow_mut().push(name.clone()));
        }
        r
    })
}

/// `async def crash(name, delay, exc)`.
fn crash(
    name: &'static str,
    delay: Duration,
    exc: impl FnOnce() -> anyhow::Error + 'static,
) -> impl Body<()> {
    body!(move |co| {
        sleep!(co, delay)?;
        let exc = exc();
        tprint!("{name} raises {}", py_repr(&exc));
        Err(exc)
    })
}

/// `async def foo(name, delay, value)`.
fn foo<T: 'static>(name: &'static str, delay: Duration, value: T) -> impl Body<T> {
    body!(move |co| {
        sleep!(co, delay)?;
        tprint!("{name} done");
        Ok(value)
    })
}

#[test]
fn taskgroup_basic() {
    common::check_case("helpers/taskgroup_basic", || {
        run!(|co| -> Result<()> {
            let (t1, t2) = group!(co, [], |_, g| {
                let t1 = group_spawn!(g, foo("t1", ms(10), 42))?;
                let t2 = group_spawn!(g, foo("t2", ms(20), 11))?;
                tprint!(
                    "body over; children done: {} {}",
                    py_bool(t1.done()),
                    py_bool(t2.done())
                );
                Ok((t1, t2))
            })?;
            tprint!("after the group: {} {}", t1.result()?, t2.result()?);

            let (t1, t2) = group!(co, [], |co, g| {
                let t1 = group_spawn!(g, foo("t1", ms(10), 42))?;
                sleep!(co, ms(20))?;
                let t2 = group_spawn!(g, foo("t2", ms(10), 11))?;
                Ok((t1, t2))
            })?;
            tprint!("after the group: {} {}", t1.result()?, t2.result()?);

            let (t1, t2) = group!(co, [], |co, g| {
                let t1 = group_spawn!(g, foo("t1", secs(1), 42))?;
                sleep!(co, ms(10))?;
                t1.cancel(None);
                let t2 = group_spawn!(g, foo("t2", ms(20), 11))?;
                Ok((t1, t2))
            })?;
            tprint!(
                "t1 cancelled: {} t2: {}",
                py_bool(t1.cancelled()),
                t2.result()?
            );

            group!(co, [], |_, g| {
                let g2 = g.clone();
                group_spawn!(g, move |co| {
                    sleep!(co, ms(10))?;
                    group_spawn!(g2, foo("grandchild-1", ms(10), 1))?;
                    group_spawn!(g2, foo("grandchild-2", ms(20), 2))?;
                    tprint!("root done");
                    Ok(())
                })?;
                Ok(())
            })?;
            tprint!("the group waited for the children a child added");

            let g = TaskGroup::new();
            tprint!("{g:?}");
            scope!(co, g, [], |_, g| {
                group_spawn!(g, foo("x", ms(10), 0))?;
                tprint!("{g:?}");
                Ok(())
            })?;
            tprint!("{g:?}");
            Ok(())
        })
        .unwrap();
    });
}

fn caught(r: Result<impl Sized>) -> Option<anyhow::Error> {
    match r {
        Err(e) if e.isinstance::<ExceptionGroup>() => Some(e),
        Err(e) => panic!("expected an ExceptionGroup, got {e:?}"),
        Ok(_) => None,
    }
}

#[test]
fn taskgroup_errors() {
    common::check_case("helpers/taskgroup_errors", || {
        run!(|co| -> Result<()> {
            let lp = get_running_loop()?;
            let runner = spawn!(lp, |co| {
                let r = group!(co, [], |co, g| {
                    group_spawn!(g, crash("c1", ms(10), zero_division))?;
                    group_spawn!(g, sleeper("s1", secs(1)))?;
                    group_spawn!(g, sleeper("s2", secs(1)))?;
                    let r = sleep!(co, secs(10));
                    if r.as_ref().is_err_and(|e| e.isinstance::<CancelledError>()) {
                        tprint!("body cancelled");
                    }
                    r?;
                    tprint!("not reached");
                    Ok(())
                });
                if let Some(eg) = caught(r) {
                    tprint!("caught {}", py_repr(&eg));
                    tprint!("str: {}", py_str(&eg));
                    tprint!("cancelling() after the group: {}", cancelling());
                }
                Ok("runner finished")
            })?;
            tprint!("{}", wait!(co, runner)?);
            report("04");

            let r = group!(co, [], |_, g| {
                group_spawn!(g, crash("c1", ms(10), || ValueError::new("a").into()))?;
                group_spawn!(g, |co| {
                    let _ = sleep!(co, secs(1));
                    Err::<(), _>(key_error("b"))
                })?;
                Ok(())
            });
            if let Some(eg) = caught(r) {
                let n = eg.exc::<ExceptionGroup>().unwrap().exceptions().len();
                tprint!("caught {} count: {n}", py_repr(&eg));
            }

            let children = Rc::new(RefCell::new(None));
            let r = group!(co, [children], |co, g| {
                let t1 = group_spawn!(g, sleeper("s1", secs(1)))?;
                let t2 = group_spawn!(g, sleeper("s2", secs(2)))?;
                *children.borrow_mut() = Some((t1, t2));
                sleep!(co, ms(10))?;
                Err::<(), _>(zero_division())
            });
            if let Some(eg) = caught(r) {
                let (t1, t2) = children.take().unwrap();
                tprint!(
                    "caught {} children cancelled: {} {}",
                    py_repr(&eg),
                    py_bool(t1.cancelled()),
                    py_bool(t2.cancelled())
                );
            }
            report("09");

            let r = group!(co, [], |co, g| {
                group_spawn!(g, crash("c1", ms(10), zero_division))?;
                let _ = sleep!(co, secs(10));
                Err::<(), _>(key_error("from body"))
            });
            if let Some(eg) = caught(r) {
                tprint!("caught {}", py_repr(&eg));
            }

            let runner14 = spawn!(lp, |co| group!(co, [], |co, g1| {
                group_spawn!(g1, sleeper("outer-child", secs(10)))?;
                group!(co, [], |_, g2| {
                    group_spawn!(
                        g2,
                        crash("inner-child", ms(10), || ValueError::new("inner").into())
                    )?;
                    Ok(())
                })
            }))?;
            if let Some(eg) = caught(wait!(co, runner14)) {
                tprint!("caught {}", py_repr(&eg));
            }
            report("14");

            let runner13 = spawn!(lp, |co| group!(co, [], |co, g1| {
                group_spawn!(
                    g1,
                    crash("outer-child", ms(10), || ValueError::new("outer").into())
                )?;
                group!(co, [], |_, g2| {
                    group_spawn!(g2, sleeper("inner-child", secs(10)))?;
                    Ok(())
                })
            }))?;
            if let Some(eg) = caught(wait!(co, runner13)) {
                tprint!("caught {}", py_repr(&eg));
            }
            report("13");
            Ok(())
        })
        .unwrap();
    });
}

/// `async def cancel_soon(coro)`: runs it as a task, cancels it after 10 ms, shows the end.
fn cancel_soon(coro: impl Body<()>) -> impl Body<()> {
    body!(move |co| {
        let r = spawn!(get_running_loop()?, coro)?;
        sleep!(co, ms(10))?;
        tprint!("done before the cancel: {}", py_bool(r.done()));
        r.cancel(None);
        match wait!(co, r) {
            Err(e) if e.isinstance::<CancelledError>() => {
                tprint!("-> CancelledError; cancelled: {}", py_bool(r.cancelled()))
            }
            Err(e) if e.isinstance::<ExceptionGroup>() => tprint!("-> {}", py_repr(&e)),
            other => panic!("unexpected {other:?}"),
        }
        Ok(())
    })
}

/// `async def fails_when_cancelled()`: raises ZeroDivisionError once its sleep ends.
fn fails_when_cancelled() -> impl Body<()> {
    body!(|co| {
        let _ = sleep!(co, secs(10));
        Err(zero_division())
    })
}

#[test]
fn taskgroup_cancel() {
    common::check_case("helpers/taskgroup_cancel", || {
        run!(|co| -> Result<()> {
            let runner07 = body!(|co| group!(co, [], |co, g| {
                for i in 0..3 {
                    group_spawn!(g, sleeper(&format!("s{i}"), secs(5)))?;
                }
                let r = sleep!(co, secs(10));
                if r.as_ref().is_err_and(|e| e.isinstance::<CancelledError>()) {
                    tprint!("body cancelled");
                }
                r
            }));
            await_sub!(co, cancel_soon(runner07))?;
            report("07");

            let runner22 = body!(|co| group!(co, [], |_, g| {
                group_spawn!(g, sleeper("a", secs(1)))?;
                group_spawn!(g, sleeper("b", secs(2)))?;
                Ok(())
            }));
            await_sub!(co, cancel_soon(runner22))?;
            report("22");

            let runner17 = body!(|co| group!(co, [], |co, _| sleep!(co, secs(10))));
            await_sub!(co, cancel_soon(runner17))?;

            let runner08 = body!(|co| group!(co, [], |co, g| {
                for _ in 0..2 {
                    group_spawn!(g, fails_when_cancelled())?;
                }
                sleep!(co, secs(10))
            }));
            await_sub!(co, cancel_soon(runner08))?;

            let runner18 = body!(|co| group!(co, [], |co, _| match sleep!(co, secs(10)) {
                Err(e) if e.isinstance::<CancelledError>() => Err(key_error("instead")),
                other => other,
            }));
            await_sub!(co, cancel_soon(runner18))?;

            let runner15 = body!(|co| group!(co, [], |co, g| {
                group_spawn!(g, |co| {
                    sleep!(co, ms(100))?;
                    tprint!("crash_soon raises");
                    Err::<(), _>(zero_division())
                })?;
                let r = sleep!(co, secs(10));
                if let Err(e) = &r
                    && e.isinstance::<CancelledError>()
                {
                    tprint!("body cleans up");
                    let cleanup = sleep!(co, ms(200));
                    if cleanup
                        .as_ref()
                        .is_err_and(|e| e.isinstance::<CancelledError>())
                    {
                        tprint!("cleanup cancelled by the group");
                    }
                    cleanup?;
                }
                r
            }));
            await_sub!(co, cancel_soon(runner15))?;

            let survivor = spawn!(get_running_loop()?, |co| {
                let r = group!(co, [], |co, g| {
                    group_spawn!(g, sleeper("x", Duration::ZERO))?;
                    sleep!(co, Duration::ZERO)?;
                    group_spawn!(g, sleeper("y", secs(5)))?;
                    Err::<(), _>(ValueError::new("body").into())
                });
                if let Some(eg) = caught(r) {
                    tprint!(
                        "survivor caught {} cancelling: {}",
                        py_repr(&eg),
                        cancelling()
                    );
                }
                sleep!(co, ms(10))?;
                Ok("survived")
            })?;
            tprint!("{}", wait!(co, survivor)?);
            report("survivor");
            Ok(())
        })
        .unwrap();
    });
}

/// `try_create(what, g)`: `g.create_task(asyncio.sleep(0))`, showing a refusal.
fn try_create(what: &str, g: &TaskGroup) {
    match group_spawn!(g, |co| sleep!(co, Duration::ZERO)) {
        Ok(_) => tprint!("{what} accepted"),
        Err(e) => {
            assert!(e.isinstance::<RuntimeError>());
            tprint!("{what} RuntimeError: {}", py_str(&e));
        }
    }
}

#[test]
fn taskgroup_misuse() {
    common::check_case("helpers/taskgroup_misuse", || {
        run!(|co| -> Result<()> {
            let lp = get_running_loop()?;
            let g = TaskGroup::new();
            try_create("not entered:", &g);
            scope!(co, g, [], |co, g| {
                if let Err(e) = scope!(co, g, [], |_, _| Ok(())) {
                    tprint!("entered inside itself: RuntimeError: {}", py_str(&e));
                }
                Ok(())
            })?;
            try_create("after exit:", &g);
            if let Err(e) = scope!(co, g, [], |_, _| Ok(())) {
                tprint!("entered again: RuntimeError: {}", py_str(&e));
            }

            let r = group!(co, [], |_, g| {
                group_spawn!(g, |co| {
                    sleep!(co, ms(1))?;
                    Err::<(), _>(zero_division())
                })?;
                let g2 = g.clone();
                group_spawn!(g, move |co| {
                    let r = sleep!(co, secs(1));
                    if r.is_err() {
                        try_create("while aborting:", &g2);
                    }
                    r
                })?;
                Ok(())
            });
            if let Some(eg) = caught(r) {
                tprint!("caught {}", py_repr(&eg));
            }

            // `await_without_task`: enter from a generator stepped by a plain callback.
            let g = TaskGroup::new();
            let g2 = g.clone();
            lp.call_soon(move || {
                let enter = awaiting_generator!(|co| scope!(co, g2, [], |_, _| Ok(())));
                if let Err(e) = enter.next() {
                    tprint!("entered outside a task: RuntimeError: {}", py_str(&e));
                }
            })?;
            sleep!(co, Duration::ZERO)?;
            try_create("then:", &g);
            Ok(())
        })
        .unwrap();
    });
}
