//! Stackless task bodies (feature `nightly`) beside the parity cases: what a trace does not
//! show well. A panic is the task's error and the loop goes on; suspended stackless tasks
//! take no stack; a stackful helper (streams here) is reached through `stackless::stackful`
//! and gives its stack back when it returns; tasks of both backends await each other.
#![feature(coroutines)]
mod common;

use std::cell::Cell;
use std::rc::Rc;

use anyhow::Result;
use tulip::generator::stack_pool_stats;
use tulip::stackless::{self, stackful};
use tulip::{
    CancelledError, ErrorExt, EventLoop, Panic, await_, open_connection, start_server, yield_from,
    yield_now,
};

#[test]
fn a_panic_in_a_stackless_body_fails_its_task_and_the_loop_goes_on() {
    let lp = EventLoop::new().unwrap();
    let bad = lp
        .create_task_stackless(
            #[coroutine]
            static |_| -> Result<()> {
                yield_now!()?;
                panic!("stackless boom");
            },
        )
        .unwrap();
    let good = lp
        .create_task_stackless(
            #[coroutine]
            static |_| {
                yield_now!()?;
                yield_now!()?;
                Ok(7)
            },
        )
        .unwrap();
    assert_eq!(lp.run_until_complete(&good).unwrap(), 7);
    let e = bad.exception().unwrap().unwrap();
    assert!(e.isinstance::<Panic>(), "{e:?}");
    assert_eq!(e.find::<Panic>().unwrap().msg, "stackless boom");
    lp.close().unwrap();
}

#[test]
fn suspended_stackless_tasks_take_no_stack() {
    const N: usize = 100_000;
    let before = stack_pool_stats();
    let lp = EventLoop::new().unwrap();
    let fut = lp.create_future::<u32>();
    let woken = Rc::new(Cell::new(0));
    let tasks: Vec<_> = (0..N)
        .map(|_| {
            let (fut, woken) = (fut.clone(), woken.clone());
            lp.create_task_stackless(
                #[coroutine]
                static move |_| {
                    let v = await_!(fut)?;
                    woken.set(woken.get() + 1);
                    Ok(v)
                },
            )
            .unwrap()
        })
        .collect();
    common::run_briefly(&lp); // every task runs to its await and suspends
    assert!(tasks.iter().all(|t| !t.done()));
    let during = stack_pool_stats();
    assert_eq!(
        (during.mapped, during.reused),
        (before.mapped, before.reused),
        "no task took a stack"
    );
    fut.set_result(5).unwrap();
    common::run_briefly(&lp); // the done callbacks wake every task
    common::run_briefly(&lp); // and they finish
    assert_eq!(woken.get(), N);
    assert!(tasks.iter().all(|t| t.result().unwrap() == 5));
    lp.close().unwrap();
}

#[test]
fn streams_from_a_stackless_task_through_stackful() {
    let echoed = stackless::run(
        #[coroutine]
        static |_| {
            let server = yield_from!(stackful(|co| start_server(
                co,
                common::echo,
                "127.0.0.1",
                0
            )))?;
            let port = server.local_addr().unwrap().port();
            let (r, w) = yield_from!(stackful(move |co| open_connection(co, "127.0.0.1", port)))?;
            let before = stack_pool_stats();
            w.write(b"ping\n")?;
            let (r2, w2) = (r.clone(), w.clone());
            let line = yield_from!(stackful(move |co| {
                w2.drain(co)?;
                r2.readline(co)
            }))?;
            // The stackful coroutine ran on a pooled stack and gave it back.
            assert_eq!(stack_pool_stats().idle, before.idle);
            w.close();
            server.close();
            Ok(line)
        },
    )
    .unwrap();
    assert_eq!(echoed, b"ping\n");
}

#[test]
fn tasks_of_both_backends_await_each_other() {
    let total = tulip::run(|co| {
        let lp = tulip::get_running_loop()?;
        let stackless_task = lp.create_task_stackless(
            #[coroutine]
            static |_| {
                let lp = tulip::get_running_loop()?;
                let stackful_task = lp.create_task(|co| {
                    co.yield_now()?;
                    Ok(20)
                })?;
                Ok(await_!(stackful_task)? + 1)
            },
        )?;
        Ok(co.wait(&stackless_task)? * 2)
    })
    .unwrap();
    assert_eq!(total, 42);
}

#[test]
fn a_cancelled_stackless_sleep_cancels_its_timer_and_raises_at_the_await() {
    let lp = EventLoop::new().unwrap();
    let t = lp
        .create_task_stackless(
            #[coroutine]
            static |_| -> Result<&'static str> {
                match yield_from!(stackless::sleep(std::time::Duration::from_secs(3600))) {
                    Err(e) if e.isinstance::<CancelledError>() => Err(e),
                    _ => Ok("slept an hour?"),
                }
            },
        )
        .unwrap();
    common::run_briefly(&lp);
    t.cancel(Some("enough"));
    let e = lp.run_until_complete(&t).unwrap_err();
    assert!(e.isinstance::<CancelledError>());
    assert!(t.cancelled());
    // No timer is left: the loop has nothing scheduled and closes at once.
    lp.close().unwrap();
}
