//! The native stackless helpers (feature `nightly`): `stackless::wait_for`, `timeout`,
//! `Timeout::run_stackless`, `wait`, `NextDone::wait_stackless` and `task_group`. Ports of
//! recorded cases of tests/cases/helpers/ with the native forms (each prints what CPython
//! printed), then what a trace does not show: a stackless task waiting in any of them holds
//! no stack, and cancelling a task waiting in each.
#![feature(coroutines, coroutine_trait, stmt_expr_attributes)]
mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use anyhow::Result;
use common::{ms, py_bool};
use tulip::errors::{Exception, py_name, py_repr, py_str};
use tulip::generator::{StackPoolStats, stack_pool_stats};
use tulip::stackless::{self, Sent, sleep, stackful};
use tulip::{
    CancelledError, ErrorExt, EventLoop, ExceptionGroup, Future, NextDone, Panic, ReturnWhen,
    RuntimeError, Suspend, Task, TaskGroup, Timeout, TimeoutError, ValueError, as_completed,
    await_, cause, current_task, get_running_loop, yield_from, yield_now,
};

/// A stackless task body, as a helper below returns it.
trait Body<T>: std::ops::Coroutine<Sent<()>, Yield = Suspend, Return = Result<T>> + 'static {}
impl<T, C> Body<T> for C where
    C: std::ops::Coroutine<Sent<()>, Yield = Suspend, Return = Result<T>> + 'static
{
}

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
fn py_strs<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<String> = items.iter().map(|s| format!("'{}'", s.as_ref())).collect();
    format!("[{}]", items.join(", "))
}

fn names<T>(ts: &[Task<T>]) -> String {
    let mut names: Vec<String> = ts.iter().map(Task::get_name).collect();
    names.sort();
    py_strs(&names)
}

fn named<T>(t: Task<T>, name: &str) -> Task<T> {
    t.set_name(name);
    t
}

fn key_error(msg: &str) -> anyhow::Error {
    Exception::new("KeyError", msg).into()
}

fn zero_division(msg: &str) -> anyhow::Error {
    Exception::new("ZeroDivisionError", msg).into()
}

fn is_cancelled<T>(r: &Result<T>) -> bool {
    r.as_ref().is_err_and(|e| e.isinstance::<CancelledError>())
}

/// `async def nap(ms, result)`: sleeps, then returns `result`.
fn nap<T: 'static>(d: Duration, result: T) -> impl Body<T> {
    #[coroutine]
    static move |_| {
        yield_from!(sleep(d))?;
        Ok(result)
    }
}

/// `async def fail_after(ms, msg)`: sleeps, then raises ZeroDivisionError(msg).
fn fail_after(d: Duration, msg: &'static str) -> impl Body<()> {
    #[coroutine]
    static move |_| {
        yield_from!(sleep(d))?;
        Err(zero_division(msg))
    }
}

/// `async def forever()`: awaits a future nobody resolves.
fn forever(lp: &EventLoop) -> impl Body<()> + use<> {
    let fut = lp.create_future::<()>();
    #[coroutine]
    static move |_| await_!(fut)
}

/// `async def foo(name, delay, value)`.
fn foo<T: 'static>(name: &'static str, delay: Duration, value: T) -> impl Body<T> {
    #[coroutine]
    static move |_| {
        yield_from!(sleep(delay))?;
        tprint!("{name} done");
        Ok(value)
    }
}

#[test]
fn case_51_wait_for() {
    common::check_case("helpers/wait_for", || {
        stackless::run(
            #[coroutine]
            static |_| -> Result<()> {
                let lp = get_running_loop()?;
                let state: Rc<RefCell<Vec<String>>> = Rc::default();
                let s = state.clone();
                let fut = lp.create_task_stackless(
                    #[coroutine]
                    static move |_| {
                        s.borrow_mut().push("running".into());
                        let slept = yield_from!(sleep(secs(10)));
                        s.borrow_mut().push("stopped".into());
                        slept?;
                        Ok("done")
                    },
                )?;
                match yield_from!(stackless::wait_for(&fut, Some(ms(50)))) {
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
                    py_strs(&state.borrow())
                );
                let started = Rc::new(Cell::new(false));
                let s = started.clone();
                let quick = yield_from!(stackless::wait_for_coro(
                    Some(Duration::ZERO),
                    #[coroutine]
                    static move |_| {
                        s.set(true);
                        Ok(())
                    }
                ));
                if quick.is_err_and(|e| e.isinstance::<TimeoutError>()) {
                    tprint!(
                        "timeout=0 with coroutine: started? {}",
                        py_bool(started.get())
                    );
                }
                let done = lp.create_future();
                done.set_result("ready")?;
                let ready = yield_from!(stackless::wait_for(&done, Some(Duration::ZERO)))?;
                tprint!("timeout=0 with done future -> {ready}");
                let slept = yield_from!(stackless::wait_for_coro(None, nap(ms(10), "slept")))?;
                tprint!("timeout=None -> {slept}");
                let ok = yield_from!(stackless::wait_for_coro(Some(secs(1)), nap(ms(10), "ok")))?;
                tprint!("fast enough -> {ok}");
                let inner_task = lp.create_task_stackless(
                    #[coroutine]
                    static |_| yield_from!(sleep(secs(10))),
                )?;
                let inner = inner_task.clone();
                let w = lp.create_task_stackless(
                    #[coroutine]
                    static move |_| yield_from!(stackless::wait_for(&inner, Some(secs(10)))),
                )?;
                yield_from!(sleep(ms(10)))?;
                w.cancel(None);
                if is_cancelled(&await_!(w)) {
                    tprint!(
                        "cancelling wait_for also cancels inner: {}",
                        py_bool(inner_task.cancelled())
                    );
                }
                Ok(())
            },
        )
        .unwrap();
    });
}

#[test]
fn case_53_timeout() {
    common::check_case("helpers/timeout", || {
        stackless::run(
            #[coroutine]
            static |_| -> Result<()> {
                let lp = get_running_loop()?;
                // `async with asyncio.timeout(0.01) as cm:`, keeping `cm` for after the block.
                let cm = Timeout::after(Some(ms(10)))?;
                let c = cm.clone();
                let r: Result<()> = yield_from!(cm.run_stackless(
                    #[coroutine]
                    static move |_| {
                        tprint!("{}", repr_head(&c));
                        yield_from!(sleep(secs(10)))
                    }
                ));
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
                let (c2, flag) = (cm2.clone(), cancelled.clone());
                let r = yield_from!(cm1.run_stackless(
                    #[coroutine]
                    static move |_| {
                        let inner: Result<()> = yield_from!(c2.run_stackless(
                            #[coroutine]
                            static |_| yield_from!(sleep(secs(10)))
                        ));
                        if is_cancelled(&inner) {
                            // The inner scope re-raises CancelledError; only the outer
                            // converts.
                            flag.set(true);
                        }
                        inner
                    }
                ));
                if r.is_err_and(|e| e.isinstance::<TimeoutError>()) {
                    tprint!(
                        "nested: inner saw CancelledError: {} both expired: {} {}",
                        py_bool(cancelled.get()),
                        py_bool(cm1.expired()),
                        py_bool(cm2.expired())
                    );
                }

                let cm = Timeout::after(Some(secs(10)))?;
                yield_from!(cm.run_stackless(
                    #[coroutine]
                    static |_| yield_from!(sleep(ms(10)))
                ))?;
                tprint!("not triggered: {} {:?}", py_bool(cm.expired()), cm);
                let cm = Timeout::after(None)?;
                yield_from!(cm.run_stackless(
                    #[coroutine]
                    static |_| yield_from!(sleep(ms(10)))
                ))?;
                tprint!(
                    "disabled: {} {:?}",
                    cm.when().map_or("None".into(), |w| format!("{w:?}")),
                    cm
                );

                let cm = Timeout::after(Some(ms(10)))?;
                let r: Result<()> = yield_from!(cm.run_stackless(
                    #[coroutine]
                    static |_| Err(key_error("foreign"))
                ));
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
                let r = yield_from!(cm.run_stackless(
                    #[coroutine]
                    static |_| yield_from!(sleep(Duration::ZERO))
                ));
                if r.is_err_and(|e| e.isinstance::<TimeoutError>()) {
                    tprint!("timeout(0) fires at the first await (next iteration)");
                }
                if let Err(e) = yield_from!(cm.run_stackless(
                    #[coroutine]
                    static |_| Ok(())
                )) {
                    tprint!("re-enter RuntimeError: {}", py_str(&e));
                }
                Ok(())
            },
        )
        .unwrap();
    });
}

