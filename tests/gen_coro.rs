//! Coroutine objects as distinct from generators, and `yield from` over a plain iterator
//! (issue #12): each case prints what its Python twin in tests/cases/gen/ prints.
mod common;

use std::cell::OnceCell;
use std::rc::{Rc, Weak};

use tulip::errors::{py_name, py_str};
use tulip::{Coroutine, Exception, GeneratorExit, ValueError};

fn show(e: &anyhow::Error) -> String {
    format!("{} {}", py_name(e), py_str(e))
}

#[test]
fn coro_errors() {
    common::check_case("gen/coro_errors", || {
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
