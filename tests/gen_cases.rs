//! Ports of CPython's generator behaviour (asyncio-cases.md cases 1–15, test_yield_from.py,
//! test_generators.py): each prints the trace its Python twin in tests/cases/gen/ prints.
//! The cases live in gen_cases/cases.rs, written with the macros below so that
//! gen_cases_stackless.rs runs the very same bodies on the stackless backend.
mod common;

/// The backend under test: stackful generators.
type G<Y, S = (), R = ()> = tulip::Generator<Y, S, R>;

/// `def g(): body`: a generator whose body gets the handle `co`.
macro_rules! generator {
    (<$($t:ty),+> $(move)? |$co:ident $(: $cot:ty)?| $body:expr) => {
        G::<$($t),+>::new(move |$co $(: $cot)?| $body)
    };
    ($(move)? |$co:ident $(: $cot:ty)?| $body:expr) => {
        G::new(move |$co $(: $cot)?| $body)
    };
}

/// `yield v`.
macro_rules! y {
    ($co:ident, $v:expr) => {
        $co.yield_($v)
    };
}

/// `yield from sub` (owned).
macro_rules! yf {
    ($co:ident, $sub:expr) => {
        $co.yield_from($sub)
    };
}

/// `yield from sub` (shared).
macro_rules! yf_ref {
    ($co:ident, $sub:expr) => {
        $co.yield_from_ref($sub)
    };
}

/// A `try:` block: `?` inside leaves the block, not the body.
macro_rules! try_ {
    ($t:ty, $body:block) => {
        (|| -> $t { $body })()
    };
}

include!("gen_cases/cases.rs");

/// Coroutine objects as distinct from generators, and `yield from` over a plain iterator
/// (issue #12).
mod objects {
    use crate::tprint;

    use std::cell::OnceCell;
    use std::rc::{Rc, Weak};

    use tulip::errors::{py_name, py_str};
    use tulip::{Coroutine, Exception, GeneratorExit, ValueError};

    fn show(e: &anyhow::Error) -> String {
        format!("{} {}", py_name(e), py_str(e))
    }

    #[test]
    fn coro_errors() {
        crate::common::check_case("gen/coro_errors", || {
            tulip::run(|co| {
                let sub = || {
                    Coroutine::new(|_co| {
                        tprint!("sub runs");
                        Ok(1)
                    })
                };
                let c = sub();
                tprint!("first await -> {}", co.await_ref(&c)?);
                let e = co.await_ref(&c).unwrap_err();
                tprint!("second await: {}", show(&e));
                let e = c.send(()).unwrap_err();
                tprint!("send on a finished coroutine: {}", show(&e));
                let e = c.throw(ValueError::new("x").into()).unwrap_err();
                tprint!("throw on a finished coroutine: {}", show(&e));
                c.close()?;
                tprint!("close -> None");

                let c = Coroutine::new(|co| {
                    if let Err(e) = co.yield_now() {
                        if !e.is::<GeneratorExit>() {
                            return Err(e);
                        }
                        tprint!("ignoring GeneratorExit");
                        co.yield_now()?;
                    }
                    Ok(())
                });
                c.send(())?;
                let e = c.close().unwrap_err();
                tprint!("close: {}", show(&e));

                let raises_stop = Coroutine::new(|_co| -> anyhow::Result<()> {
                    Err(Exception::new("StopIteration", "3").into())
                });
                let e = co.await_(raises_stop).unwrap_err();
                tprint!("await: {}", show(&e));
                Ok(())
            })
            .unwrap();

            let slot: Rc<OnceCell<Weak<Coroutine<()>>>> = Rc::new(OnceCell::new());
            let me = {
                let slot = slot.clone();
                Rc::new(Coroutine::new(move |co| {
                    tprint!("awaiting itself");
                    let me = slot
                        .get()
                        .and_then(Weak::upgrade)
                        .expect("set before the send");
                    co.await_ref(&me)
                }))
            };
            slot.set(Rc::downgrade(&me)).unwrap();
            let e = me.send(()).unwrap_err();
            tprint!("send: {}", show(&e));
        });
    }

    fn over<I: IntoIterator<Item = i64> + 'static>(
        items: I,
    ) -> tulip::Generator<i64, Option<i64>, &'static str> {
        tulip::Generator::new(move |co| {
            tprint!("start");
            co.yield_from_iter(items)?;
            tprint!("yield from returned None");
            Ok("done")
        })
    }

    fn guarded() -> tulip::Generator<String, ()> {
        tulip::Generator::new(|co| {
            let r = match co.yield_from_iter(["1", "2", "3"].map(String::from)) {
                Err(e) if e.is::<ValueError>() => {
                    tprint!("delegator caught {}", tulip::py_repr(&e));
                    co.yield_("after throw".to_string()).map(drop)
                }
                r => r,
            };
            tprint!("delegator finally");
            r
        })
    }

    #[test]
    fn yf_iterator() {
        crate::common::check_case("gen/yf_iterator", || {
            let g = tulip::Generator::<i64, (), &str>::new(|co| {
                tprint!("start");
                co.yield_from_iter(vec![1, 2])?;
                tprint!("yield from returned None");
                Ok("done")
            });
            let items: Vec<String> = g.into_iter().map(|x| x.unwrap().to_string()).collect();
            tprint!("[{}]", items.join(", "));

            let g = over(10..13);
            let a = g.next().unwrap().as_yielded().unwrap();
            let b = g.send(None).unwrap().as_yielded().unwrap();
            let c = g.next().unwrap().as_yielded().unwrap();
            tprint!("{a} {b} {c}");
            tprint!("StopIteration {}", g.next().unwrap().as_returned().unwrap());

            let gens = [
                over(vec![1, 2]),
                over([1, 2]),
                over(0..3),
                over(std::collections::HashSet::from([7])),
            ];
            for g in gens {
                g.next().unwrap();
                let e = g.send(Some(5)).unwrap_err();
                assert!(e.is::<Exception>());
                tprint!("{}", show(&e));
            }

            let g = guarded();
            g.next().unwrap();
            let y = g.throw(ValueError::new("v").into()).unwrap();
            tprint!("{}", y.as_yielded().unwrap());
            g.close().unwrap();
            let g = guarded();
            g.next().unwrap();
            g.close().unwrap();
            tprint!("close -> None");
        });
    }
}

