//! gather, shield, wait and as_completed: cases 47 and 49 of
//! the asyncio behaviour cases and more behaviours from CPython's test_tasks.py, each
//! printing the same trace as its Python program in tests/cases/helpers/.
use crate::Body;
use crate::common::{self, py_bool, run_briefly};
use crate::tprint;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use tulip::errors::{Exception, py_name, py_repr, py_str};
use tulip::{
    Awaitable, CancelledError, ErrorExt, EventLoop, Future, Gathering, NextDone, ReturnWhen,
    RuntimeError, SharedError, Task, TimeoutError, as_completed, gather, gather_settled, shield,
};

/// Python's `a is b` for two errors read from futures: the same shared error.
fn same_error(a: &anyhow::Error, b: &anyhow::Error) -> bool {
    match (
        a.downcast_ref::<SharedError>(),
        b.downcast_ref::<SharedError>(),
    ) {
        (Some(x), Some(y)) => Arc::ptr_eq(&x.0, &y.0),
        _ => false,
    }
}

/// Python's repr of a list of strings.
fn py_strs<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<String> = items.iter().map(|s| format!("'{}'", s.as_ref())).collect();
    format!("[{}]", items.join(", "))
}

/// Python's repr of a `return_exceptions=True` result list.
fn py_entries<T>(items: &[Result<T, SharedError>], show: impl Fn(&T) -> String) -> String {
    let items: Vec<String> = items
        .iter()
        .map(|r| match r {
            Ok(v) => show(v),
            Err(e) => py_repr(&e.to_error()),
        })
        .collect();
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

fn zero_division(msg: Option<&str>) -> anyhow::Error {
    match msg {
        Some(m) => Exception::new("ZeroDivisionError", m).into(),
        None => Exception::bare("ZeroDivisionError").into(),
    }
}

/// `async def nap(ms, result)`: sleeps, then returns `result`.
fn nap<T: 'static>(ms: u64, result: T) -> impl Body<T> {
    body!(move |co| {
        sleep!(co, Duration::from_millis(ms))?;
        Ok(result)
    })
}

/// `async def fail_after(ms, msg)`: sleeps, then raises ZeroDivisionError(msg).
fn fail_after(ms: u64, msg: &'static str) -> impl Body<()> {
    body!(move |co| {
        sleep!(co, Duration::from_millis(ms))?;
        Err(zero_division(Some(msg)))
    })
}

/// `async def forever()`: awaits a future nobody resolves.
fn forever(lp: &EventLoop) -> impl Body<()> + use<> {
    let fut = lp.create_future::<()>();
    body!(move |co| wait!(co, fut))
}

#[test]
fn gather_basics() {
    common::check_case("helpers/gather_basics", || {
        let lp = EventLoop::new().unwrap();
        let other = EventLoop::new().unwrap();
        let (a, b, c) = (
            lp.create_future::<i32>(),
            lp.create_future(),
            lp.create_future(),
        );
        let g = gather([&a, &b, &c]).unwrap();
        b.set_result(1).unwrap();
        a.set_result(2).unwrap();
        run_briefly(&lp);
        tprint!("partial done: {}", py_bool(g.done()));
        c.set_result(3).unwrap();
        run_briefly(&lp);
        tprint!("result in argument order: {:?}", g.result().unwrap());

        let f: Vec<Future<i32>> = (0..5).map(|_| lp.create_future()).collect();
        let g = gather(&f).unwrap();
        f[0].set_result(1).unwrap();
        f[1].set_exception(zero_division(None)).unwrap();
        run_briefly(&lp);
        let exc = f[1].exception().unwrap().unwrap();
        tprint!(
            "first exception propagates immediately: {} {} c still pending: {}",
            py_bool(g.done()),
            py_bool(same_error(&g.exception().unwrap().unwrap(), &exc)),
            py_bool(!f[2].done())
        );
        f[2].set_result(3).unwrap();
        f[3].cancel(None);
        f[4].set_exception(Exception::bare("RuntimeError").into())
            .unwrap();
        let _ = f[4].exception();

        let f: Vec<Future<i32>> = (0..4).map(|_| lp.create_future()).collect();
        let g = gather_settled(&f).unwrap();
        f[1].set_result(1).unwrap();
        f[2].set_exception(zero_division(None)).unwrap();
        f[0].set_result(3).unwrap();
        run_briefly(&lp);
        tprint!("return_exceptions waits for all: {}", py_bool(g.done()));
        f[3].set_exception(Exception::bare("RuntimeError").into())
            .unwrap();
        run_briefly(&lp);
        tprint!("{}", py_entries(&g.result().unwrap(), i32::to_string));

        let (a, b) = (lp.create_future::<i32>(), lp.create_future());
        let g = gather([&a, &b]).unwrap();
        a.set_result(1).unwrap();
        b.cancel(None);
        run_briefly(&lp);
        tprint!(
            "child cancelled -> outer not cancelled: {} exception: {}",
            py_bool(g.cancelled()),
            py_repr(&g.exception().unwrap().unwrap())
        );

        let (a, b) = (lp.create_future::<i32>(), lp.create_future());
        let g = gather_settled([&a, &b]).unwrap();
        a.cancel(Some("why"));
        b.set_result(2).unwrap();
        tprint!(
            "{}",
            py_entries(&lp.run_until_complete(&g).unwrap(), i32::to_string)
        );

        let l = lp.clone();
        let dup = spawn!(lp, move |co| {
            let c = spawn!(l, |_co| Ok("abc"))?;
            let d = spawn!(l, |_co| Ok("def"))?;
            wait!(co, gather([&c, &c, &d, &c])?)
        })
        .unwrap();
        tprint!(
            "duplicates: {}",
            py_strs(&lp.run_until_complete(&dup).unwrap())
        );

        match gather([&lp.create_future::<i32>(), &other.create_future()]) {
            Ok(_) => tprint!("no error"),
            Err(e) => tprint!("{}: {}", py_name(&e), py_str(&e)),
        }

        let empty = spawn!(lp, |co| wait!(
            co,
            gather(std::iter::empty::<&Future<i32>>())?
        ))
        .unwrap();
        tprint!("empty gather: {:?}", lp.run_until_complete(&empty).unwrap());
        lp.close().unwrap();
        other.close().unwrap();
    });
}