/// `async def cleanup(*tasks)`: cancels the task and waits for it to end.
fn cleanup(t: &Task<()>) -> impl Body<()> + use<> {
    let t = t.clone();
    #[coroutine]
    static move |_| {
        t.cancel(None);
        yield_from!(stackless::wait([&t], None, ReturnWhen::AllCompleted))?;
        Ok(())
    }
}

#[test]
fn wait_modes() {
    common::check_case("helpers/wait_modes", || {
        stackless::run(
            #[coroutine]
            static |_| -> Result<()> {
                let l = get_running_loop()?;
                tprint!("== ALL_COMPLETED");
                let a = named(l.create_task_stackless(nap(ms(1), ()))?, "a");
                let b = named(l.create_task_stackless(nap(ms(2), ()))?, "b");
                let (done, pending) =
                    yield_from!(stackless::wait([&b, &a], None, ReturnWhen::AllCompleted))?;
                tprint!("done {} pending {}", names(&done), names(&pending));
                let (done, pending) =
                    yield_from!(stackless::wait([&b, &a], None, ReturnWhen::AllCompleted))?;
                tprint!("again, already done: {} {}", names(&done), names(&pending));

                tprint!("== FIRST_COMPLETED");
                let a = named(l.create_task_stackless(forever(&l))?, "a");
                let b = named(l.create_task_stackless(nap(ms(1), ()))?, "b");
                let (done, pending) =
                    yield_from!(stackless::wait([&b, &a], None, ReturnWhen::FirstCompleted))?;
                b.result()?;
                tprint!(
                    "done {} pending {} b result None",
                    names(&done),
                    names(&pending)
                );
                yield_from!(stackless::Coroutine::new(cleanup(&a)))?;

                tprint!("== FIRST_COMPLETED sees every child already done");
                let a = named(l.create_task_stackless(nap(Duration::ZERO, ()))?, "a");
                let b = named(
                    l.create_task_stackless(
                        #[coroutine]
                        static |_| {
                            yield_now!()?;
                            yield_now!()
                        },
                    )?,
                    "b",
                );
                let (done, pending) =
                    yield_from!(stackless::wait([&b, &a], None, ReturnWhen::FirstCompleted))?;
                tprint!("done {} pending {}", names(&done), names(&pending));

                tprint!("== FIRST_EXCEPTION, a child fails at once");
                let a = named(l.create_task_stackless(forever(&l))?, "a");
                let b = named(
                    l.create_task_stackless(fail_after(Duration::ZERO, "err"))?,
                    "b",
                );
                let (done, pending) =
                    yield_from!(stackless::wait([&b, &a], None, ReturnWhen::FirstException))?;
                let exc = b.exception()?.unwrap();
                tprint!(
                    "done {} pending {} {}",
                    names(&done),
                    names(&pending),
                    py_repr(&exc)
                );
                yield_from!(stackless::Coroutine::new(cleanup(&a)))?;

                tprint!("== FIRST_EXCEPTION, a child fails while waiting");
                let a = named(l.create_task_stackless(forever(&l))?, "a");
                let b = named(l.create_task_stackless(fail_after(ms(1), "err"))?, "b");
                let c = named(l.create_task_stackless(nap(Duration::ZERO, ()))?, "c");
                let (done, pending) = yield_from!(stackless::wait(
                    [&b, &a, &c],
                    None,
                    ReturnWhen::FirstException
                ))?;
                let exc = b.exception()?.unwrap();
                tprint!(
                    "done {} pending {} {}",
                    names(&done),
                    names(&pending),
                    py_repr(&exc)
                );
                yield_from!(stackless::Coroutine::new(cleanup(&a)))?;

                tprint!("== FIRST_EXCEPTION: a cancelled child is no exception");
                let a = named(l.create_task_stackless(nap(ms(2), ()))?, "a");
                let b = named(l.create_task_stackless(forever(&l))?, "b");
                let bc = b.clone();
                l.call_later(ms(1), move || {
                    bc.cancel(None);
                })?;
                let (done, pending) =
                    yield_from!(stackless::wait([&b, &a], None, ReturnWhen::FirstException))?;
                tprint!(
                    "done {} pending {} b cancelled {}",
                    names(&done),
                    names(&pending),
                    py_bool(b.cancelled())
                );

                tprint!("== ALL_COMPLETED with a failure");
                let a = named(l.create_task_stackless(nap(ms(1), ()))?, "a");
                let b = named(l.create_task_stackless(fail_after(ms(2), "really"))?, "b");
                let (done, pending) =
                    yield_from!(stackless::wait([&b, &a], None, ReturnWhen::AllCompleted))?;
                let failed: Vec<String> = done
                    .iter()
                    .filter(|t| matches!(t.exception(), Ok(Some(_))))
                    .map(Task::get_name)
                    .collect();
                tprint!(
                    "done {} pending {} failed {}",
                    names(&done),
                    names(&pending),
                    py_strs(&failed)
                );

                tprint!("== duplicates count once");
                let c = named(l.create_task_stackless(nap(Duration::ZERO, "test"))?, "c");
                let d = named(l.create_task_stackless(nap(Duration::ZERO, "spam"))?, "d");
                let (done, pending) = yield_from!(stackless::wait(
                    [&c, &c, &d],
                    None,
                    ReturnWhen::AllCompleted
                ))?;
                let mut results: Vec<&str> = done.iter().map(|t| t.result().unwrap()).collect();
                results.sort();
                tprint!(
                    "done {} {} pending {}",
                    names(&done),
                    py_strs(&results),
                    names(&pending)
                );

                tprint!("== errors");
                if let Err(e) = yield_from!(stackless::wait(
                    std::iter::empty::<&Task<()>>(),
                    None,
                    ReturnWhen::AllCompleted
                )) {
                    tprint!("{}: {}", py_name(&e), py_str(&e));
                }
                Ok(())
            },
        )
        .unwrap();
    });
}

