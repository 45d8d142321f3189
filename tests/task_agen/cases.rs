// The async generator parity cases (PEP 525), shared by both backends: tests/task_agen.rs
// runs them with stackful bodies, tests/task_agen_stackless.rs with stackless ones. Beside
// the task macros, each backend file defines those of async generators: `agen!(|co| body)`
// is `async def` with `yield` (the including file names its type `AsyncGen`),
// `ayield!(co, v)` is `yield v`, and `anext!(co, g)`, `asend!(co, g, v)`,
// `athrow!(co, g, e)`, `aclose!(co, g)` and `try_next!(co, g)` (a step of `async for`)
// await its calls.
use std::time::Duration;

use anyhow::Result;
use tulip::errors::{py_name, py_str};
use tulip::{
    CancelledError, Exception, GeneratorExit, RuntimeError, StopAsyncIteration, TypeError,
    ValueError, get_running_loop, py_repr,
};

fn show(e: &anyhow::Error) -> String {
    format!("{} {}", py_name(e), py_str(e))
}

/// `r?` inside `'label: { ... }`: the block is a `try:` whose error comes out as its value,
/// for the `finally:` after it (a closure cannot yield in a stackless body).
macro_rules! or_break {
    ($label:lifetime, $r:expr) => {
        match $r {
            Ok(v) => v,
            Err(e) => break $label Err(e),
        }
    };
}

/// `async def ticker(n)`.
fn ticker(n: i64) -> AsyncGen<i64, Option<&'static str>> {
    agen!(move |co| {
        let r: Result<()> = 'body: {
            for i in 0..n {
                or_break!('body, sleep!(co, Duration::ZERO));
                if let Some(x) = or_break!('body, ayield!(co, i)) {
                    tprint!("ticker got {x}");
                }
            }
            Ok(())
        };
        tprint!("ticker finally");
        r
    })
}

/// `async def doubled(source)`.
fn doubled(source: AsyncGen<i64, Option<&'static str>>) -> AsyncGen<i64> {
    agen!(move |co| {
        while let Some(x) = try_next!(co, source)? {
            ayield!(co, x * 2)?;
        }
        Ok(())
    })
}

fn print_opt(v: Option<i64>) -> String {
    v.map_or("None".to_string(), |v| v.to_string())
}

#[test]
fn agen_basics() {
    common::check_case("task/agen_basics", || {
        run!(|co| -> Result<()> {
            let t = ticker(3);
            while let Some(i) = try_next!(co, t)? {
                tprint!("tick {i}");
            }
            let d = doubled(ticker(3));
            let mut all = Vec::new();
            while let Some(x) = try_next!(co, d)? {
                all.push(x.to_string());
            }
            tprint!("[{}]", all.join(", "));

            let t = ticker(5);
            tprint!("anext -> {}", anext!(co, t)?);
            tprint!("asend -> {}", asend!(co, t, Some("hello"))?);
            let e = athrow!(co, t, ValueError::new("stop").into()).unwrap_err();
            tprint!("athrow raised {}", py_repr(&e));
            let e = anext!(co, t).unwrap_err();
            assert!(e.is::<StopAsyncIteration>());
            tprint!("anext raised {}", py_repr(&e));
            tprint!(
                "athrow -> {}",
                print_opt(athrow!(co, t, ValueError::new("x").into())?)
            );
            aclose!(co, t)?;
            tprint!("aclose -> None");

            let t = ticker(5);
            tprint!("anext -> {}", anext!(co, t)?);
            aclose!(co, t)?;
            tprint!("aclose -> None");

            let t = ticker(5);
            anext!(co, t)?;
            let lp = get_running_loop()?;
            let first = t.clone();
            let busy = spawn!(lp, move |co| anext!(co, first))?;
            sleep!(co, Duration::ZERO)?;
            let e = anext!(co, t).unwrap_err();
            tprint!("anext raised {}", show(&e));
            let e = asend!(co, t, None).unwrap_err();
            tprint!("asend raised {}", show(&e));
            let e = athrow!(co, t, ValueError::new("x").into()).unwrap_err();
            tprint!("athrow raised {}", show(&e));
            let e = aclose!(co, t).unwrap_err();
            assert!(e.is::<RuntimeError>());
            tprint!("aclose raised {}", show(&e));
            tprint!("busy -> {}", wait!(co, busy)?);
            aclose!(co, t)?;

            // async def ignores(): try: yield 1 except GeneratorExit: yield 2
            let g: AsyncGen<i64> = agen!(|co| {
                if let Err(e) = ayield!(co, 1) {
                    if !e.is::<GeneratorExit>() {
                        return Err(e);
                    }
                    ayield!(co, 2)?;
                }
                Ok(())
            });
            anext!(co, g)?;
            let e = aclose!(co, g).unwrap_err();
            tprint!("aclose raised {}", show(&e));

            for name in ["StopAsyncIteration", "StopIteration"] {
                // async def raises(exc): yield 1; raise exc
                let g: AsyncGen<i64> = agen!(move |co| {
                    ayield!(co, 1)?;
                    Err(Exception::bare(name).into())
                });
                anext!(co, g)?;
                let e = anext!(co, g).unwrap_err();
                tprint!("anext raised {}", show(&e));
            }

            let t = ticker(5);
            let e = asend!(co, t, Some("1")).unwrap_err();
            assert!(e.is::<TypeError>());
            tprint!("asend raised {}", show(&e));
            let e = athrow!(co, t, Exception::new("KeyError", "early").into()).unwrap_err();
            tprint!("athrow before start raised {}", py_repr(&e));
            if anext!(co, t).unwrap_err().is::<StopAsyncIteration>() {
                tprint!("then anext raised StopAsyncIteration");
            }
            Ok(())
        })
        .unwrap()
    });
}