#[test]
fn shield_basics() {
    common::check_case("helpers/shield_basics", || {
        let lp = EventLoop::new().unwrap();
        let inner = lp.create_future::<i32>();
        let outer = shield(&inner);
        inner.set_result(42).unwrap();
        tprint!("result: {}", lp.run_until_complete(&outer).unwrap());

        let inner = lp.create_future::<i32>();
        let outer = shield(&inner);
        run_briefly(&lp);
        inner
            .set_exception(RuntimeError::new("expected").into())
            .unwrap();
        run_briefly(&lp);
        let (o, i) = (
            outer.exception().unwrap().unwrap(),
            inner.exception().unwrap().unwrap(),
        );
        tprint!("exception forwarded: {}", py_bool(same_error(&o, &i)));

        let inner = lp.create_future::<i32>();
        let outer = shield(&inner);
        run_briefly(&lp);
        inner.cancel(None);
        run_briefly(&lp);
        tprint!(
            "inner cancelled -> outer cancelled: {}",
            py_bool(outer.cancelled())
        );

        let inner = lp.create_future::<i32>();
        let outer = shield(&inner);
        run_briefly(&lp);
        outer.cancel(None);
        run_briefly(&lp);
        tprint!(
            "outer cancelled: {} inner untouched: {}",
            py_bool(outer.cancelled()),
            py_bool(inner.cancelled())
        );

        let fut = lp.create_future::<i32>();
        fut.set_result(42).unwrap();
        tprint!(
            "shortcut returns same object when done: {}",
            py_bool(shield(&fut).ptr_eq(&fut))
        );

        let proof = Rc::new(Cell::new(0));
        let waiter = lp.create_future::<()>();
        let (l, p, w) = (lp.clone(), proof.clone(), waiter.clone());
        let f = spawn!(lp, move |co| {
            let p2 = p.clone();
            let inner = spawn!(l, move |co| {
                wait!(co, w)?;
                p2.set(p2.get() + 1);
                Ok(())
            })?;
            wait!(co, shield(&inner))?;
            p.set(p.get() + 100);
            Ok(())
        })
        .unwrap();
        run_briefly(&lp);
        f.cancel(None);
        match lp.run_until_complete(&f) {
            Err(e) if e.isinstance::<CancelledError>() => tprint!("outer task cancelled"),
            other => tprint!("unexpected: {other:?}"),
        }
        waiter.set_result(()).unwrap();
        run_briefly(&lp);
        tprint!("inner coroutine still completed, proof = {}", proof.get());
        lp.close().unwrap();
    });
}

#[test]
fn gather_repeats() {
    common::check_case("helpers/gather_repeats", || {
        let lp = EventLoop::new().unwrap();
        let (x, y, z) = (
            lp.create_future::<&str>(),
            lp.create_future(),
            lp.create_future(),
        );
        let g = gather([&x, &y, &x, &z, &y, &x]).unwrap();
        z.set_result("z").unwrap();
        x.set_result("x").unwrap();
        run_briefly(&lp);
        tprint!("two of three done: {}", py_bool(g.done()));
        y.set_result("y").unwrap();
        run_briefly(&lp);
        tprint!(
            "repeats in argument order: {}",
            py_strs(&g.result().unwrap())
        );

        let done = spawn!(lp, |_co| Ok("d")).unwrap();
        run_briefly(&lp);
        tprint!("child done before gather: {}", py_bool(done.done()));
        let g = gather([&done, &done]).unwrap();
        tprint!("gathered, callbacks queued: {}", py_bool(g.done()));
        run_briefly(&lp);
        tprint!(
            "one iteration later: {} {}",
            py_bool(g.done()),
            py_strs(&g.result().unwrap())
        );

        let a = named(spawn!(lp, forever(&lp)).unwrap(), "a");
        let b = named(spawn!(lp, |_co| Ok(())).unwrap(), "b");
        run_briefly(&lp);
        tprint!("b done: {}", py_bool(b.done()));
        let g = gather_settled([&a, &b, &a]).unwrap();
        tprint!("cancel: {}", py_bool(g.cancel(Some("m"))));
        tprint!("cancelling a, b: {} {}", a.cancelling(), b.cancelling());
        if let Err(e) = lp.run_until_complete(&g) {
            tprint!("gather raised {}", py_repr(&e));
        }
        tprint!("a cancelled: {}", py_bool(a.cancelled()));
        lp.close().unwrap();
    });
}