#[test]
fn as_completed_cases() {
    common::check_case("helpers/as_completed", || {
        stackless::run(
            #[coroutine]
            static |_| -> Result<()> {
                let l = get_running_loop()?;
                tprint!("== completion order");
                let a = l.create_task_stackless(nap(ms(1), "a"))?;
                let b = l.create_task_stackless(nap(ms(2), "b"))?;
                let c = l.create_task_stackless(nap(ms(3), "c"))?;
                let mut values = Vec::new();
                for next in as_completed([&b, &c, &a], None)? {
                    values.push(yield_from!(next.wait_stackless())?);
                }
                tprint!("{}", py_strs(&values));

                tprint!("== errors come out of the wait");
                let failer = l.create_task_stackless(
                    #[coroutine]
                    static |_| -> Result<&'static str> {
                        yield_from!(sleep(ms(1)))?;
                        Err(zero_division("boom"))
                    },
                )?;
                let ok = l.create_task_stackless(nap(ms(2), "ok"))?;
                for next in as_completed([&failer, &ok], None)? {
                    match yield_from!(next.wait_stackless()) {
                        Ok(v) => tprint!("got {v}"),
                        Err(e) => tprint!("raised {}", py_repr(&e)),
                    }
                }

                tprint!("== timeout");
                let release = l.create_future::<()>();
                let r = release.clone();
                let a = l.create_task_stackless(nap(ms(1), "a"))?;
                let b = l.create_task_stackless(
                    #[coroutine]
                    static move |_| {
                        await_!(r)?;
                        Ok("b")
                    },
                )?;
                let mut values = Vec::new();
                for next in as_completed([&a, &b], Some(ms(20)))? {
                    match yield_from!(next.wait_stackless()) {
                        Ok(v) => values.push(format!("(1, '{v}')")),
                        Err(e) if e.isinstance::<TimeoutError>() => {
                            values.push(format!("(2, {})", py_repr(&e)))
                        }
                        Err(e) => return Err(e),
                    }
                }
                tprint!(
                    "[{}] b cancelled: {}",
                    values.join(", "),
                    py_bool(b.cancelled())
                );
                release.set_result(())?;
                let later = await_!(b)?;
                tprint!("b finishes later: {later}");

                tprint!("== unused timeout");
                let a = l.create_task_stackless(nap(ms(1), "a"))?;
                for next in as_completed([&a], Some(secs(10)))? {
                    let got = yield_from!(next.wait_stackless())?;
                    tprint!("got {got}");
                }

                tprint!("== waits are served in the order they are awaited");
                let a = l.create_task_stackless(nap(ms(1), "a"))?;
                let b = l.create_task_stackless(nap(ms(3), "b"))?;
                let mut futs: Vec<NextDone<&str>> = as_completed([&a, &b], None)?.collect();
                tprint!("len {}", futs.len());
                let second = futs.remove(1);
                let got = yield_from!(second.wait_stackless())?;
                tprint!("second wait first: {got}");
                let first = futs.remove(0);
                let got = yield_from!(first.wait_stackless())?;
                tprint!("then the first: {got}");

                tprint!("== concurrent waits");
                let a = l.create_task_stackless(nap(ms(1), "a"))?;
                let b = l.create_task_stackless(nap(ms(1), "b"))?;
                let mut waits = Vec::new();
                for next in as_completed([&a, &b], None)? {
                    waits.push(l.create_task_stackless(
                        #[coroutine]
                        static move |_| yield_from!(next.wait_stackless()),
                    )?);
                }
                let (done, pending) =
                    yield_from!(stackless::wait(&waits, None, ReturnWhen::AllCompleted))?;
                let mut results: Vec<&str> = done.iter().map(|t| t.result().unwrap()).collect();
                results.sort();
                tprint!("{} {}", py_strs(&results), pending.len());

                tprint!("== duplicates count once");
                let c = l.create_task_stackless(nap(Duration::ZERO, "ham"))?;
                let spam = l.create_task_stackless(nap(Duration::ZERO, "spam"))?;
                let mut result = Vec::new();
                for next in as_completed([&c, &c, &spam], None)? {
                    result.push(yield_from!(next.wait_stackless())?);
                }
                let n = result.len();
                result.sort();
                tprint!("{} {}", py_strs(&result), n);

                tprint!("== a cancelled wait passes its turn on");
                let a = l.create_task_stackless(nap(ms(1), "a"))?;
                let b = l.create_task_stackless(nap(ms(2), "b"))?;
                let mut waits = as_completed([&a, &b], None)?;
                let (first, second) = (waits.next().unwrap(), waits.next().unwrap());
                let w = l.create_task_stackless(
                    #[coroutine]
                    static move |_| yield_from!(first.wait_stackless()),
                )?;
                yield_now!()?;
                tprint!("cancel the first wait: {}", py_bool(w.cancel(None)));
                if is_cancelled(&await_!(w)) {
                    tprint!("first wait cancelled");
                }
                let got = yield_from!(second.wait_stackless())?;
                tprint!("the second wait gets {got}");
                await_!(b)?;

                tprint!("== no children");
                let none: Vec<NextDone<i32>> =
                    as_completed(std::iter::empty::<&Task<i32>>(), None)?.collect();
                tprint!("{:?}", none.iter().map(|_| 0).collect::<Vec<i32>>());
                Ok(())
            },
        )
        .unwrap();
    });
}

#[test]
fn taskgroup_basic() {
    common::check_case("helpers/taskgroup_basic", || {
        stackless::run(
            #[coroutine]
            static |_| -> Result<()> {
                let (t1, t2) = yield_from!(stackless::task_group(|g| {
                    #[coroutine]
                    static move |_| {
                        let t1 = g.create_task_stackless(foo("t1", ms(10), 42))?;
                        let t2 = g.create_task_stackless(foo("t2", ms(20), 11))?;
                        tprint!(
                            "body over; children done: {} {}",
                            py_bool(t1.done()),
                            py_bool(t2.done())
                        );
                        Ok((t1, t2))
                    }
                }))?;
                tprint!("after the group: {} {}", t1.result()?, t2.result()?);

                let (t1, t2) = yield_from!(stackless::task_group(|g| {
                    #[coroutine]
                    static move |_| {
                        let t1 = g.create_task_stackless(foo("t1", ms(10), 42))?;
                        yield_from!(sleep(ms(20)))?;
                        let t2 = g.create_task_stackless(foo("t2", ms(10), 11))?;
                        Ok((t1, t2))
                    }
                }))?;
                tprint!("after the group: {} {}", t1.result()?, t2.result()?);

                let (t1, t2) = yield_from!(stackless::task_group(|g| {
                    #[coroutine]
                    static move |_| {
                        let t1 = g.create_task_stackless(foo("t1", secs(1), 42))?;
                        yield_from!(sleep(ms(10)))?;
                        t1.cancel(None);
                        let t2 = g.create_task_stackless(foo("t2", ms(20), 11))?;
                        Ok((t1, t2))
                    }
                }))?;
                tprint!(
                    "t1 cancelled: {} t2: {}",
                    py_bool(t1.cancelled()),
                    t2.result()?
                );

                yield_from!(stackless::task_group(|g| {
                    #[coroutine]
                    static move |_| {
                        let g2 = g.clone();
                        g.create_task_stackless(
                            #[coroutine]
                            static move |_| {
                                yield_from!(sleep(ms(10)))?;
                                g2.create_task_stackless(foo("grandchild-1", ms(10), 1))?;
                                g2.create_task_stackless(foo("grandchild-2", ms(20), 2))?;
                                tprint!("root done");
                                Ok(())
                            },
                        )?;
                        Ok(())
                    }
                }))?;
                tprint!("the group waited for the children a child added");

                let g = TaskGroup::new();
                tprint!("{g:?}");
                let g2 = g.clone();
                yield_from!(g.run_stackless(
                    #[coroutine]
                    static move |_| {
                        g2.create_task_stackless(foo("x", ms(10), 0))?;
                        tprint!("{g2:?}");
                        Ok(())
                    }
                ))?;
                tprint!("{g:?}");
                Ok(())
            },
        )
        .unwrap();
    });
}

/// Stacks taken from this thread's pool so far (fresh or reused).
fn stacks_taken(s: StackPoolStats) -> u64 {
    s.mapped + s.reused
}

#[test]
fn stackless_tasks_waiting_in_the_native_helpers_hold_no_stack() {
    const N: usize = 50;
    let before = stack_pool_stats();
    let lp = EventLoop::new().unwrap();
    let gate = lp.create_future::<()>();
    let mut tasks: Vec<Task<usize>> = Vec::new();
    for i in 0..N {
        let g = gate.clone();
        let task = match i % 5 {
            0 => lp.create_task_stackless(
                #[coroutine]
                static move |_| {
                    yield_from!(stackless::wait_for(&g, Some(secs(60))))?;
                    Ok(0)
                },
            ),
            1 => lp.create_task_stackless(
                #[coroutine]
                static move |_| {
                    yield_from!(stackless::timeout(
                        Some(secs(60)),
                        #[coroutine]
                        static move |_| await_!(g)
                    ))?;
                    Ok(1)
                },
            ),
            2 => lp.create_task_stackless(
                #[coroutine]
                static move |_| {
                    let (done, _) =
                        yield_from!(stackless::wait([&g], None, ReturnWhen::FirstCompleted))?;
                    Ok(done.len() + 1)
                },
            ),
            3 => lp.create_task_stackless(
                #[coroutine]
                static move |_| {
                    for next in as_completed([&g], Some(secs(60)))? {
                        yield_from!(next.wait_stackless())?;
                    }
                    Ok(3)
                },
            ),
            _ => lp.create_task_stackless(
                #[coroutine]
                static move |_| {
                    // The parent waits in the group's exit for a child waiting on the gate.
                    yield_from!(stackless::task_group(move |tg| {
                        #[coroutine]
                        static move |_| {
                            tg.create_task_stackless(
                                #[coroutine]
                                static move |_| await_!(g),
                            )?;
                            Ok(())
                        }
                    }))?;
                    Ok(4)
                },
            ),
        };
        tasks.push(task.unwrap());
    }
    for _ in 0..3 {
        common::run_briefly(&lp);
    }
    assert!(tasks.iter().all(|t| !t.done()), "every task waits");
    assert_eq!(
        stacks_taken(stack_pool_stats()),
        stacks_taken(before),
        "no stack taken while {N} stackless tasks wait in the helpers"
    );

    // The counter does see a stack: the same wait through `stackful` takes one.
    let g = gate.clone();
    let through_stackful = lp
        .create_task_stackless(
            #[coroutine]
            static move |_| {
                yield_from!(stackful(move |co| tulip::wait_for(co, &g, Some(secs(60)))))
            },
        )
        .unwrap();
    common::run_briefly(&lp);
    assert!(stacks_taken(stack_pool_stats()) > stacks_taken(before));
    let after_stackful = stacks_taken(stack_pool_stats());

    gate.set_result(()).unwrap();
    for (i, t) in tasks.iter().enumerate() {
        assert_eq!(lp.run_until_complete(t).unwrap(), i % 5);
    }
    lp.run_until_complete(&through_stackful).unwrap();
    assert_eq!(stacks_taken(stack_pool_stats()), after_stackful);
    lp.close().unwrap();
}

