//! Async generators (PEP 525): each case prints what its Python twin in tests/cases/task/
//! prints.
mod common;

use anyhow::Result;
use tulip::errors::{py_name, py_str};
use tulip::{
    AsyncGenerator, Exception, RuntimeError, StopAsyncIteration, TaskCo, TypeError, ValueError,
    get_running_loop, py_repr, sleep,
};

fn show(e: &anyhow::Error) -> String {
    format!("{} {}", py_name(e), py_str(e))
}

fn ticker(n: i64) -> AsyncGenerator<i64, Option<&'static str>> {
    AsyncGenerator::new(move |co| {
        let r = (|| {
            for i in 0..n {
                sleep(co, std::time::Duration::ZERO)?;
                if let Some(x) = co.yield_(i)? {
                    tprint!("ticker got {x}");
                }
            }
            Ok(())
        })();
        tprint!("ticker finally");
        r
    })
}

fn doubled(source: AsyncGenerator<i64, Option<&'static str>>) -> AsyncGenerator<i64> {
    AsyncGenerator::new(move |co| {
        while let Some(x) = source.try_next(co)? {
            co.yield_(x * 2)?;
        }
        Ok(())
    })
}

fn print_opt(v: Option<i64>) -> String {
    v.map_or("None".to_string(), |v| v.to_string())
}

fn main_task(co: &TaskCo) -> Result<()> {
    let t = ticker(3);
    while let Some(i) = t.try_next(co)? {
        tprint!("tick {i}");
    }
    let d = doubled(ticker(3));
    let mut all = Vec::new();
    while let Some(x) = d.try_next(co)? {
        all.push(x.to_string());
    }
    tprint!("[{}]", all.join(", "));

    let t = ticker(5);
    tprint!("anext -> {}", t.anext(co)?);
    tprint!("asend -> {}", t.asend(co, Some("hello"))?);
    let e = t.athrow(co, ValueError::new("stop").into()).unwrap_err();
    tprint!("athrow raised {}", py_repr(&e));
    let e = t.anext(co).unwrap_err();
    assert!(e.is::<StopAsyncIteration>());
    tprint!("anext raised {}", py_repr(&e));
    tprint!(
        "athrow -> {}",
        print_opt(t.athrow(co, ValueError::new("x").into())?)
    );
    t.aclose(co)?;
    tprint!("aclose -> None");

    let t = ticker(5);
    tprint!("anext -> {}", t.anext(co)?);
    t.aclose(co)?;
    tprint!("aclose -> None");

    let t = ticker(5);
    t.anext(co)?;
    let lp = get_running_loop()?;
    let busy = lp.create_task({
        let t = t.clone();
        move |co| t.anext(co)
    })?;
    sleep(co, std::time::Duration::ZERO)?;
    let e = t.anext(co).unwrap_err();
    tprint!("anext raised {}", show(&e));
    let e = t.asend(co, None).unwrap_err();
    tprint!("asend raised {}", show(&e));
    let e = t.athrow(co, ValueError::new("x").into()).unwrap_err();
    tprint!("athrow raised {}", show(&e));
    let e = t.aclose(co).unwrap_err();
    assert!(e.is::<RuntimeError>());
    tprint!("aclose raised {}", show(&e));
    tprint!("busy -> {}", co.wait(&busy)?);
    t.aclose(co)?;

    let g = AsyncGenerator::<i64>::new(|co| {
        if let Err(e) = co.yield_(1) {
            if !e.is::<tulip::GeneratorExit>() {
                return Err(e);
            }
            co.yield_(2)?;
        }
        Ok(())
    });
    g.anext(co)?;
    let e = g.aclose(co).unwrap_err();
    tprint!("aclose raised {}", show(&e));

    for name in ["StopAsyncIteration", "StopIteration"] {
        let g = AsyncGenerator::<i64>::new(move |co| {
            co.yield_(1)?;
            Err(Exception::bare(name).into())
        });
        g.anext(co)?;
        let e = g.anext(co).unwrap_err();
        tprint!("anext raised {}", show(&e));
    }

    let t = ticker(5);
    let e = t.asend(co, Some("1")).unwrap_err();
    assert!(e.is::<TypeError>());
    tprint!("asend raised {}", show(&e));
    let e = t
        .athrow(co, Exception::new("KeyError", "early").into())
        .unwrap_err();
    tprint!("athrow before start raised {}", py_repr(&e));
    if t.anext(co).unwrap_err().is::<StopAsyncIteration>() {
        tprint!("then anext raised StopAsyncIteration");
    }
    Ok(())
}

#[test]
fn agen_basics() {
    common::check_case("task/agen_basics", || tulip::run(main_task).unwrap());
}

thread_local! {
    static KEEP: std::cell::RefCell<Vec<AsyncGenerator<i64>>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn shutdown_main(make: fn() -> AsyncGenerator<i64>) {
    tulip::run(move |co| {
        get_running_loop()?.set_exception_handler(Some(
            |_: &tulip::EventLoop, ctx: &tulip::ExceptionContext| {
                let msg = ctx.message.split(" <").next().unwrap_or_default();
                tprint!(
                    "handler: {} {}",
                    msg,
                    py_repr(ctx.exception.as_ref().unwrap())
                );
            },
        ));
        let g = make();
        KEEP.with(|k| k.borrow_mut().push(g.clone()));
        tprint!("anext -> {}", g.anext(co)?);
        tprint!("main done");
        Ok(())
    })
    .unwrap();
    tprint!("after run");
}

#[test]
fn agen_shutdown() {
    common::check_case("task/agen_shutdown", || {
        shutdown_main(|| {
            AsyncGenerator::new(|co| {
                let r = co.yield_(1).and_then(|()| co.yield_(2));
                tprint!("finally, awaiting");
                sleep(co, std::time::Duration::ZERO)?;
                tprint!("closed");
                r
            })
        });
        shutdown_main(|| {
            AsyncGenerator::new(|co| {
                let _ = co.yield_(1);
                Err(ValueError::new("bad close").into())
            })
        });
        KEEP.with(|k| k.borrow_mut().clear());
    });
}

#[test]
fn agen_cancel() {
    common::check_case("task/agen_cancel", || {
        tulip::run(|co| {
            let agen = AsyncGenerator::<i64>::new(|co| {
                let r = (|| {
                    co.yield_(1)?;
                    tprint!("body waits");
                    sleep(co, std::time::Duration::from_secs(10))?;
                    co.yield_(2)
                })();
                if let Err(e) = &r
                    && e.is::<tulip::CancelledError>()
                {
                    tprint!("body cancelled");
                }
                tprint!("body finally");
                r
            });
            let lp = get_running_loop()?;
            let t = lp.create_task({
                let agen = agen.clone();
                move |co| {
                    while let Some(x) = agen.try_next(co)? {
                        tprint!("got {x}");
                    }
                    Ok(())
                }
            })?;
            sleep(co, std::time::Duration::ZERO)?;
            sleep(co, std::time::Duration::ZERO)?;
            t.cancel(None);
            if co.wait(&t).unwrap_err().is::<tulip::CancelledError>() {
                tprint!("consumer cancelled: {}", common::py_bool(t.cancelled()));
            }
            if agen.anext(co).unwrap_err().is::<StopAsyncIteration>() {
                tprint!("then anext raised StopAsyncIteration");
            }
            Ok(())
        })
        .unwrap();
    });
}