#[test]
fn gather_order() {
    common::check_case("helpers/gather_order", || {
        let lp = EventLoop::new().unwrap();
        let futs = |n: usize| -> Vec<Future<i32>> { (0..n).map(|_| lp.create_future()).collect() };

        tprint!("-- a failure among successes");
        let f = futs(4);
        let g = gather(&f).unwrap();
        g.add_done_callback(|_| tprint!("outer callback"));
        marker(&lp, "m1", &g);
        f[2].set_result(3).unwrap();
        marker(&lp, "m2", &g);
        f[1].set_exception(zero_division(Some("b"))).unwrap();
        marker(&lp, "m3", &g);
        f[0].set_result(1).unwrap();
        marker(&lp, "m4", &g);
        run_briefly(&lp);
        tprint!("exception: {}", py_repr(&g.exception().unwrap().unwrap()));
        run_briefly(&lp);
        f[3].set_result(4).unwrap();
        run_briefly(&lp);

        tprint!("-- the last child resolves it");
        let f = futs(3);
        let g = gather(&f).unwrap();
        g.add_done_callback(|_| tprint!("outer callback"));
        f[1].set_result(2).unwrap();
        marker(&lp, "m1", &g);
        f[0].set_result(1).unwrap();
        marker(&lp, "m2", &g);
        f[2].set_result(3).unwrap();
        marker(&lp, "m3", &g);
        run_briefly(&lp);
        run_briefly(&lp);
        tprint!("result: {:?}", g.result().unwrap());

        tprint!("-- return_exceptions: only the last one resolves it");
        let f = futs(3);
        let g = gather_settled(&f).unwrap();
        f[0].cancel(Some("ca"));
        marker(&lp, "m1", &g);
        f[1].set_exception(zero_division(Some("b"))).unwrap();
        marker(&lp, "m2", &g);
        run_briefly(&lp);
        f[2].set_result(3).unwrap();
        marker(&lp, "m3", &g);
        run_briefly(&lp);
        tprint!(
            "result: {}",
            py_entries(&g.result().unwrap(), i32::to_string)
        );

        tprint!("-- the last child fails");
        let f = futs(2);
        let g = gather(&f).unwrap();
        f[0].set_result(1).unwrap();
        f[1].set_exception(zero_division(Some("last"))).unwrap();
        marker(&lp, "m1", &g);
        run_briefly(&lp);
        tprint!("exception: {}", py_repr(&g.exception().unwrap().unwrap()));

        lp.set_exception_handler(Some(|_: &EventLoop, ctx: &tulip::ExceptionContext| {
            tprint!(
                "exception handler: {} {}",
                ctx.message,
                ctx.exception.as_ref().map_or("None".to_string(), py_repr)
            );
        }));
        tprint!("-- return_exceptions reads outcomes at the end");
        let f = futs(2);
        let g = gather_settled(&f).unwrap();
        f[0].set_exception(zero_division(Some("never read")))
            .unwrap();
        run_briefly(&lp);
        tprint!("outer done: {}", py_bool(g.done()));
        drop((f, g));
        let f = futs(2);
        let g = gather_settled(&f).unwrap();
        f[0].set_exception(zero_division(Some("read"))).unwrap();
        run_briefly(&lp);
        f[1].set_result(2).unwrap();
        run_briefly(&lp);
        tprint!(
            "result: {}",
            py_entries(&g.result().unwrap(), i32::to_string)
        );
        drop((f, g));
        tprint!("(freed)");
        lp.close().unwrap();
    });
}

/// Queues a callback that prints whether `g` is done when it runs.
fn marker<R: 'static>(lp: &EventLoop, name: &'static str, g: &Gathering<R>) {
    let g = g.clone();
    lp.call_soon(move || tprint!("{name} sees done: {}", py_bool(g.done())))
        .unwrap();
}