/// A task waiting at `body` (after one iteration), then cancelled: its outcome, and what the
/// body saw.
fn cancel_waiting<T: Clone + 'static>(lp: &EventLoop, body: impl Body<T>) -> (Task<T>, Result<T>) {
    let task = lp.create_task_stackless(body).unwrap();
    common::run_briefly(lp);
    common::run_briefly(lp);
    assert!(!task.done(), "the task waits");
    assert!(task.cancel(None));
    let outcome = lp.run_until_complete(&task);
    (task, outcome)
}

#[test]
fn cancelling_a_task_waiting_in_wait_for_cancels_the_inner_one_and_waits_for_it() {
    let lp = EventLoop::new().unwrap();
    let cleaned = Rc::new(Cell::new(false));
    let c = cleaned.clone();
    let inner = lp
        .create_task_stackless(
            #[coroutine]
            static move |_| {
                let r = yield_from!(sleep(secs(60)));
                // Its cleanup takes an iteration: wait_for still waits for it.
                yield_now!()?;
                c.set(true);
                r
            },
        )
        .unwrap();
    let i = inner.clone();
    let seen = Rc::new(Cell::new(false));
    let s = seen.clone();
    let (task, outcome) = cancel_waiting(
        &lp,
        #[coroutine]
        static move |_| {
            let r = yield_from!(stackless::wait_for(&i, Some(secs(60))));
            s.set(is_cancelled(&r) && i.cancelled());
            r
        },
    );
    assert!(is_cancelled(&outcome) && task.cancelled());
    assert!(
        seen.get(),
        "CancelledError out of wait_for once inner is cancelled"
    );
    assert!(cleaned.get(), "inner finished its cleanup first");
    lp.close().unwrap();
}

#[test]
fn cancelling_a_task_waiting_in_a_timeout_scope_is_a_cancel_not_a_timeout() {
    let lp = EventLoop::new().unwrap();
    let cm = Timeout::new(Some(lp.time() + secs(60)));
    let c = cm.clone();
    let body_saw = Rc::new(Cell::new(false));
    let b = body_saw.clone();
    let (task, outcome) = cancel_waiting(
        &lp,
        #[coroutine]
        static move |_| {
            let b = b.clone();
            yield_from!(c.run_stackless(
                #[coroutine]
                static move |_| {
                    let r = yield_from!(sleep(secs(60)));
                    b.set(is_cancelled(&r));
                    r
                }
            ))
        },
    );
    assert!(body_saw.get());
    assert!(is_cancelled(&outcome) && task.cancelled());
    assert!(!cm.expired());
    assert_eq!(format!("{cm:?}"), "<Timeout [finished]>");
    // The deadline was disarmed: nothing is left to fire.
    assert!(cm.reschedule(None).is_err());
    lp.close().unwrap();
}

#[test]
fn cancelling_a_task_waiting_in_wait_leaves_the_children_alone() {
    let lp = EventLoop::new().unwrap();
    let child: Future<()> = lp.create_future();
    let c = child.clone();
    let (task, outcome) = cancel_waiting(
        &lp,
        #[coroutine]
        static move |_| yield_from!(stackless::wait([&c], None, ReturnWhen::AllCompleted)),
    );
    assert!(is_cancelled(&outcome) && task.cancelled());
    assert!(!child.done(), "the child is not cancelled");
    // Its done callback was removed: finishing it now wakes nobody.
    child.set_result(()).unwrap();
    common::run_briefly(&lp);
    lp.close().unwrap();
}

#[test]
fn cancelling_a_task_waiting_in_as_completed_passes_its_turn_on() {
    let lp = EventLoop::new().unwrap();
    let child: Future<i32> = lp.create_future();
    let mut waits = as_completed([&child], None).unwrap();
    let first = waits.next().unwrap();
    let (task, outcome) = cancel_waiting(
        &lp,
        #[coroutine]
        static move |_| yield_from!(first.wait_stackless()),
    );
    assert!(is_cancelled(&outcome) && task.cancelled());
    assert!(!child.done());
    // The cancelled wait is gone, and a wait made before the child finishes still gets it.
    let second: NextDone<i32> = as_completed([&child], None).unwrap().next().unwrap();
    let waiting = lp
        .create_task_stackless(
            #[coroutine]
            static move |_| yield_from!(second.wait_stackless()),
        )
        .unwrap();
    child.set_result(5).unwrap();
    assert_eq!(lp.run_until_complete(&waiting).unwrap(), 5);
    lp.close().unwrap();
}

#[test]
fn cancelling_a_task_waiting_in_a_task_group_cancels_the_children() {
    let lp = EventLoop::new().unwrap();
    // Waiting in the body, then waiting in the exit for the children.
    for in_body in [true, false] {
        let children: Rc<RefCell<Vec<Task<()>>>> = Rc::default();
        let ch = children.clone();
        let (task, outcome) = cancel_waiting(
            &lp,
            #[coroutine]
            static move |_| {
                let ch = ch.clone();
                yield_from!(stackless::task_group(move |tg| {
                    #[coroutine]
                    static move |_| {
                        for _ in 0..2 {
                            let child = tg.create_task_stackless(
                                #[coroutine]
                                static |_| yield_from!(sleep(secs(60))),
                            )?;
                            ch.borrow_mut().push(child);
                        }
                        if in_body {
                            yield_from!(sleep(secs(60)))?;
                        }
                        Ok(())
                    }
                }))
            },
        );
        assert!(
            is_cancelled(&outcome) && task.cancelled(),
            "in body: {in_body}"
        );
        assert_eq!(task.cancelling(), 1);
        let children = children.borrow();
        assert_eq!(children.len(), 2);
        assert!(children.iter().all(Task::cancelled), "in body: {in_body}");
    }
    lp.close().unwrap();
}

#[test]
fn a_failing_child_aborts_a_stackless_group_and_errors_are_grouped() {
    let errs = stackless::run(
        #[coroutine]
        static |_| -> Result<String> {
            let sibling: Rc<RefCell<Option<Task<()>>>> = Rc::default();
            let s = sibling.clone();
            let r: Result<()> = yield_from!(stackless::task_group(move |tg| {
                #[coroutine]
                static move |_| {
                    tg.create_task_stackless(fail_after(ms(1), "child"))?;
                    *s.borrow_mut() = Some(tg.create_task_stackless(
                        #[coroutine]
                        static |_| yield_from!(sleep(secs(60))),
                    )?);
                    // The group cancels the body at this wait.
                    yield_from!(sleep(secs(60)))?;
                    Ok(())
                }
            }));
            let e = r.unwrap_err();
            assert!(sibling.borrow().as_ref().unwrap().cancelled());
            assert_eq!(cancelling(), 0, "the group uncancelled the parent");
            Ok(py_repr(&e))
        },
    )
    .unwrap();
    assert_eq!(
        errs,
        "ExceptionGroup('unhandled errors in a TaskGroup', [ZeroDivisionError('child')])"
    );
}

#[test]
fn a_stackless_timeout_made_outside_a_loop_fails_when_awaited() {
    // `asyncio.timeout(d)` needs a running loop: the error comes out of the await.
    let lp = EventLoop::new().unwrap();
    let scope = stackless::timeout(
        Some(secs(1)),
        #[coroutine]
        static |_| Ok(()),
    );
    let task = lp
        .create_task_stackless(
            #[coroutine]
            static move |_| yield_from!(scope),
        )
        .unwrap();
    let err = lp.run_until_complete(&task).unwrap_err();
    assert_eq!(py_str(&err), "no running event loop");
    lp.close().unwrap();
}