/// Implicit exception context (`__context__`): an error raised while a body handles one that
/// tulip delivered into it (issue #12).
mod exc_context {
    use crate::tprint;

    use tulip::errors::{context, py_format_exception};
    use tulip::{
        CancelledError, ErrorExt, Exception, Generator, GeneratorExit, RuntimeError, TimeoutError,
        ValueError, cause, get_running_loop, py_repr, raise_from, sleep,
    };

    fn opt(e: Option<&anyhow::Error>) -> String {
        e.map_or_else(|| "None".to_string(), py_repr)
    }

    fn show(e: &anyhow::Error) -> String {
        format!(
            "{} context={} cause={}",
            py_repr(e),
            opt(context(e)),
            opt(cause(e))
        )
    }

    /// A generator that yields 1 and hands what is thrown in to `handler`.
    fn catching(handler: fn(anyhow::Error) -> anyhow::Result<()>) -> Generator<i32, (), ()> {
        Generator::new(move |co| match co.yield_(1) {
            Ok(()) => Ok(()),
            Err(e) => handler(e),
        })
    }

    #[test]
    fn exc_context() {
        crate::common::check_case("gen/exc_context", || {
            let g = catching(|e| {
                if e.isinstance::<ValueError>() {
                    return Err(Exception::new("KeyError", "k").into());
                }
                Err(e)
            });
            g.next().unwrap();
            let e = g.throw(ValueError::new("v").into()).unwrap_err();
            // The new error's own type is untouched by the context.
            assert!(e.downcast_ref::<Exception>().is_some());
            assert!(!e.isinstance::<ValueError>());
            assert_eq!(e.to_string(), "k");
            tprint!("throw: {}", show(&e));
            tprint!("{}", py_format_exception(context(&e).unwrap()));

            let g = catching(|e| {
                if e.is::<GeneratorExit>() {
                    return Err(RuntimeError::new("cleanup failed").into());
                }
                Err(e)
            });
            g.next().unwrap();
            let e = g.close().unwrap_err();
            assert!(e.downcast_ref::<RuntimeError>().is_some());
            tprint!("close: {}", show(&e));

            let g = catching(Err);
            g.next().unwrap();
            let e = g.throw(ValueError::new("same").into()).unwrap_err();
            tprint!("re-raise: {}", show(&e));

            let g = catching(|e| Err(raise_from(TimeoutError, e)));
            g.next().unwrap();
            let e = g.throw(ValueError::new("v").into()).unwrap_err();
            assert!(e.isinstance::<TimeoutError>());
            tprint!("from: {}", show(&e));

            let g = Generator::<i32>::new(|co| {
                if let Err(e) = co.yield_(1) {
                    if !e.isinstance::<ValueError>() {
                        return Err(e);
                    }
                    tprint!("handled");
                }
                co.yield_(2)?;
                Err(Exception::new("KeyError", "later").into())
            });
            g.next().unwrap();
            let y = g.throw(ValueError::new("v").into()).unwrap();
            tprint!("yielded {}", y.as_yielded().unwrap());
            let e = g.next().unwrap_err();
            tprint!("later: {}", show(&e));

            tulip::run(|co| {
                let lp = get_running_loop()?;
                let t = lp.create_task(|co| -> anyhow::Result<()> {
                    match sleep(co, std::time::Duration::from_secs(10)) {
                        Err(e) if e.isinstance::<CancelledError>() => {
                            Err(RuntimeError::new("cancelled badly").into())
                        }
                        r => r,
                    }
                })?;
                sleep(co, std::time::Duration::ZERO)?;
                t.cancel(Some("stop"));
                let e = co.wait(&t).unwrap_err();
                assert!(e.isinstance::<RuntimeError>());
                tprint!("task: {}", show(&e));

                let t = lp.create_task(|co| -> anyhow::Result<()> {
                    match co.yield_now() {
                        Err(e) if e.isinstance::<CancelledError>() => {
                            Err(RuntimeError::new("thrown in").into())
                        }
                        r => r,
                    }
                })?;
                sleep(co, std::time::Duration::ZERO)?;
                t.cancel(None);
                let e = co.wait(&t).unwrap_err();
                tprint!("bare yield: {}", show(&e));
                Ok(())
            })
            .unwrap();
        });
    }
}