#[test]
fn gather_cancel() {
    common::check_case("helpers/gather_cancel", || {
        tprint!("== cancellation broadcast");
        let lp = EventLoop::new().unwrap();
        let proof = Rc::new(Cell::new(0));
        let waiter = lp.create_future::<()>();
        let inner = || {
            let (p, w) = (proof.clone(), waiter.clone());
            spawn!(lp, move |co| {
                wait!(co, w)?;
                p.set(p.get() + 1);
                Ok(())
            })
            .unwrap()
        };
        let (child1, child2) = (inner(), inner());
        let gatherer: Rc<RefCell<Option<Gathering<()>>>> = Rc::default();
        let (c1, c2, gs, p) = (
            child1.clone(),
            child2.clone(),
            gatherer.clone(),
            proof.clone(),
        );
        let f = spawn!(lp, move |co| {
            let g = gather([&c1, &c2])?;
            *gs.borrow_mut() = Some(g.clone());
            wait!(co, g)?;
            p.set(p.get() + 100);
            Ok(())
        })
        .unwrap();
        run_briefly(&lp);
        tprint!("cancel outer task: {}", py_bool(f.cancel(None)));
        if let Err(e) = lp.run_until_complete(&f) {
            tprint!("outer task raised {}", py_repr(&e));
        }
        let g = gatherer.borrow().clone().unwrap();
        tprint!("gatherer.cancel() once done: {}", py_bool(g.cancel(None)));
        tprint!(
            "waiter cancelled: {} children cancelled: {} {}",
            py_bool(waiter.cancelled()),
            py_bool(child1.cancelled()),
            py_bool(child2.cancelled())
        );
        tprint!(
            "gatherer exception: {} cancelled(): {}",
            py_repr(&g.exception().unwrap().unwrap()),
            py_bool(g.cancelled())
        );
        run_briefly(&lp);
        tprint!("proof: {}", proof.get());
        lp.close().unwrap();

        tprint!("== cancel refused once all children are done");
        let lp = EventLoop::new().unwrap();
        let fut = lp.create_future::<i32>();
        let (l, fu) = (lp.clone(), fut.clone());
        let create = spawn!(lp, move |_co| {
            let child = spawn!(l, move |co| wait!(co, fu))?;
            gather([&child])
        })
        .unwrap();
        let gather_future = lp.run_until_complete(&create).unwrap();
        let g = gather_future.clone();
        fut.add_done_callback(move |_| {
            tprint!("cancel from fut's callback: {}", py_bool(g.cancel(None)));
        });
        fut.set_result(42).unwrap();
        tprint!(
            "result: {:?} cancelled: {}",
            lp.run_until_complete(&gather_future).unwrap(),
            py_bool(gather_future.cancelled())
        );
        lp.close().unwrap();

        tprint!("== a cancel reaching gather(return_exceptions=True) still propagates");
        for msg in [None, Some("my message")] {
            let result = run_main!(move |co| {
                let l = tulip::get_running_loop()?;
                let l2 = l.clone();
                let qwe = spawn!(l, move |co| -> Result<()> {
                    loop {
                        let sleeper = spawn!(l2, nap(1, ()))?;
                        wait!(co, gather_settled([&sleeper])?)?;
                    }
                })?;
                sleep!(co, Duration::from_millis(10))?;
                qwe.cancel(msg);
                wait!(co, qwe)
            });
            if let Err(e) = result {
                tprint!("main raised {}", py_repr(&e));
            }
        }

        tprint!("== cancelled task as a return_exceptions entry");
        let got = run_main!(move |co| {
            let l = tulip::get_running_loop()?;
            let t1 = spawn!(l, forever(&l))?;
            let t2 = spawn!(l, forever(&l))?;
            let f3 = l.create_future::<()>();
            sleep!(co, Duration::ZERO)?;
            // Tasks and a future together, through `dyn Awaitable`.
            let children: [&dyn Awaitable<Output = ()>; 3] = [&t1, &t2, &f3];
            let g = gather_settled(children)?;
            t1.cancel(Some("m1"));
            t2.cancel(None);
            f3.cancel(Some("m3"));
            wait!(co, g)
        })
        .unwrap();
        tprint!("{}", py_entries(&got, |_| "None".to_string()));

        tprint!("== the second failure is marked retrieved");
        let lp = EventLoop::new().unwrap();
        lp.set_exception_handler(Some(|_: &EventLoop, ctx: &tulip::ExceptionContext| {
            tprint!(
                "exception handler: {} {}",
                ctx.message,
                ctx.exception.as_ref().map_or("None".to_string(), py_repr)
            );
        }));
        let (a, b) = (lp.create_future::<()>(), lp.create_future::<()>());
        let (l, a2, b2) = (lp.clone(), a.clone(), b.clone());
        let f = spawn!(lp, move |co| {
            let fails = |w: Future<()>| {
                body!(move |co| -> Result<()> {
                    wait!(co, w)?;
                    Err(RuntimeError::new("should not be ignored").into())
                })
            };
            let ta = spawn!(l, fails(a2))?;
            let tb = spawn!(l, fails(b2))?;
            wait!(co, gather([&ta, &tb])?)?;
            Ok(())
        })
        .unwrap();
        run_briefly(&lp);
        a.set_result(()).unwrap();
        if let Err(e) = lp.run_until_complete(&f) {
            tprint!("outer task raised {}", py_repr(&e));
        }
        b.set_result(()).unwrap();
        run_briefly(&lp);
        run_briefly(&lp);
        drop((f, a, b));
        tprint!("(nothing reported)");
        lp.close().unwrap();
    });
}

/// `async def child(x)`: prints and returns at once.
fn child(x: i32) -> impl Body<i32> {
    body!(move |_co| {
        tprint!("child {x} done");
        Ok(x)
    })
}