/// `async def slow_cleanup()`: its cleanup after a cancel takes a while.
fn slow_cleanup() -> impl Body<()> {
    #[coroutine]
    static |_| {
        let r = yield_from!(sleep(secs(10)));
        if is_cancelled(&r) {
            tprint!("inner: cleaning up");
            yield_from!(sleep(ms(10)))?;
            tprint!("inner: cleaned up");
        }
        r
    }
}

#[test]
fn wait_for_more() {
    common::check_case("helpers/wait_for_more", || {
        // `wait_for(coro(), t)` is `wait_for(create_task(coro()), t)`.
        stackless::run(
            #[coroutine]
            static |_| -> Result<()> {
                let lp = get_running_loop()?;

                let swallow = lp.create_task_stackless(
                    #[coroutine]
                    static |_| {
                        if is_cancelled(&yield_from!(sleep(secs(1)))) {
                            tprint!("inner: cancelled, returning 1 anyway");
                        }
                        Ok(1)
                    },
                )?;
                let swallowed = yield_from!(stackless::wait_for(&swallow, Some(ms(10))))?;
                tprint!("swallowed cancel -> {swallowed}");

                let t = lp.create_task_stackless(slow_cleanup())?;
                if let Err(e) = yield_from!(stackless::wait_for(&t, Some(ms(10)))) {
                    assert!(e.isinstance::<TimeoutError>());
                    tprint!(
                        "TimeoutError after the cleanup; inner done: {} cause: {}",
                        py_bool(t.done()),
                        cause_name(&e)
                    );
                }
                let t = lp.create_task_stackless(slow_cleanup())?;
                yield_from!(sleep(ms(10)))?;
                if let Err(e) = yield_from!(stackless::wait_for(&t, Some(Duration::ZERO))) {
                    assert!(e.isinstance::<TimeoutError>());
                    tprint!(
                        "timeout=0: TimeoutError after the cleanup; inner done: {} cause: {}",
                        py_bool(t.done()),
                        cause_name(&e)
                    );
                }

                let fails_on_cancel = lp.create_task_stackless(
                    #[coroutine]
                    static |_| {
                        let _ = yield_from!(sleep(secs(10)));
                        Err::<(), _>(ValueError::new("from finally").into())
                    },
                )?;
                let r = yield_from!(stackless::wait_for(&fails_on_cancel, Some(ms(10))));
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
                let got = yield_from!(stackless::wait_for(&fut, Some(secs(1))))?;
                tprint!("result before the deadline -> {got}");

                let fails = lp.create_task_stackless(
                    #[coroutine]
                    static |_| {
                        yield_from!(sleep(ms(10)))?;
                        Err::<(), _>(key_error("early"))
                    },
                )?;
                if let Err(e) = yield_from!(stackless::wait_for(&fails, Some(secs(1)))) {
                    tprint!(
                        "an error before the deadline passes through: {}",
                        py_repr(&e)
                    );
                }

                let inner_task = lp.create_task_stackless(
                    #[coroutine]
                    static |_| {
                        if yield_from!(sleep(secs(1))).is_err() {
                            tprint!("stubborn: cancel swallowed");
                            yield_from!(sleep(ms(200)))?;
                        }
                        Ok(42)
                    },
                )?;
                let inner = inner_task.clone();
                let waiting = lp.create_task_stackless(
                    #[coroutine]
                    static move |_| yield_from!(stackless::wait_for(&inner, Some(ms(20)))),
                )?;
                yield_from!(sleep(ms(100)))?;
                waiting.cancel(None);
                if is_cancelled(&await_!(waiting)) {
                    tprint!(
                        "wait_for cancelled while the inner held out; inner done: {}",
                        py_bool(inner_task.done())
                    );
                }
                let result = await_!(inner_task)?;
                tprint!("inner result: {result}");

                for (label, t) in [("None", None), ("60.0", Some(secs(60)))] {
                    let task = lp.create_task_stackless(
                        #[coroutine]
                        static |_| {
                            let never = get_running_loop()?.create_future::<()>();
                            await_!(never)
                        },
                    )?;
                    let inner = task.clone();
                    let waiting = lp.create_task_stackless(
                        #[coroutine]
                        static move |_| yield_from!(stackless::wait_for(&inner, t)),
                    )?;
                    let w = waiting.clone();
                    lp.call_soon(move || {
                        w.cancel(None);
                    })?;
                    if is_cancelled(&await_!(waiting)) {
                        tprint!(
                            "timeout={label}: wait_for cancelled; inner cancelled: {}",
                            py_bool(task.cancelled())
                        );
                    }
                }
                Ok(())
            },
        )
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
    tprint!("{what} cancelled children: {}", py_strs(&names));
}

/// `async def sleeper(name, delay)`: records its cancellation.
fn sleeper(name: &str, delay: Duration) -> impl Body<()> + use<> {
    let name = name.to_string();
    #[coroutine]
    static move |_| {
        let r = yield_from!(sleep(delay));
        if is_cancelled(&r) {
            CANCELLED.with(|c| c.borrow_mut().push(name.clone()));
        }
        r
    }
}

fn caught(r: Result<impl Sized>) -> Option<anyhow::Error> {
    match r {
        Err(e) if e.isinstance::<ExceptionGroup>() => Some(e),
        Err(e) => panic!("expected an ExceptionGroup, got {e:?}"),
        Ok(_) => None,
    }
}

/// `async def cancel_soon(coro)`: runs `coro` as a task, cancels it after 10 ms and shows
/// how it ended.
fn cancel_soon(coro: impl Body<()>) -> stackless::Coroutine<()> {
    stackless::Coroutine::new(
        #[coroutine]
        static move |_| {
            let r = get_running_loop()?.create_task_stackless(coro)?;
            yield_from!(sleep(ms(10)))?;
            tprint!("done before the cancel: {}", py_bool(r.done()));
            r.cancel(None);
            match await_!(r) {
                Err(e) if e.isinstance::<CancelledError>() => {
                    tprint!("-> CancelledError; cancelled: {}", py_bool(r.cancelled()))
                }
                Err(e) if e.isinstance::<ExceptionGroup>() => tprint!("-> {}", py_repr(&e)),
                other => panic!("unexpected {other:?}"),
            }
            Ok(())
        },
    )
}

/// `async def fails_when_cancelled()`: raises ZeroDivisionError once its sleep ends.
fn fails_when_cancelled() -> impl Body<()> {
    #[coroutine]
    static |_| {
        let _ = yield_from!(sleep(secs(10)));
        Err(zero_division("division by zero"))
    }
}

#[test]
fn taskgroup_cancel() {
    common::check_case("helpers/taskgroup_cancel", || {
        // Each runner is a stackless task whose group is a native stackless group.
        stackless::run(
            #[coroutine]
            static |_| -> Result<()> {
                let runner07 = #[coroutine]
                static |_| {
                    yield_from!(stackless::task_group(|g| {
                        #[coroutine]
                        static move |_| {
                            for i in 0..3 {
                                g.create_task_stackless(sleeper(&format!("s{i}"), secs(5)))?;
                            }
                            let r = yield_from!(sleep(secs(10)));
                            if is_cancelled(&r) {
                                tprint!("body cancelled");
                            }
                            r
                        }
                    }))
                };
                yield_from!(cancel_soon(runner07))?;
                report("07");

                let runner22 = #[coroutine]
                static |_| {
                    yield_from!(stackless::task_group(|g| {
                        #[coroutine]
                        static move |_| {
                            g.create_task_stackless(sleeper("a", secs(1)))?;
                            g.create_task_stackless(sleeper("b", secs(2)))?;
                            Ok(())
                        }
                    }))
                };
                yield_from!(cancel_soon(runner22))?;
                report("22");

                let runner17 = #[coroutine]
                static |_| {
                    yield_from!(stackless::task_group(|_| {
                        #[coroutine]
                        static |_| yield_from!(sleep(secs(10)))
                    }))
                };
                yield_from!(cancel_soon(runner17))?;

                let runner08 = #[coroutine]
                static |_| {
                    yield_from!(stackless::task_group(|g| {
                        #[coroutine]
                        static move |_| {
                            for _ in 0..2 {
                                g.create_task_stackless(fails_when_cancelled())?;
                            }
                            yield_from!(sleep(secs(10)))
                        }
                    }))
                };
                yield_from!(cancel_soon(runner08))?;

                let runner18 = #[coroutine]
                static |_| {
                    yield_from!(stackless::task_group(|_| {
                        #[coroutine]
                        static |_| match yield_from!(sleep(secs(10))) {
                            Err(e) if e.isinstance::<CancelledError>() => Err(key_error("instead")),
                            other => other,
                        }
                    }))
                };
                yield_from!(cancel_soon(runner18))?;

                let runner15 = #[coroutine]
                static |_| {
                    yield_from!(stackless::task_group(|g| {
                        #[coroutine]
                        static move |_| {
                            g.create_task_stackless(
                                #[coroutine]
                                static |_| {
                                    yield_from!(sleep(ms(100)))?;
                                    tprint!("crash_soon raises");
                                    Err::<(), _>(zero_division("division by zero"))
                                },
                            )?;
                            let r = yield_from!(sleep(secs(10)));
                            if is_cancelled(&r) {
                                tprint!("body cleans up");
                                let cleanup = yield_from!(sleep(ms(200)));
                                if is_cancelled(&cleanup) {
                                    tprint!("cleanup cancelled by the group");
                                }
                                cleanup?;
                            }
                            r
                        }
                    }))
                };
                yield_from!(cancel_soon(runner15))?;

                let survivor = get_running_loop()?.create_task_stackless(
                    #[coroutine]
                    static |_| {
                        let r = yield_from!(stackless::task_group(|g| {
                            #[coroutine]
                            static move |_| {
                                g.create_task_stackless(sleeper("x", Duration::ZERO))?;
                                yield_from!(sleep(Duration::ZERO))?;
                                g.create_task_stackless(sleeper("y", secs(5)))?;
                                Err::<(), _>(ValueError::new("body").into())
                            }
                        }));
                        if let Some(eg) = caught(r) {
                            tprint!(
                                "survivor caught {} cancelling: {}",
                                py_repr(&eg),
                                cancelling()
                            );
                        }
                        yield_from!(sleep(ms(10)))?;
                        Ok("survived")
                    },
                )?;
                let survived = await_!(survivor)?;
                tprint!("{survived}");
                report("survivor");
                Ok(())
            },
        )
        .unwrap();
    });
}

#[test]
fn timeout_more() {
    common::check_case("helpers/timeout_more", || {
        // `async with asyncio.timeout(d) as cm:` is `Timeout::after(d)` and
        // `cm.run_stackless(body)`, the body holding a clone of `cm`.
        stackless::run(
            #[coroutine]
            static |_| -> Result<()> {
                let lp = get_running_loop()?;

                let fut: Future<Timeout> = lp.create_future();
                let f = fut.clone();
                let task = lp.create_task_stackless(
                    #[coroutine]
                    static move |_| {
                        let cm = Timeout::after(Some(secs(10)))?;
                        let c = cm.clone();
                        yield_from!(cm.run_stackless(
                            #[coroutine]
                            static move |_| {
                                f.set_result(c.clone())?;
                                yield_from!(sleep(secs(50)))
                            }
                        ))
                    },
                )?;
                let cm = await_!(fut)?;
                cm.reschedule(Some(lp.time() + secs(30)))?;
                tprint!("rescheduled: {}", repr_head(&cm));
                cm.reschedule(None)?;
                tprint!("disarmed: None {cm:?}");
                assert!(cm.when().is_none());
                task.cancel(None);
                if is_cancelled(&await_!(task)) {
                    tprint!(
                        "a cancel from outside stays CancelledError; expired: {}",
                        py_bool(cm.expired())
                    );
                }

                let cm = Timeout::after(Some(secs(10)))?;
                let (c, l) = (cm.clone(), lp.clone());
                let r: Result<()> = yield_from!(cm.run_stackless(
                    #[coroutine]
                    static move |_| {
                        c.reschedule(Some(l.time() - secs(1)))?;
                        yield_from!(sleep(secs(10)))
                    }
                ));
                if r.is_err_and(|e| e.isinstance::<TimeoutError>()) {
                    tprint!(
                        "rescheduled into the past: TimeoutError; expired: {}",
                        py_bool(cm.expired())
                    );
                }

                let cm = Timeout::after(Some(ms(10)))?;
                let (c, l) = (cm.clone(), lp.clone());
                let r: Result<()> = yield_from!(cm.run_stackless(
                    #[coroutine]
                    static move |_| {
                        c.reschedule(Some(l.time() + ms(100)))?;
                        yield_from!(sleep(ms(20)))?;
                        tprint!("still running after the first deadline");
                        yield_from!(sleep(secs(10)))
                    }
                ));
                if r.is_err_and(|e| e.isinstance::<TimeoutError>()) {
                    tprint!("fired at the moved deadline");
                }

                let cm = Timeout::new(Some(lp.time() - secs(11)));
                let r = yield_from!(cm.run_stackless(
                    #[coroutine]
                    static |_| {
                        tprint!("body runs");
                        yield_from!(sleep(Duration::ZERO))?;
                        tprint!("not reached");
                        Ok(())
                    }
                ));
                if r.is_err_and(|e| e.isinstance::<TimeoutError>()) {
                    tprint!(
                        "past deadline: TimeoutError at the first await; expired: {}",
                        py_bool(cm.expired())
                    );
                }

                let cm = Timeout::after(Some(ms(10)))?;
                let (c, l) = (cm.clone(), lp.clone());
                yield_from!(cm.run_stackless(
                    #[coroutine]
                    static move |_| {
                        if is_cancelled(&yield_from!(sleep(secs(1)))) {
                            tprint!("body caught CancelledError; {c:?}");
                        }
                        if let Err(e) = c.reschedule(Some(l.time() + secs(1))) {
                            tprint!("RuntimeError: {}", py_str(&e));
                        }
                        Ok(())
                    }
                ))?;
                tprint!(
                    "no TimeoutError; expired: {} {cm:?} cancelling: {}",
                    py_bool(cm.expired()),
                    cancelling()
                );

                let t = lp.create_task_stackless(
                    #[coroutine]
                    static |_| {
                        yield_from!(stackless::timeout(
                            Some(secs(10)),
                            #[coroutine]
                            static |_| {
                                current_task(None)?.unwrap().cancel(None);
                                yield_from!(sleep(secs(10)))
                            }
                        ))
                    },
                )?;
                if is_cancelled(&await_!(t)) {
                    tprint!(
                        "a cancel inside an unexpired timeout stays CancelledError; cancelled: {}",
                        py_bool(t.cancelled())
                    );
                }

                let (outer, inner) = (
                    Timeout::after(Some(ms(100)))?,
                    Timeout::after(Some(ms(10)))?,
                );
                let (o, i) = (outer.clone(), inner.clone());
                let r: Result<()> = yield_from!(outer.run_stackless(
                    #[coroutine]
                    static move |_| {
                        let r: Result<()> = yield_from!(i.run_stackless(
                            #[coroutine]
                            static |_| yield_from!(sleep(secs(1)))
                        ));
                        if r.is_err_and(|e| e.isinstance::<TimeoutError>()) {
                            tprint!(
                                "inner TimeoutError; outer expired: {}",
                                py_bool(o.expired())
                            );
                        }
                        yield_from!(sleep(secs(1)))
                    }
                ));
                if r.is_err_and(|e| e.isinstance::<TimeoutError>()) {
                    tprint!(
                        "outer TimeoutError; inner expired: {} outer expired: {}",
                        py_bool(inner.expired()),
                        py_bool(outer.expired())
                    );
                }

                let r: Result<()> = yield_from!(stackless::timeout(
                    Some(ms(10)),
                    #[coroutine]
                    static |_| {
                        let body = yield_from!(sleep(secs(1)));
                        // `finally:` runs whatever the sleep gave.
                        let r: Result<()> = yield_from!(stackless::timeout(
                            Some(ms(10)),
                            #[coroutine]
                            static |_| yield_from!(sleep(secs(10)))
                        ));
                        if r.is_err_and(|e| e.isinstance::<TimeoutError>()) {
                            tprint!("timeout inside finally: TimeoutError");
                        }
                        body
                    }
                ));
                if r.is_err_and(|e| e.isinstance::<TimeoutError>()) {
                    tprint!("outer: TimeoutError");
                }

                let after_cancel = lp.create_task_stackless(
                    #[coroutine]
                    static |_| {
                        current_task(None)?.unwrap().cancel(None);
                        if is_cancelled(&yield_from!(sleep(secs(1)))) {
                            tprint!("cancelled; cancelling(): {}", cancelling());
                        }
                        let r: Result<()> = yield_from!(stackless::timeout(
                            Some(Duration::ZERO),
                            #[coroutine]
                            static |_| yield_from!(sleep(secs(1)))
                        ));
                        if r.is_err_and(|e| e.isinstance::<TimeoutError>()) {
                            tprint!("a timeout after a caught cancel still converts");
                        }
                        let r: Result<()> = yield_from!(stackless::timeout(
                            Some(secs(1)),
                            #[coroutine]
                            static |_| {
                                current_task(None)?.unwrap().cancel(None);
                                yield_from!(sleep(secs(2)))
                            }
                        ));
                        if is_cancelled(&r) {
                            tprint!(
                                "a new cancel inside it stays CancelledError; cancelling(): {}",
                                cancelling()
                            );
                        }
                        Ok("finished")
                    },
                )?;
                let finished = await_!(after_cancel)?;
                tprint!("after_cancel -> {finished}");

                let t = lp.create_task_stackless(
                    #[coroutine]
                    static |_| match yield_from!(stackless::timeout(
                        Some(ms(10)),
                        #[coroutine]
                        static |_| yield_from!(sleep(secs(10)))
                    )) {
                        Err(e) if e.isinstance::<TimeoutError>() => Ok("timed out"),
                        Err(e) => Err(e),
                        Ok(()) => Ok("not timed out"),
                    },
                )?;
                let outcome = await_!(t)?;
                tprint!("task -> {outcome} cancelled: {}", py_bool(t.cancelled()));

                // `await_without_task`: enter from a generator stepped by a plain callback.
                let cm = Timeout::after(Some(ms(10)))?;
                let c = cm.clone();
                lp.call_soon(move || {
                    let enter = stackless::Generator::new(
                        #[coroutine]
                        static move |_| {
                            yield_from!(c.run_stackless(
                                #[coroutine]
                                static |_| Ok(())
                            ))
                        },
                    );
                    if let Err(e) = enter.next() {
                        tprint!("entered outside a task: RuntimeError: {}", py_str(&e));
                    }
                })?;
                yield_now!()?;
                if let Err(e) = cm.reschedule(Some(lp.time() + secs(1))) {
                    tprint!("then reschedule: RuntimeError: {}", py_str(&e));
                }
                Ok(())
            },
        )
        .unwrap();
    });
}

/// `async def crash(name, delay, exc)`.
fn crash(
    name: &'static str,
    delay: Duration,
    exc: impl FnOnce() -> anyhow::Error + 'static,
) -> impl Body<()> {
    #[coroutine]
    static move |_| {
        yield_from!(sleep(delay))?;
        let exc = exc();
        tprint!("{name} raises {}", py_repr(&exc));
        Err(exc)
    }
}

fn division_by_zero() -> anyhow::Error {
    zero_division("division by zero")
}

#[test]
fn taskgroup_errors() {
    common::check_case("helpers/taskgroup_errors", || {
        stackless::run(
            #[coroutine]
            static |_| -> Result<()> {
                let lp = get_running_loop()?;
                let runner = lp.create_task_stackless(
                    #[coroutine]
                    static |_| {
                        let r = yield_from!(stackless::task_group(|g| {
                            #[coroutine]
                            static move |_| {
                                g.create_task_stackless(crash("c1", ms(10), division_by_zero))?;
                                g.create_task_stackless(sleeper("s1", secs(1)))?;
                                g.create_task_stackless(sleeper("s2", secs(1)))?;
                                let r = yield_from!(sleep(secs(10)));
                                if is_cancelled(&r) {
                                    tprint!("body cancelled");
                                }
                                r?;
                                tprint!("not reached");
                                Ok(())
                            }
                        }));
                        if let Some(eg) = caught(r) {
                            tprint!("caught {}", py_repr(&eg));
                            tprint!("str: {}", py_str(&eg));
                            tprint!("cancelling() after the group: {}", cancelling());
                        }
                        Ok("runner finished")
                    },
                )?;
                let finished = await_!(runner)?;
                tprint!("{finished}");
                report("04");

                let r: Result<()> = yield_from!(stackless::task_group(|g| {
                    #[coroutine]
                    static move |_| {
                        g.create_task_stackless(crash("c1", ms(10), || {
                            ValueError::new("a").into()
                        }))?;
                        g.create_task_stackless(
                            #[coroutine]
                            static |_| {
                                let _ = yield_from!(sleep(secs(1)));
                                Err::<(), _>(key_error("b"))
                            },
                        )?;
                        Ok(())
                    }
                }));
                if let Some(eg) = caught(r) {
                    let n = eg.exc::<ExceptionGroup>().unwrap().exceptions().len();
                    tprint!("caught {} count: {n}", py_repr(&eg));
                }

                let children = Rc::new(RefCell::new(None::<(Task<()>, Task<()>)>));
                let ch = children.clone();
                let r: Result<()> = yield_from!(stackless::task_group(move |g| {
                    #[coroutine]
                    static move |_| {
                        let t1 = g.create_task_stackless(sleeper("s1", secs(1)))?;
                        let t2 = g.create_task_stackless(sleeper("s2", secs(2)))?;
                        *ch.borrow_mut() = Some((t1, t2));
                        yield_from!(sleep(ms(10)))?;
                        Err::<(), _>(division_by_zero())
                    }
                }));
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

                let r: Result<()> = yield_from!(stackless::task_group(|g| {
                    #[coroutine]
                    static move |_| {
                        g.create_task_stackless(crash("c1", ms(10), division_by_zero))?;
                        let _ = yield_from!(sleep(secs(10)));
                        Err::<(), _>(key_error("from body"))
                    }
                }));
                if let Some(eg) = caught(r) {
                    tprint!("caught {}", py_repr(&eg));
                }

                let runner14 = lp.create_task_stackless(
                    #[coroutine]
                    static |_| {
                        yield_from!(stackless::task_group(|g1| {
                            #[coroutine]
                            static move |_| {
                                g1.create_task_stackless(sleeper("outer-child", secs(10)))?;
                                yield_from!(stackless::task_group(|g2| {
                                    #[coroutine]
                                    static move |_| {
                                        g2.create_task_stackless(crash(
                                            "inner-child",
                                            ms(10),
                                            || ValueError::new("inner").into(),
                                        ))?;
                                        Ok(())
                                    }
                                }))
                            }
                        }))
                    },
                )?;
                if let Some(eg) = caught(await_!(runner14)) {
                    tprint!("caught {}", py_repr(&eg));
                }
                report("14");

                let runner13 = lp.create_task_stackless(
                    #[coroutine]
                    static |_| {
                        yield_from!(stackless::task_group(|g1| {
                            #[coroutine]
                            static move |_| {
                                g1.create_task_stackless(crash("outer-child", ms(10), || {
                                    ValueError::new("outer").into()
                                }))?;
                                yield_from!(stackless::task_group(|g2| {
                                    #[coroutine]
                                    static move |_| {
                                        g2.create_task_stackless(sleeper("inner-child", secs(10)))?;
                                        Ok(())
                                    }
                                }))
                            }
                        }))
                    },
                )?;
                if let Some(eg) = caught(await_!(runner13)) {
                    tprint!("caught {}", py_repr(&eg));
                }
                report("13");
                Ok(())
            },
        )
        .unwrap();
    });
}

#[test]
fn wait_timeout() {
    common::check_case("helpers/wait_timeout", || {
        let lp = EventLoop::new().unwrap();
        let l = lp.clone();
        let main = lp
            .create_task_stackless(
                #[coroutine]
                static move |_| -> Result<()> {
                    let release = l.create_future::<()>();
                    let r = release.clone();
                    tprint!("== timeout");
                    let a = named(l.create_task_stackless(nap(ms(1), "a"))?, "a");
                    let b = named(
                        l.create_task_stackless(
                            #[coroutine]
                            static move |_| -> Result<&'static str> {
                                await_!(r)?;
                                Ok("slow done")
                            },
                        )?,
                        "b",
                    );
                    let (done, pending) = yield_from!(stackless::wait(
                        [&b, &a],
                        Some(ms(20)),
                        ReturnWhen::AllCompleted
                    ))?;
                    tprint!(
                        "done {} pending {} b cancelled: {}",
                        names(&done),
                        names(&pending),
                        py_bool(b.cancelled())
                    );

                    tprint!("== timeout and FIRST_COMPLETED, nothing finishes");
                    let (done, pending) = yield_from!(stackless::wait(
                        [&b],
                        Some(ms(1)),
                        ReturnWhen::FirstCompleted
                    ))?;
                    tprint!(
                        "done {} pending {} b cancelled: {}",
                        names(&done),
                        names(&pending),
                        py_bool(b.cancelled())
                    );

                    tprint!("== timeout not reached");
                    let c = named(l.create_task_stackless(nap(ms(1), "c"))?, "c");
                    let (done, pending) = yield_from!(stackless::wait(
                        [&c],
                        Some(secs(10)),
                        ReturnWhen::AllCompleted
                    ))?;
                    tprint!("done {} pending {}", names(&done), names(&pending));

                    release.set_result(())?;
                    let later = await_!(b)?;
                    tprint!("b finishes later: {later}");
                    Ok(())
                },
            )
            .unwrap();
        lp.run_until_complete(&main).unwrap();

        tprint!("== cancelling the waiting task leaves the children running");
        let proof = Rc::new(Cell::new(0));
        let waiter = lp.create_future::<()>();
        let (l, p, w) = (lp.clone(), proof.clone(), waiter.clone());
        let f = lp
            .create_task_stackless(
                #[coroutine]
                static move |_| {
                    let p2 = p.clone();
                    let inner = l.create_task_stackless(
                        #[coroutine]
                        static move |_| {
                            await_!(w)?;
                            p2.set(p2.get() + 1);
                            Ok(())
                        },
                    )?;
                    yield_from!(stackless::wait([&inner], None, ReturnWhen::AllCompleted))?;
                    p.set(p.get() + 100);
                    Ok(())
                },
            )
            .unwrap();
        common::run_briefly(&lp);
        tprint!("cancel: {}", py_bool(f.cancel(None)));
        if let Err(e) = lp.run_until_complete(&f) {
            tprint!("outer raised {}", py_repr(&e));
        }
        waiter.set_result(()).unwrap();
        common::run_briefly(&lp);
        common::run_briefly(&lp);
        tprint!("proof: {}", proof.get());
        lp.close().unwrap();
    });
}

#[test]
fn the_native_forms_wake_in_the_same_iteration_as_the_stackful_ones() {
    // Each helper twice, stackful (through `stackful`) and native, on one future resolved
    // in a later iteration: both forms return in the same loop iteration.
    let lp = EventLoop::new().unwrap();
    let gate = lp.create_future::<()>();
    let woke: Rc<RefCell<Vec<(usize, bool, u64)>>> = Rc::default();
    let mut tasks = Vec::new();
    for helper in 0..5 {
        for native in [false, true] {
            let (g, w, l) = (gate.clone(), woke.clone(), lp.clone());
            let task = lp
                .create_task_stackless(
                    #[coroutine]
                    static move |_| -> Result<()> {
                        let g2 = g.clone();
                        match (helper, native) {
                            (0, false) => yield_from!(stackful(move |co| tulip::wait_for(
                                co,
                                &g2,
                                Some(secs(60))
                            )))?,
                            (0, true) => yield_from!(stackless::wait_for(&g, Some(secs(60))))?,
                            (1, false) => yield_from!(stackful(move |co| tulip::timeout(
                                co,
                                Some(secs(60)),
                                |co, _| co.wait(&g2)
                            )))?,
                            (1, true) => yield_from!(stackless::timeout(
                                Some(secs(60)),
                                #[coroutine]
                                static move |_| await_!(g2)
                            ))?,
                            (2, false) => {
                                yield_from!(stackful(move |co| tulip::wait(
                                    co,
                                    [&g2],
                                    None,
                                    ReturnWhen::AllCompleted
                                )))?;
                            }
                            (2, true) => {
                                yield_from!(stackless::wait([&g], None, ReturnWhen::AllCompleted))?;
                            }
                            (3, false) => {
                                let next = as_completed([&g], None)?.next().unwrap();
                                yield_from!(stackful(move |co| next.wait(co)))?
                            }
                            (3, true) => {
                                let next = as_completed([&g], None)?.next().unwrap();
                                yield_from!(next.wait_stackless())?
                            }
                            (_, false) => {
                                yield_from!(stackful(move |co| tulip::task_group(co, |_, tg| {
                                    tg.create_task(move |co| co.wait(&g2))?;
                                    Ok(())
                                })))?
                            }
                            (_, true) => yield_from!(stackless::task_group(move |tg| {
                                #[coroutine]
                                static move |_| {
                                    tg.create_task_stackless(
                                        #[coroutine]
                                        static move |_| await_!(g2),
                                    )?;
                                    Ok(())
                                }
                            }))?,
                        }
                        w.borrow_mut().push((helper, native, l.iteration()));
                        Ok(())
                    },
                )
                .unwrap();
            tasks.push(task);
        }
    }
    for _ in 0..3 {
        common::run_briefly(&lp);
    }
    assert!(woke.borrow().is_empty());
    gate.set_result(()).unwrap();
    for t in &tasks {
        lp.run_until_complete(t).unwrap();
    }
    let woke = woke.borrow();
    assert_eq!(woke.len(), 10);
    for helper in 0..5 {
        let at = |native| {
            woke.iter()
                .find(|w| w.0 == helper && w.1 == native)
                .unwrap()
                .2
        };
        assert_eq!(at(false), at(true), "helper {helper}");
    }
    lp.close().unwrap();
}

#[test]
fn wait_for_coro_runs_inline_without_a_timeout_and_as_a_task_with_one() {
    let (inline, tasked) = stackless::run(
        #[coroutine]
        static |_| {
            let me = current_task(None)?.unwrap();
            let here = yield_from!(stackless::wait_for_coro(
                None,
                #[coroutine]
                static |_| {
                    yield_now!()?;
                    Ok(current_task(None)?.unwrap())
                }
            ))?;
            let there = yield_from!(stackless::wait_for_coro(
                Some(secs(60)),
                #[coroutine]
                static |_| {
                    yield_now!()?;
                    Ok(current_task(None)?.unwrap())
                }
            ))?;
            Ok((here.ptr_eq(&me), !there.ptr_eq(&me)))
        },
    )
    .unwrap();
    assert!(inline, "None: awaited in the calling task");
    assert!(tasked, "a timeout: a task of its own");
}

/// Timers armed and not cancelled.
fn live_timers(lp: &EventLoop) -> usize {
    let (all, cancelled) = lp.timer_stats();
    all - cancelled
}

#[test]
fn a_panicking_stackless_body_disarms_its_deadline_and_stops_its_children() {
    let children_cancelled = Rc::new(Cell::new(0));
    let cc = children_cancelled.clone();
    stackless::run(
        #[coroutine]
        static move |_| -> Result<()> {
            let lp = get_running_loop()?;
            let scope = lp.create_task_stackless(
                #[coroutine]
                static |_| {
                    yield_from!(stackless::timeout(
                        Some(secs(3600)),
                        #[coroutine]
                        static |_| -> Result<()> {
                            yield_from!(sleep(ms(1)))?;
                            panic!("body panicked in a timeout scope");
                        }
                    ))
                },
            )?;
            assert!(await_!(scope).unwrap_err().find::<Panic>().is_some());
            assert_eq!(live_timers(&lp), 0, "the deadline outlived its scope");

            let cc = cc.clone();
            let group = lp.create_task_stackless(
                #[coroutine]
                static move |_| {
                    let cc = cc.clone();
                    yield_from!(stackless::task_group(move |g| {
                        #[coroutine]
                        static move |_| -> Result<()> {
                            for _ in 0..3 {
                                let cc = cc.clone();
                                g.create_task_stackless(
                                    #[coroutine]
                                    static move |_| {
                                        let r = yield_from!(sleep(secs(3600)));
                                        if is_cancelled(&r) {
                                            cc.set(cc.get() + 1);
                                        }
                                        r
                                    },
                                )?;
                            }
                            yield_from!(sleep(ms(1)))?;
                            panic!("body panicked in a task group");
                        }
                    }))
                },
            )?;
            assert!(await_!(group).unwrap_err().find::<Panic>().is_some());
            yield_from!(sleep(ms(1)))?;
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(children_cancelled.get(), 3);
}
