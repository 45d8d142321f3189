//! Unit tests of stackless async generators: what the parity cases do not show.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use super::*;
use crate::errors::{CancelledError, py_repr};
use crate::helpers::asyncgen::StopAsyncIteration;
use crate::stackless::{self, Coroutine, sleep};
use crate::{await_, yield_from, yield_now};

fn log() -> Rc<RefCell<Vec<String>>> {
    Rc::new(RefCell::new(Vec::new()))
}

#[test]
fn the_body_awaits_with_every_stackless_await() {
    // async def g(fut): await asyncio.sleep(0); yield 1; x = await fut; yield x;
    //                   yield await sub()
    let seen = stackless::run(
        #[coroutine]
        static |_| {
            let lp = crate::get_running_loop()?;
            let fut = lp.create_future::<i32>();
            let waited = fut.clone();
            let g = AsyncGenerator::<i32>::new(move |co| {
                #[coroutine]
                static move |_| {
                    yield_now!()?;
                    ayield!(co, 1)?;
                    let x = await_!(waited)?;
                    ayield!(co, x)?;
                    yield_from!(sleep(Duration::from_millis(1)))?;
                    let sub = Coroutine::new(
                        #[coroutine]
                        static |_| {
                            yield_now!()?;
                            Ok(3)
                        },
                    );
                    ayield!(co, yield_from!(sub)?)?;
                    Ok(())
                }
            });
            lp.call_soon(move || fut.set_result(2).unwrap())?;
            let mut seen = Vec::new();
            while let Some(v) = yield_from!(g.try_next())? {
                seen.push(v);
            }
            Ok(seen)
        },
    )
    .unwrap();
    assert_eq!(seen, [1, 2, 3]);
}

#[test]
fn a_sub_coroutine_yields_through_a_clone_of_the_handle() {
    let seen = stackless::run(
        #[coroutine]
        static |_| {
            let g = AsyncGenerator::<&str>::new(|co| {
                #[coroutine]
                static move |_| {
                    let inner = co.clone();
                    let sub = Coroutine::new(
                        #[coroutine]
                        static move |_| {
                            ayield!(inner, "from the sub")?;
                            Ok(())
                        },
                    );
                    yield_from!(sub)?;
                    ayield!(co, "from the body")?;
                    Ok(())
                }
            });
            let first = yield_from!(g.anext())?;
            let second = yield_from!(g.anext())?;
            Ok([first, second])
        },
    )
    .unwrap();
    assert_eq!(seen, ["from the sub", "from the body"]);
}

#[test]
fn a_call_awaited_twice_is_refused() {
    stackless::run(
        #[coroutine]
        static |_| {
            let g = AsyncGenerator::<i32>::new(|co| {
                #[coroutine]
                static move |_| {
                    ayield!(co, 1)?;
                    Ok(())
                }
            });
            let next = g.anext();
            assert_eq!(yield_from!(&next)?, 1);
            let e = yield_from!(&next).unwrap_err();
            assert_eq!(
                py_repr(&e),
                "RuntimeError('cannot reuse already awaited __anext__()/asend()')"
            );
            let close = g.aclose();
            yield_from!(&close)?;
            let e = yield_from!(&close).unwrap_err();
            assert_eq!(
                py_repr(&e),
                "RuntimeError('cannot reuse already awaited aclose()/athrow()')"
            );
            assert!(g.is_finished());
            Ok(())
        },
    )
    .unwrap();
}

#[test]
fn a_call_dropped_half_way_frees_the_generator() {
    stackless::run(
        #[coroutine]
        static |_| {
            let g = AsyncGenerator::<i32>::new(|co| {
                #[coroutine]
                static move |_| {
                    yield_now!()?;
                    ayield!(co, 1)?;
                    Ok(())
                }
            });
            let next = g.anext();
            assert!(Delegate::prime(&next)?.is_yielded());
            assert!(g.is_running());
            drop(next);
            assert!(!g.is_running());
            Ok(())
        },
    )
    .unwrap();
}

#[test]
fn a_panic_in_the_body_is_the_calls_error() {
    stackless::run(
        #[coroutine]
        static |_| {
            let g = AsyncGenerator::<i32>::new(|co| {
                #[coroutine]
                static move |_| {
                    ayield!(co, 1)?;
                    panic!("agen boom");
                }
            });
            yield_from!(g.anext())?;
            let e = yield_from!(g.anext()).unwrap_err();
            assert!(e.is::<crate::Panic>(), "{e}");
            assert!(g.is_finished() && !g.is_running());
            assert!(
                yield_from!(g.anext())
                    .unwrap_err()
                    .is::<StopAsyncIteration>()
            );
            Ok(())
        },
    )
    .unwrap();
}

#[test]
fn cancelling_the_consumer_cancels_the_future_the_body_awaits() {
    let trace = log();
    let t2 = trace.clone();
    stackless::run(
        #[coroutine]
        static move |_| {
            let lp = crate::get_running_loop()?;
            let fut = lp.create_future::<i32>();
            let waited = fut.clone();
            let t3 = t2.clone();
            let g = AsyncGenerator::<i32>::new(move |co| {
                #[coroutine]
                static move |_| {
                    let r = await_!(waited);
                    if let Err(e) = &r {
                        t3.borrow_mut().push(py_repr(e));
                    }
                    ayield!(co, r?)?;
                    Ok(())
                }
            });
            let consumer = g.clone();
            let task = lp.create_task_stackless(
                #[coroutine]
                static move |_| yield_from!(consumer.anext()),
            )?;
            yield_now!()?;
            assert!(g.is_running());
            task.cancel(None);
            assert!(await_!(task).unwrap_err().is::<CancelledError>());
            t2.borrow_mut()
                .push(format!("future cancelled: {}", fut.cancelled()));
            assert!(g.is_finished() && !g.is_running());
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(
        *trace.borrow(),
        ["CancelledError()", "future cancelled: true"]
    );
}

#[test]
fn run_closes_a_stackless_and_a_stackful_one_in_the_order_they_started() {
    let trace = log();
    let t2 = trace.clone();
    let keep: Rc<RefCell<Vec<Box<dyn std::any::Any>>>> = Rc::default();
    let kept = keep.clone();
    stackless::run(
        #[coroutine]
        static move |_| {
            let t3 = t2.clone();
            let sl = AsyncGenerator::<i32>::new(move |co| {
                #[coroutine]
                static move |_| {
                    let r = ayield!(co, 1);
                    yield_now!()?; // a wait in its clean-up
                    t3.borrow_mut().push("stackless closed".into());
                    r
                }
            });
            let t4 = t2.clone();
            let sf = crate::AsyncGenerator::<i32>::new(move |co| {
                let r = co.yield_(1);
                co.yield_now()?;
                t4.borrow_mut().push("stackful closed".into());
                r
            });
            yield_from!(sl.anext())?;
            let sf2 = sf.clone();
            yield_from!(stackless::stackful(move |co| sf2.anext(co)))?;
            // Kept alive past the main task: run's shutdown_asyncgens closes them.
            kept.borrow_mut().push(Box::new(sl));
            kept.borrow_mut().push(Box::new(sf));
            Ok(())
        },
    )
    .unwrap();
    keep.borrow_mut().clear();
    assert_eq!(*trace.borrow(), ["stackless closed", "stackful closed"]);
}