#[test]
fn iterations() {
    common::check_case("helpers/iterations", || {
        let lp = EventLoop::new().unwrap();
        fn tick(lp: EventLoop, n: Rc<Cell<u32>>) {
            n.set(n.get() + 1);
            tprint!("-- iteration {}", n.get());
            if n.get() < 40 {
                let l = lp.clone();
                lp.call_soon(move || tick(l, n)).unwrap();
            }
        }
        let (l, n) = (lp.clone(), Rc::new(Cell::new(0)));
        lp.call_soon(move || tick(l, n)).unwrap();
        let l = lp.clone();
        let main = spawn!(lp, move |co| {
            tprint!("gather");
            let r = wait!(co, gather([&spawn!(l, child(1))?, &spawn!(l, child(2))?,])?)?;
            tprint!("gather -> {r:?}");
            tprint!("gather, return_exceptions");
            let r = wait!(co, gather_settled([&spawn!(l, child(3))?])?)?;
            tprint!("gather -> {}", py_entries(&r, i32::to_string));
            tprint!("gather of a done future");
            let done = l.create_future::<i32>();
            done.set_result(4)?;
            let r = wait!(co, gather([&done])?)?;
            tprint!("gather -> {r:?}");
            tprint!("shield");
            let r = wait!(co, shield(&spawn!(l, child(5))?))?;
            tprint!("shield -> {r}");
            tprint!("wait");
            let (d, p) =
                asyncio_wait!(co, [&spawn!(l, child(6))?], None, ReturnWhen::AllCompleted)?;
            let results: Vec<i32> = d.iter().map(|t| t.result().unwrap()).collect();
            tprint!("wait -> {results:?} {}", p.len());
            tprint!("as_completed");
            let (c7, c8) = (spawn!(l, child(7))?, spawn!(l, child(8))?);
            for next in as_completed([&c7, &c8], None)? {
                tprint!("as_completed -> {}", next_done!(co, next)?);
            }
            tprint!("main returns");
            Ok(())
        })
        .unwrap();
        lp.run_until_complete(&main).unwrap();
        lp.close().unwrap();
    });
}

/// `async def cleanup(*tasks)`: cancels the task and waits for it to end.
fn cleanup(t: &Task<()>) -> impl Body<()> + use<> {
    let t = t.clone();
    body!(move |co| {
        t.cancel(None);
        asyncio_wait!(co, [&t], None, ReturnWhen::AllCompleted)?;
        Ok(())
    })
}

#[test]
fn wait_modes() {
    common::check_case("helpers/wait_modes", || {
        run_main!(move |co| {
            let l = tulip::get_running_loop()?;
            tprint!("== ALL_COMPLETED");
            let a = named(spawn!(l, nap(1, ()))?, "a");
            let b = named(spawn!(l, nap(2, ()))?, "b");
            let (done, pending) = asyncio_wait!(co, [&b, &a], None, ReturnWhen::AllCompleted)?;
            tprint!("done {} pending {}", names(&done), names(&pending));
            let (done, pending) = asyncio_wait!(co, [&b, &a], None, ReturnWhen::AllCompleted)?;
            tprint!("again, already done: {} {}", names(&done), names(&pending));

            tprint!("== FIRST_COMPLETED");
            let a = named(spawn!(l, forever(&l))?, "a");
            let b = named(spawn!(l, nap(1, ()))?, "b");
            let (done, pending) = asyncio_wait!(co, [&b, &a], None, ReturnWhen::FirstCompleted)?;
            b.result()?;
            tprint!(
                "done {} pending {} b result None",
                names(&done),
                names(&pending)
            );
            await_sub!(co, cleanup(&a))?;

            tprint!("== FIRST_COMPLETED sees every child already done");
            let a = named(spawn!(l, nap(0, ()))?, "a");
            let b = named(
                spawn!(l, |co| {
                    sleep!(co, Duration::ZERO)?;
                    sleep!(co, Duration::ZERO)
                })?,
                "b",
            );
            let (done, pending) = asyncio_wait!(co, [&b, &a], None, ReturnWhen::FirstCompleted)?;
            tprint!("done {} pending {}", names(&done), names(&pending));

            tprint!("== FIRST_EXCEPTION, a child fails at once");
            let a = named(spawn!(l, forever(&l))?, "a");
            let b = named(spawn!(l, fail_after(0, "err"))?, "b");
            let (done, pending) = asyncio_wait!(co, [&b, &a], None, ReturnWhen::FirstException)?;
            let exc = b.exception()?.unwrap();
            tprint!(
                "done {} pending {} {}",
                names(&done),
                names(&pending),
                py_repr(&exc)
            );
            await_sub!(co, cleanup(&a))?;

            tprint!("== FIRST_EXCEPTION, a child fails while waiting");
            let a = named(spawn!(l, forever(&l))?, "a");
            let b = named(spawn!(l, fail_after(1, "err"))?, "b");
            let c = named(spawn!(l, nap(0, ()))?, "c");
            let (done, pending) =
                asyncio_wait!(co, [&b, &a, &c], None, ReturnWhen::FirstException)?;
            let exc = b.exception()?.unwrap();
            tprint!(
                "done {} pending {} {}",
                names(&done),
                names(&pending),
                py_repr(&exc)
            );
            await_sub!(co, cleanup(&a))?;

            tprint!("== FIRST_EXCEPTION: a cancelled child is no exception");
            let a = named(spawn!(l, nap(2, ()))?, "a");
            let b = named(spawn!(l, forever(&l))?, "b");
            let bc = b.clone();
            l.call_later(Duration::from_millis(1), move || {
                bc.cancel(None);
            })?;
            let (done, pending) = asyncio_wait!(co, [&b, &a], None, ReturnWhen::FirstException)?;
            tprint!(
                "done {} pending {} b cancelled {}",
                names(&done),
                names(&pending),
                py_bool(b.cancelled())
            );

            tprint!("== ALL_COMPLETED with a failure");
            let a = named(spawn!(l, nap(1, ()))?, "a");
            let b = named(spawn!(l, fail_after(2, "really"))?, "b");
            let (done, pending) = asyncio_wait!(co, [&b, &a], None, ReturnWhen::AllCompleted)?;
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
            let c = named(spawn!(l, nap(0, "test"))?, "c");
            let d = named(spawn!(l, nap(0, "spam"))?, "d");
            let (done, pending) = asyncio_wait!(co, [&c, &c, &d], None, ReturnWhen::AllCompleted)?;
            let mut results: Vec<&str> = done.iter().map(|t| t.result().unwrap()).collect();
            results.sort();
            tprint!(
                "done {} {} pending {}",
                names(&done),
                py_strs(&results),
                names(&pending)
            );

            tprint!("== errors");
            if let Err(e) = asyncio_wait!(
                co,
                std::iter::empty::<&Task<()>>(),
                None,
                ReturnWhen::AllCompleted,
            ) {
                tprint!("{}: {}", py_name(&e), py_str(&e));
            }
            Ok(())
        })
        .unwrap();
    });
}

