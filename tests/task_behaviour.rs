//! Future and Task behaviour beyond the ported cases: leaks, scale, panics, deep chains.
mod common;
use common::MyError;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use anyhow::Result;
use tulip::{Coroutine, ErrorExt, EventLoop, Future, Panic, TaskCo, sleep};

#[test]
fn nothing_is_left_alive_after_close() {
    let sentinel = Rc::new(());
    let lp = EventLoop::new().unwrap();
    let never = lp.create_future::<()>();
    for i in 0..100 {
        let s = sentinel.clone();
        let waited = never.clone();
        lp.create_task(move |co| {
            let _keep = s;
            if i % 2 == 0 {
                co.wait(&waited)
            } else {
                sleep(co, Duration::from_secs(3600))
            }
        })
        .unwrap();
    }
    let s = sentinel.clone();
    never.add_done_callback(move |_| drop(s));
    // Let every task start and suspend.
    let l = lp.clone();
    lp.call_later(Duration::from_millis(1), move || l.stop())
        .unwrap();
    lp.run_forever().unwrap();
    assert_eq!(tulip::all_tasks(Some(&lp)).unwrap().len(), 100);
    lp.set_exception_handler(Some(|_: &EventLoop, _: &tulip::ExceptionContext| {}));
    lp.close().unwrap();
    drop(never);
    assert_eq!(tulip::all_tasks(Some(&lp)).unwrap().len(), 0);
    assert_eq!(
        Rc::strong_count(&sentinel),
        1,
        "a task, future or stack is still alive"
    );
    // Every stack went back to this thread's pool: none is held by a leaked task.
    // (Each test runs on a fresh thread, so this pool started empty.)
    let stacks = tulip::generator::stack_pool_stats();
    assert!(
        stacks.mapped >= 100,
        "100 tasks suspended at once hold 100 stacks"
    );
    assert_eq!(stacks.idle as u64, stacks.mapped, "a stack is still in use");
}

#[test]
fn twenty_thousand_tasks_sleep_at_once() {
    let n = 20_000;
    let done = Rc::new(Cell::new(0));
    let lp = EventLoop::new().unwrap();
    let all = lp.create_future::<()>();
    for _ in 0..n {
        let (done, all) = (done.clone(), all.clone());
        lp.create_task(move |co| {
            sleep(co, Duration::from_millis(20))?;
            done.set(done.get() + 1);
            if done.get() == n {
                all.set_result(())?;
            }
            Ok(())
        })
        .unwrap();
    }
    // All are suspended at once before the first timer fires: count the live ones.
    let l = lp.clone();
    let live = Rc::new(Cell::new(0));
    let seen = live.clone();
    lp.call_soon(move || {
        let l2 = l.clone();
        l.call_soon(move || seen.set(tulip::all_tasks(Some(&l2)).unwrap().len()))
            .unwrap();
    })
    .unwrap();
    lp.run_until_complete(&all).unwrap();
    assert_eq!(live.get(), n);
    assert_eq!(done.get(), n);
    lp.close().unwrap();
}

#[test]
fn a_panicking_body_fails_its_task_and_the_loop_goes_on() {
    let lp = EventLoop::new().unwrap();
    let bad = lp
        .create_task(|_co| -> Result<()> { panic!("boom in task") })
        .unwrap();
    let good = lp.create_task(|co| {
        co.yield_now()?;
        Ok(7)
    });
    let good = good.unwrap();
    assert_eq!(lp.run_until_complete(&good).unwrap(), 7);
    let err = bad.result().unwrap_err();
    assert_eq!(err.find::<Panic>().unwrap().msg, "boom in task");
    lp.close().unwrap();
}

#[test]
fn one_failure_reaches_every_awaiter_and_downcasts() {
    let lp = EventLoop::new().unwrap();
    let fut = lp.create_future::<i32>();
    let seen = Rc::new(Cell::new(0));
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let (waited, seen) = (fut.clone(), seen.clone());
        tasks.push(
            lp.create_task(move |co| {
                let err = co.wait(&waited).unwrap_err();
                seen.set(seen.get() + err.find::<MyError>().unwrap().0);
                Ok(())
            })
            .unwrap(),
        );
    }
    let setter = fut.clone();
    lp.call_soon(move || setter.set_exception(MyError(21).into()).unwrap())
        .unwrap();
    for t in &tasks {
        lp.run_until_complete(t).unwrap();
    }
    assert_eq!(seen.get(), 42);
    lp.close().unwrap();
}

#[test]
fn dropping_a_long_chain_of_futures_does_not_recurse() {
    let lp = EventLoop::new().unwrap();
    let mut next: Option<Future<()>> = None;
    for _ in 0..300_000 {
        let f = lp.create_future::<()>();
        if let Some(n) = next.take() {
            f.add_done_callback(move |_| drop(n));
        }
        next = Some(f);
    }
    drop(next);
    lp.close().unwrap();
}

/// Waiting from a plain function, several calls deep: no colouring.
fn fetch(co: &TaskCo, fut: &Future<i32>, depth: u32) -> Result<i32> {
    if depth == 0 {
        co.wait(fut)
    } else {
        Ok(fetch(co, fut, depth - 1)? + 1)
    }
}

#[test]
fn wait_works_at_any_call_depth_and_through_yield_from() {
    let lp = EventLoop::new().unwrap();
    let fut = lp.create_future::<i32>();
    let waited = fut.clone();
    let task = lp
        .create_task(move |co| {
            let a = fetch(co, &waited, 10)?;
            let again = waited.clone();
            let sub: Coroutine<i32> = Coroutine::new(move |co| Ok(co.wait(&again)? * 2));
            let b = co.await_(sub)?;
            Ok(a + b)
        })
        .unwrap();
    let setter = fut.clone();
    lp.call_later(Duration::from_millis(1), move || {
        setter.set_result(5).unwrap()
    })
    .unwrap();
    assert_eq!(lp.run_until_complete(&task).unwrap(), 15 + 10);
    lp.close().unwrap();
}

#[test]
fn run_until_complete_stopped_early_and_resumed() {
    let lp = EventLoop::new().unwrap();
    let l = lp.clone();
    let task = lp
        .create_task(move |co| {
            l.stop();
            co.yield_now()?;
            Ok(1)
        })
        .unwrap();
    let err = lp.run_until_complete(&task).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Event loop stopped before Future completed."
    );
    assert_eq!(lp.run_until_complete(&task).unwrap(), 1);
    lp.close().unwrap();
}
