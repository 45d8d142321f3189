//! The native stackless helpers (feature `nightly`): `stackless::wait_for`, `timeout`,
//! `Timeout::run_stackless`, `wait`, `NextDone::wait_stackless` and `task_group`. The
//! recorded cases run on them in helpers_cases_stackless.rs; here is what a trace does not
//! show: a stackless task waiting in any of them holds no stack, cancelling a task waiting in
//! each, waking in the same iteration as the stackful forms, panicking bodies, scopes
//! dropped mid-body when the loop closes.
#![feature(coroutines, coroutine_trait)]
mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use anyhow::Result;
use common::ms;
use tulip::errors::{Exception, py_repr, py_str};
use tulip::generator::{StackPoolStats, stack_pool_stats};
use tulip::stackless::{self, Sent, sleep, stackful};
use tulip::{
    CancelledError, ErrorExt, EventLoop, Future, NextDone, Panic, ReturnWhen, Suspend, Task,
    Timeout, as_completed, await_, current_task, get_running_loop, yield_from, yield_now,
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

fn cancelling() -> u32 {
    current_task(None).unwrap().unwrap().cancelling()
}

fn zero_division(msg: &str) -> anyhow::Error {
    Exception::new("ZeroDivisionError", msg).into()
}

fn is_cancelled<T>(r: &Result<T>) -> bool {
    r.as_ref().is_err_and(|e| e.isinstance::<CancelledError>())
}

/// `async def fail_after(ms, msg)`: sleeps, then raises ZeroDivisionError(msg).
fn fail_after(d: Duration, msg: &'static str) -> impl Body<()> {
    #[coroutine]
    static move |_| {
        yield_from!(sleep(d))?;
        Err(zero_division(msg))
    }
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

#[test]
fn scopes_dropped_mid_body_when_the_loop_closes_leave_nothing_behind() {
    let lp = EventLoop::new().unwrap();
    let reports = Rc::new(RefCell::new(Vec::new()));
    let seen = reports.clone();
    lp.set_exception_handler(Some(move |_: &EventLoop, ctx: &tulip::ExceptionContext| {
        seen.borrow_mut().push(ctx.message.clone());
    }));
    // Held by each body across its wait: dropped only when the body is.
    let sentinel = Rc::new(());
    let never = lp.create_future::<()>();

    let (s, n) = (sentinel.clone(), never.clone());
    let in_timeout = lp
        .create_task_stackless(
            #[coroutine]
            static move |_| {
                let (s, n) = (s.clone(), n.clone());
                yield_from!(stackless::timeout(
                    Some(secs(3600)),
                    #[coroutine]
                    static move |_| -> Result<()> {
                        let _held = s.clone();
                        await_!(n)
                    }
                ))
            },
        )
        .unwrap();
    let (s, n) = (sentinel.clone(), never.clone());
    let in_group = lp
        .create_task_stackless(
            #[coroutine]
            static move |_| {
                let (s, n) = (s.clone(), n.clone());
                yield_from!(stackless::task_group(move |g| {
                    #[coroutine]
                    static move |_| -> Result<()> {
                        let _held = s.clone();
                        g.create_task_stackless(
                            #[coroutine]
                            static |_| yield_from!(sleep(secs(3600))),
                        )?;
                        await_!(n)
                    }
                }))
            },
        )
        .unwrap();
    for _ in 0..3 {
        let l = lp.clone();
        lp.call_soon(move || l.stop()).unwrap();
        lp.run_forever().unwrap();
    }
    assert!(!in_timeout.done() && !in_group.done());
    assert!(
        Rc::strong_count(&sentinel) > 1,
        "the bodies wait, holding it"
    );
    assert_eq!(live_timers(&lp), 2, "the deadline and the child's sleep");

    lp.close().unwrap();
    assert_eq!(
        Rc::strong_count(&sentinel),
        1,
        "the scopes' bodies were dropped with their tasks"
    );
    assert_eq!(
        live_timers(&lp),
        0,
        "no deadline or sleep outlived its scope"
    );
    let destroyed = reports
        .borrow()
        .iter()
        .filter(|m| m.as_str() == "Task was destroyed but it is pending!")
        .count();
    assert_eq!(destroyed, 3, "{:?}", reports.borrow());
}