#[test]
fn wait_timeout() {
    common::check_case("helpers/wait_timeout", || {
        let lp = EventLoop::new().unwrap();
        let l = lp.clone();
        let main = spawn!(lp, move |co| {
            let release = l.create_future::<()>();
            let r = release.clone();
            let slow = body!(move |co| -> Result<&'static str> {
                wait!(co, r)?;
                Ok("slow done")
            });
            tprint!("== timeout");
            let a = named(spawn!(l, nap(1, "a"))?, "a");
            let b = named(spawn!(l, slow)?, "b");
            let (done, pending) = asyncio_wait!(
                co,
                [&b, &a],
                Some(Duration::from_millis(20)),
                ReturnWhen::AllCompleted
            )?;
            tprint!(
                "done {} pending {} b cancelled: {}",
                names(&done),
                names(&pending),
                py_bool(b.cancelled())
            );

            tprint!("== timeout and FIRST_COMPLETED, nothing finishes");
            let (done, pending) = asyncio_wait!(
                co,
                [&b],
                Some(Duration::from_millis(1)),
                ReturnWhen::FirstCompleted
            )?;
            tprint!(
                "done {} pending {} b cancelled: {}",
                names(&done),
                names(&pending),
                py_bool(b.cancelled())
            );

            tprint!("== timeout not reached");
            let c = named(spawn!(l, nap(1, "c"))?, "c");
            let (done, pending) = asyncio_wait!(
                co,
                [&c],
                Some(Duration::from_secs(10)),
                ReturnWhen::AllCompleted
            )?;
            tprint!("done {} pending {}", names(&done), names(&pending));

            release.set_result(())?;
            tprint!("b finishes later: {}", wait!(co, b)?);
            Ok(())
        })
        .unwrap();
        lp.run_until_complete(&main).unwrap();

        tprint!("== cancelling the waiting task leaves the children running");
        let proof = Rc::new(Cell::new(0));
        let waiter = lp.create_future::<()>();
        let (l, p, w) = (lp.clone(), proof.clone(), waiter.clone());
        let f = spawn!(lp, move |co| {
            let p2 = p.clone();
            let inner = spawn!(l, move |co| {
                wait!(co, w)?;
                p2.set(p2.get() + 1);
                Ok(())
            })?;
            asyncio_wait!(co, [&inner], None, ReturnWhen::AllCompleted)?;
            p.set(p.get() + 100);
            Ok(())
        })
        .unwrap();
        run_briefly(&lp);
        tprint!("cancel: {}", py_bool(f.cancel(None)));
        if let Err(e) = lp.run_until_complete(&f) {
            tprint!("outer raised {}", py_repr(&e));
        }
        waiter.set_result(()).unwrap();
        run_briefly(&lp);
        run_briefly(&lp);
        tprint!("proof: {}", proof.get());
        lp.close().unwrap();
    });
}

