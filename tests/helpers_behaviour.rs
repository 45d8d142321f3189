//! wait_for, timeout scopes and TaskGroup beyond the ported cases: timers left behind,
//! leaks, scale, errors that keep their Rust type, panics in children.
mod common;
use common::{MyError, ms, run_main};

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use anyhow::Result;
use tulip::{
    CancelledError, ErrorExt, EventLoop, ExceptionGroup, Panic, TimeoutError, cause, sleep,
    task_group, timeout, timeout_at, wait_for, wait_for_fn,
};

/// Timers in the heap that are not cancelled.
fn live_timers(lp: &EventLoop) -> usize {
    let (all, cancelled) = lp.timer_stats();
    all - cancelled
}

#[test]
fn timeout_at_keeps_its_deadline_and_converts() {
    let r = run_main(|co| {
        let deadline = tulip::get_running_loop()?.time() + ms(10);
        let mut seen = None;
        let r = timeout_at(co, Some(deadline), |co, cm| {
            seen = Some(cm.clone());
            sleep(co, Duration::from_secs(10))
        });
        let cm = seen.unwrap();
        assert_eq!(cm.when(), Some(deadline));
        assert!(cm.expired());
        let e = r.unwrap_err();
        assert!(e.isinstance::<TimeoutError>());
        assert!(
            !e.isinstance::<CancelledError>(),
            "a TimeoutError is not a cancellation"
        );
        assert!(cause(&e).is_some_and(|c| c.isinstance::<CancelledError>()));
        Ok(())
    });
    r.unwrap();
}

#[test]
fn scopes_and_wait_for_leave_no_live_timer() {
    let r = run_main(|co| {
        let lp = tulip::get_running_loop()?;
        // A scope that ends early disarms its deadline.
        timeout(co, Some(Duration::from_secs(3600)), |co, _| {
            sleep(co, ms(1))
        })?;
        assert_eq!(live_timers(&lp), 0);
        // wait_for that gets its result early cancels its timer.
        let v = wait_for_fn(co, Some(Duration::from_secs(3600)), |co| {
            sleep(co, ms(1))?;
            Ok(5)
        })?;
        assert_eq!(v, 5);
        assert_eq!(live_timers(&lp), 0);
        // ... and so does one that fails early.
        let failing = lp.create_task(|_| Err::<(), _>(MyError(1).into()))?;
        let e = wait_for(co, &failing, Some(Duration::from_secs(3600))).unwrap_err();
        assert!(e.find::<MyError>().is_some());
        assert_eq!(live_timers(&lp), 0);
        Ok(())
    });
    r.unwrap();
}

#[test]
fn a_rescheduled_deadline_fires_once() {
    let r = run_main(|co| {
        let lp = tulip::get_running_loop()?;
        let r = timeout(co, Some(ms(5)), |co, cm| {
            // Moving it repeatedly leaves one armed deadline.
            for i in 1..=5 {
                cm.reschedule(Some(lp.time() + ms(10 * i)))?;
            }
            assert_eq!(live_timers(&lp), 1);
            sleep(co, Duration::from_secs(10))
        });
        assert!(r.unwrap_err().isinstance::<TimeoutError>());
        let me = tulip::current_task(None)?.unwrap();
        assert_eq!(me.cancelling(), 0);
        Ok(())
    });
    r.unwrap();
}

#[test]
fn child_errors_keep_their_rust_type_and_panics_are_gathered() {
    let r = run_main(|co| {
        let r = task_group(co, |_, g| {
            g.create_task(|co| {
                sleep(co, ms(1))?;
                Err::<(), _>(MyError(7).into())
            })?;
            g.create_task(|co| -> Result<()> {
                let _ = sleep(co, Duration::from_secs(10));
                panic!("child panicked while cancelled");
            })?;
            Ok(())
        });
        let e = r.unwrap_err();
        let group = e.exc::<ExceptionGroup>().expect("an ExceptionGroup");
        assert_eq!(group.exceptions().len(), 2);
        assert_eq!(
            group.exceptions()[0].find::<MyError>().map(|m| m.0),
            Some(7)
        );
        assert!(group.exceptions()[1].find::<Panic>().is_some());
        assert!(group.contains::<Panic>());
        Ok(())
    });
    r.unwrap();
}

#[test]
fn a_thousand_children() {
    let r = run_main(|co| {
        let tasks = task_group(co, |_, g| {
            (0..1000u64)
                .map(|i| {
                    g.create_task(move |co| {
                        sleep(co, ms(i % 7))?;
                        Ok(i * 2)
                    })
                })
                .collect::<Result<Vec<_>>>()
        })?;
        let sum: u64 = tasks.iter().map(|t| t.result().unwrap()).sum();
        Ok(sum)
    });
    assert_eq!(r.unwrap(), 999 * 1000);
}

#[test]
fn nothing_is_left_alive_when_the_loop_closes_mid_group() {
    let sentinel = Rc::new(());
    let lp = EventLoop::new().unwrap();
    let s = sentinel.clone();
    let started = Rc::new(Cell::new(0));
    let st = started.clone();
    lp.create_task(move |co| {
        let _keep = s.clone();
        task_group(co, |co, g| {
            for _ in 0..10 {
                let (s, st) = (s.clone(), st.clone());
                let g2 = g.clone();
                g.create_task(move |co| {
                    let _keep = (s, g2);
                    st.set(st.get() + 1);
                    sleep(co, Duration::from_secs(3600))
                })?;
            }
            timeout(co, Some(Duration::from_secs(3600)), |co, _| {
                sleep(co, Duration::from_secs(3600))
            })
        })
    })
    .unwrap();
    let l = lp.clone();
    lp.call_later(ms(5), move || l.stop()).unwrap();
    lp.run_forever().unwrap();
    assert_eq!(started.get(), 10);
    lp.set_exception_handler(Some(|_: &EventLoop, _: &tulip::ExceptionContext| {}));
    lp.close().unwrap();
    assert_eq!(
        Rc::strong_count(&sentinel),
        1,
        "a group, task or stack is still alive"
    );
}