thread_local! {
    static KEEP: std::cell::RefCell<Vec<AsyncGen<i64>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `asyncio.run(main(make))`.
fn shutdown_main(make: fn() -> AsyncGen<i64>) {
    run!(move |co| -> Result<()> {
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
        tprint!("anext -> {}", anext!(co, g)?);
        tprint!("main done");
        Ok(())
    })
    .unwrap();
    tprint!("after run");
}

#[test]
fn agen_shutdown() {
    common::check_case("task/agen_shutdown", || {
        // async def agen(): try: yield 1; yield 2 finally: ... await asyncio.sleep(0) ...
        shutdown_main(|| {
            agen!(|co| {
                let r: Result<()> = 'body: {
                    or_break!('body, ayield!(co, 1));
                    ayield!(co, 2)
                };
                tprint!("finally, awaiting");
                sleep!(co, Duration::ZERO)?;
                tprint!("closed");
                r
            })
        });
        // async def bad(): try: yield 1 finally: raise ValueError("bad close")
        shutdown_main(|| {
            agen!(|co| {
                let _ = ayield!(co, 1);
                Err(ValueError::new("bad close").into())
            })
        });
        KEEP.with(|k| k.borrow_mut().clear());
    });
}

/// `async def consume(agen)`.
fn consume(agen: AsyncGen<i64>) -> impl Body<()> {
    body!(move |co| -> Result<()> {
        while let Some(x) = try_next!(co, agen)? {
            tprint!("got {x}");
        }
        Ok(())
    })
}

#[test]
fn agen_cancel() {
    common::check_case("task/agen_cancel", || {
        run!(|co| -> Result<()> {
            // async def slow()
            let agen: AsyncGen<i64> = agen!(|co| {
                let r: Result<()> = 'body: {
                    or_break!('body, ayield!(co, 1));
                    tprint!("body waits");
                    or_break!('body, sleep!(co, Duration::from_secs(10)));
                    ayield!(co, 2)
                };
                if let Err(e) = &r
                    && e.is::<CancelledError>()
                {
                    tprint!("body cancelled");
                }
                tprint!("body finally");
                r
            });
            let lp = get_running_loop()?;
            let t = spawn!(lp, consume(agen.clone()))?;
            sleep!(co, Duration::ZERO)?;
            sleep!(co, Duration::ZERO)?;
            t.cancel(None);
            if wait!(co, t).unwrap_err().is::<CancelledError>() {
                tprint!("consumer cancelled: {}", common::py_bool(t.cancelled()));
            }
            if anext!(co, agen).unwrap_err().is::<StopAsyncIteration>() {
                tprint!("then anext raised StopAsyncIteration");
            }
            Ok(())
        })
        .unwrap();
    });
}