#[test]
fn as_completed_cases() {
    common::check_case("helpers/as_completed", || {
        run_main!(move |co| {
            let l = tulip::get_running_loop()?;
            tprint!("== completion order");
            let a = spawn!(l, nap(1, "a"))?;
            let b = spawn!(l, nap(2, "b"))?;
            let c = spawn!(l, nap(3, "c"))?;
            let mut values = Vec::new();
            for next in as_completed([&b, &c, &a], None)? {
                values.push(next_done!(co, next)?);
            }
            tprint!("{}", py_strs(&values));

            tprint!("== errors come out of the wait");
            let failer = spawn!(l, |co| -> Result<&'static str> {
                sleep!(co, Duration::from_millis(1))?;
                Err(zero_division(Some("boom")))
            })?;
            for next in as_completed([&failer, &spawn!(l, nap(2, "ok"))?], None)? {
                match next_done!(co, next) {
                    Ok(v) => tprint!("got {v}"),
                    Err(e) => tprint!("raised {}", py_repr(&e)),
                }
            }

            tprint!("== timeout");
            let release = l.create_future::<()>();
            let r = release.clone();
            let a = spawn!(l, nap(1, "a"))?;
            let b = spawn!(l, move |co| {
                wait!(co, r)?;
                Ok("b")
            })?;
            let mut values = Vec::new();
            for next in as_completed([&a, &b], Some(Duration::from_millis(20)))? {
                match next_done!(co, next) {
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
            tprint!("b finishes later: {}", wait!(co, b)?);

            tprint!("== unused timeout");
            let a = spawn!(l, nap(1, "a"))?;
            for next in as_completed([&a], Some(Duration::from_secs(10)))? {
                tprint!("got {}", next_done!(co, next)?);
            }

            tprint!("== waits are served in the order they are awaited");
            let a = spawn!(l, nap(1, "a"))?;
            let b = spawn!(l, nap(3, "b"))?;
            let mut futs: Vec<NextDone<&str>> = as_completed([&a, &b], None)?.collect();
            tprint!("len {}", futs.len());
            let second = futs.remove(1);
            tprint!("second wait first: {}", next_done!(co, second)?);
            let first = futs.remove(0);
            tprint!("then the first: {}", next_done!(co, first)?);

            tprint!("== concurrent waits");
            let a = spawn!(l, nap(1, "a"))?;
            let b = spawn!(l, nap(1, "b"))?;
            let mut waits = Vec::new();
            for next in as_completed([&a, &b], None)? {
                waits.push(spawn!(l, move |co| next_done!(co, next))?);
            }
            let (done, pending) = asyncio_wait!(co, &waits, None, ReturnWhen::AllCompleted)?;
            let mut results: Vec<&str> = done.iter().map(|t| t.result().unwrap()).collect();
            results.sort();
            tprint!("{} {}", py_strs(&results), pending.len());

            tprint!("== duplicates count once");
            let c = spawn!(l, nap(0, "ham"))?;
            let spam = spawn!(l, nap(0, "spam"))?;
            let mut result = Vec::new();
            for next in as_completed([&c, &c, &spam], None)? {
                result.push(next_done!(co, next)?);
            }
            let n = result.len();
            result.sort();
            tprint!("{} {}", py_strs(&result), n);

            tprint!("== a cancelled wait passes its turn on");
            let a = spawn!(l, nap(1, "a"))?;
            let b = spawn!(l, nap(2, "b"))?;
            let mut waits = as_completed([&a, &b], None)?;
            let (first, second) = (waits.next().unwrap(), waits.next().unwrap());
            let w = spawn!(l, move |co| next_done!(co, first))?;
            sleep!(co, Duration::ZERO)?;
            tprint!("cancel the first wait: {}", py_bool(w.cancel(None)));
            if let Err(e) = wait!(co, w)
                && e.isinstance::<CancelledError>()
            {
                tprint!("first wait cancelled");
            }
            tprint!("the second wait gets {}", next_done!(co, second)?);
            wait!(co, b)?;

            tprint!("== no children");
            let none: Vec<NextDone<i32>> =
                as_completed(std::iter::empty::<&Task<i32>>(), None)?.collect();
            tprint!("{:?}", none.iter().map(|_| 0).collect::<Vec<i32>>());
            Ok(())
        })
        .unwrap();
    });
}

#[test]
fn shield_combos() {
    common::check_case("helpers/shield_combos", || {
        let lp = EventLoop::new().unwrap();
        tprint!("== shield(gather): cancelling the shield leaves the gathering alone");
        let (child1, child2) = (lp.create_future::<i32>(), lp.create_future::<i32>());
        let parent = gather([&child1, &child2]).unwrap();
        let outer = shield(&parent);
        run_briefly(&lp);
        tprint!("outer.cancel(): {}", py_bool(outer.cancel(None)));
        run_briefly(&lp);
        tprint!("outer cancelled: {}", py_bool(outer.cancelled()));
        child1.set_result(1).unwrap();
        child2.set_result(2).unwrap();
        run_briefly(&lp);
        run_briefly(&lp);
        tprint!("parent result: {:?}", parent.result().unwrap());

        tprint!("== gather(shield, shield): cancelling the gathering cancels only the shields");
        let (child1, child2) = (lp.create_future::<i32>(), lp.create_future::<i32>());
        let (inner1, inner2) = (shield(&child1), shield(&child2));
        let parent = gather([&inner1, &inner2]).unwrap();
        run_briefly(&lp);
        tprint!("parent.cancel(): {}", py_bool(parent.cancel(None)));
        run_briefly(&lp);
        tprint!(
            "parent exception: {}",
            py_repr(&parent.exception().unwrap().unwrap())
        );
        tprint!(
            "shields cancelled: {} {}",
            py_bool(inner1.cancelled()),
            py_bool(inner2.cancelled())
        );
        tprint!(
            "children cancelled: {} {}",
            py_bool(child1.cancelled()),
            py_bool(child2.cancelled())
        );
        child1.set_result(1).unwrap();
        child2.set_result(2).unwrap();
        run_briefly(&lp);

        tprint!("== cancel from outside: the awaiting task is cancelled, the shielded one goes on");
        let release = lp.create_future::<()>();
        let r = release.clone();
        let t = spawn!(lp, move |co| {
            wait!(co, r)?;
            Ok("work result")
        })
        .unwrap();
        let tc = t.clone();
        let c = spawn!(lp, move |co| match wait!(co, shield(&tc)) {
            Err(e) if e.isinstance::<CancelledError>() => {
                tprint!("caller cancelled; waiting for the work itself");
                wait!(co, tc)
            }
            other => other,
        })
        .unwrap();
        run_briefly(&lp);
        tprint!("cancel caller: {}", py_bool(c.cancel(None)));
        run_briefly(&lp);
        tprint!(
            "work cancelled: {} work done: {}",
            py_bool(t.cancelled()),
            py_bool(t.done())
        );
        release.set_result(()).unwrap();
        tprint!("caller result: {}", lp.run_until_complete(&c).unwrap());

        tprint!("== cancel from inside: the shielded task is cancelled, so is the shield");
        let t = spawn!(lp, forever(&lp)).unwrap();
        let tc = t.clone();
        let c = spawn!(lp, move |co| match wait!(co, shield(&tc)) {
            Err(e) if e.isinstance::<CancelledError>() => {
                tprint!("caller2 got {}", py_repr(&e));
                Ok("caught")
            }
            Err(e) => Err(e),
            Ok(()) => Ok("returned"),
        })
        .unwrap();
        run_briefly(&lp);
        tprint!("cancel victim: {}", py_bool(t.cancel(Some("inner msg"))));
        tprint!("caller2 result: {}", lp.run_until_complete(&c).unwrap());

        tprint!("== the shielded task's error reaches the awaiter");
        let l = lp.clone();
        let caller3 = spawn!(lp, move |co| {
            let broken = spawn!(l, |co| -> Result<()> {
                sleep!(co, Duration::ZERO)?;
                Err(zero_division(Some("inside")))
            })?;
            if let Err(e) = wait!(co, shield(&broken)) {
                tprint!("caller3 got {}", py_repr(&e));
            }
            Ok(())
        })
        .unwrap();
        lp.run_until_complete(&caller3).unwrap();
        lp.close().unwrap();
    });
}

/// Not a parity case: gathering, shielding and waiting on tasks that never finish makes no
/// reference cycle, so everything is freed once the loop closes.
#[test]
fn helpers_leave_nothing_alive_after_close() {
    let sentinel = Rc::new(());
    let lp = EventLoop::new().unwrap();
    let never = lp.create_future::<()>();
    let mut children = Vec::new();
    for _ in 0..4 {
        let (s, w) = (sentinel.clone(), never.clone());
        children.push(
            spawn!(lp, move |co| {
                let _keep = s;
                wait!(co, w)
            })
            .unwrap(),
        );
    }
    let (s, kids) = (sentinel.clone(), children.clone());
    spawn!(lp, move |co| {
        let _keep = s;
        let g = gather(&kids)?;
        let _shielded = shield(&g);
        let _settled = gather_settled(&kids)?;
        let _ac = as_completed(&kids, Some(Duration::from_secs(3600)))?;
        asyncio_wait!(
            co,
            &kids,
            Some(Duration::from_secs(3600)),
            ReturnWhen::FirstCompleted,
        )?;
        wait!(co, g)
    })
    .unwrap();
    drop(children);
    let l = lp.clone();
    lp.call_later(Duration::from_millis(1), move || l.stop())
        .unwrap();
    lp.run_forever().unwrap();
    lp.set_exception_handler(Some(|_: &EventLoop, _: &tulip::ExceptionContext| {}));
    lp.close().unwrap();
    drop(never);
    assert_eq!(
        Rc::strong_count(&sentinel),
        1,
        "a task, future or stack is still alive"
    );
}

/// Not a parity case: a gathering's children may be other gatherings; cancelling the outer
/// one reaches the leaves.
#[test]
fn nested_gather_cancel_reaches_leaves() {
    let lp = EventLoop::new().unwrap();
    let leaves: Vec<Future<i32>> = (0..4).map(|_| lp.create_future()).collect();
    let left = gather(&leaves[..2]).unwrap();
    let right = gather(&leaves[2..]).unwrap();
    let top = gather([&left, &right]).unwrap();
    assert!(top.cancel(Some("stop")));
    assert!(leaves.iter().all(Future::cancelled));
    let err = lp.run_until_complete(&top).unwrap_err();
    assert_eq!(py_repr(&err), "CancelledError('stop')");
    assert!(!top.cancel(None));
    lp.close().unwrap();
}

/// Not a parity case: the R11 costs hold for a gathering awaited by a task that is then
/// cancelled while the children's callbacks are still queued (cancel comes back false and the
/// task is cancelled at its next step instead).
#[test]
fn cancel_between_children_and_outer() {
    let lp = EventLoop::new().unwrap();
    let child = lp.create_future::<i32>();
    let c = child.clone();
    let waiter = spawn!(lp, move |co| wait!(co, gather([&c])?)).unwrap();
    run_briefly(&lp);
    child.set_result(1).unwrap();
    // The child is done, its gather callback not yet run: nothing left to cancel.
    assert!(waiter.cancel(Some("late")));
    let err = lp.run_until_complete(&waiter).unwrap_err();
    assert!(err.isinstance::<CancelledError>());
    assert_eq!(py_repr(&err), "CancelledError('late')");
    lp.close().unwrap();
}