#[test]
fn a_panicking_body_disarms_its_deadline_and_stops_its_children() {
    let children_cancelled = Rc::new(Cell::new(0));
    let cc = children_cancelled.clone();
    let r = run_main(move |co| {
        let lp = tulip::get_running_loop()?;
        let scope = lp.create_task(|co| {
            timeout(co, Some(Duration::from_secs(3600)), |co, _| -> Result<()> {
                sleep(co, ms(1))?;
                panic!("body panicked in a timeout scope");
            })
        })?;
        assert!(co.wait(&scope).unwrap_err().find::<Panic>().is_some());
        assert_eq!(live_timers(&lp), 0, "the deadline outlived its scope");

        let group = lp.create_task(move |co| {
            task_group(co, |co, g| -> Result<()> {
                for _ in 0..3 {
                    let cc = cc.clone();
                    g.create_task(move |co| {
                        let r = sleep(co, Duration::from_secs(3600));
                        if r.as_ref().is_err_and(|e| e.isinstance::<CancelledError>()) {
                            cc.set(cc.get() + 1);
                        }
                        r
                    })?;
                }
                sleep(co, ms(1))?;
                panic!("body panicked in a task group");
            })
        })?;
        assert!(co.wait(&group).unwrap_err().find::<Panic>().is_some());
        sleep(co, ms(1))?;
        Ok(())
    });
    r.unwrap();
    assert_eq!(children_cancelled.get(), 3);
}

#[test]
fn create_task_named_names_the_child() {
    let r = run_main(|co| {
        task_group(co, |_, g| {
            let t = g.create_task_named("yolo", |co| sleep(co, Duration::ZERO))?;
            assert_eq!(t.get_name(), "yolo");
            Ok(())
        })
    });
    r.unwrap();
}

/// A child that fails after its parent died, with or without the group kept alive.
fn child_fails_after_parent(keep_group: bool) -> Vec<String> {
    let reports = Rc::new(std::cell::RefCell::new(Vec::new()));
    let lp = EventLoop::new().unwrap();
    let r = reports.clone();
    lp.set_exception_handler(Some(move |_: &EventLoop, ctx: &tulip::ExceptionContext| {
        r.borrow_mut().push(ctx.message.clone());
    }));
    let kept: Rc<std::cell::RefCell<Option<tulip::TaskGroup>>> = Rc::default();
    let k = kept.clone();
    let parent = lp
        .create_task(move |co| {
            task_group(co, |co, g| -> Result<()> {
                if keep_group {
                    *k.borrow_mut() = Some(g.clone());
                }
                g.create_task(|co| {
                    let _ = sleep(co, Duration::from_secs(3600));
                    Err::<(), _>(MyError(3).into())
                })?;
                sleep(co, ms(1))?;
                panic!("the parent dies first");
            })
        })
        .unwrap();
    let died = lp.run_until_complete(&parent).unwrap_err();
    assert!(died.find::<Panic>().is_some());
    let l = lp.clone();
    lp.call_later(ms(5), move || l.stop()).unwrap();
    lp.run_forever().unwrap();
    drop(kept);
    lp.close().unwrap();
    reports.take()
}

#[test]
fn a_child_failing_after_its_parent_died_is_reported() {
    let reports = child_fails_after_parent(true);
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(
        reports[0].starts_with("Task <Task finished name=")
            && reports[0].contains("has errored out but its parent task <Task finished name="),
        "{}",
        reports[0]
    );
    // Without a handle the parent's unwinding drops the group: the error is still reported,
    // by the child itself.
    assert_eq!(
        child_fails_after_parent(false),
        ["Task exception was never retrieved"]
    );
}

#[test]
fn wait_for_a_plain_future_cancels_it_on_timeout() {
    let r = run_main(|co| {
        let fut = tulip::get_running_loop()?.create_future::<u8>();
        let e = wait_for(co, &fut, Some(ms(5))).unwrap_err();
        assert!(e.isinstance::<TimeoutError>());
        assert!(fut.cancelled());
        // Zero timeout on a pending future: cancelled at once, then TimeoutError.
        let fut = tulip::get_running_loop()?.create_future::<u8>();
        let e = wait_for(co, &fut, Some(Duration::ZERO)).unwrap_err();
        assert!(e.isinstance::<TimeoutError>() && fut.cancelled());
        Ok(())
    });
    r.unwrap();
}

#[test]
fn like_3_11_a_cancel_made_while_exiting_is_not_undone() {
    // Python 3.11 prints "cancelling after: 1" for the same program (3.12 prints 0).
    let r = run_main(|co| {
        let r = task_group(co, |_, g| {
            g.create_task(|co| {
                sleep(co, ms(5))?;
                Err::<(), _>(MyError(1).into())
            })?;
            Ok(())
        });
        assert!(r.unwrap_err().isinstance::<ExceptionGroup>());
        Ok(tulip::current_task(None)?.unwrap().cancelling())
    });
    assert_eq!(r.unwrap(), 1);
}
