//! Unit tests of the stackless generator's internal invariants.

use std::cell::Cell;
use std::rc::Rc;

use super::*;
use crate::errors::{StopIteration, ValueError};

#[test]
fn status_follows_the_body() {
    let g = Generator::<i32>::new(
        #[coroutine]
        static |_| {
            yield_!(1)?;
            Ok(())
        },
    );
    assert_eq!(g.status.get(), Status::Unstarted);
    assert!(g.next().unwrap().is_yielded());
    assert_eq!(g.status.get(), Status::Suspended);
    assert!(g.next().unwrap().is_returned());
    assert_eq!(g.status.get(), Status::Finished);
    assert!(
        // SAFETY: read between resumes.
        unsafe { &*g.body.get() }.is_none(),
        "the state machine is freed"
    );
    assert!(g.next().unwrap_err().is::<StopIteration>());
}

#[test]
fn a_running_generator_refuses_every_resume() {
    let slot: Rc<Cell<Option<Rc<Generator<u8>>>>> = Rc::default();
    let me = slot.clone();
    let g = Rc::new(Generator::new(
        #[coroutine]
        static move |_| {
            let g = me.take().unwrap();
            assert!(g.is_running());
            for e in [
                g.next().unwrap_err(),
                g.throw(RuntimeError::new("x").into()).unwrap_err(),
                g.close().unwrap_err(),
            ] {
                assert!(e.is::<ValueError>());
                assert_eq!(e.to_string(), "generator already executing");
            }
            drop(g);
            yield_!(1)?;
            Ok(())
        },
    ));
    slot.set(Some(g.clone()));
    assert!(g.next().unwrap().is_yielded());
    assert!(g.next().unwrap().is_returned());
}

#[test]
fn a_panic_finishes_the_generator() {
    let g = Generator::<u8>::new(
        #[coroutine]
        static |_| {
            yield_!(1)?;
            panic!("boom");
        },
    );
    g.next().unwrap();
    let e = g.next().unwrap_err();
    assert!(e.is::<crate::Panic>(), "{e}");
    assert!(g.is_finished());
}

#[test]
fn a_suspended_task_body_is_small() {
    // The point of the backend: a generator is a status byte and a box pointer.
    assert!(std::mem::size_of::<Generator<u8, (), u8>>() <= 3 * std::mem::size_of::<usize>());
}

#[test]
fn dropping_a_suspended_generator_closes_it() {
    // CPython closes a generator at collection: `finally` code runs, GeneratorExit seen.
    let log = Rc::new(std::cell::RefCell::new(Vec::new()));
    let l = log.clone();
    let g = Generator::<u8>::new(
        #[coroutine]
        static move |_| {
            let r = yield_!(1);
            l.borrow_mut().push(match &r {
                Err(e) if e.is::<GeneratorExit>() => "GeneratorExit",
                _ => "other",
            });
            r
        },
    );
    g.next().unwrap();
    drop(g);
    assert_eq!(*log.borrow(), ["GeneratorExit"]);
}

#[test]
fn dropping_a_generator_that_ignores_generator_exit_drops_its_locals() {
    struct Flag(Rc<Cell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let dropped = Rc::new(Cell::new(false));
    let d = dropped.clone();
    let g = Generator::<u8>::new(
        #[coroutine]
        static move |_| {
            let _flag = Flag(d);
            loop {
                let _ = yield_!(1); // ignores GeneratorExit
            }
        },
    );
    g.next().unwrap();
    let e = g.close().unwrap_err();
    assert_eq!(e.to_string(), "generator ignored GeneratorExit");
    assert!(!dropped.get());
    drop(g);
    assert!(dropped.get());
}

#[test]
fn yield_from_a_stackful_sub() {
    // A stackful generator (any function written against `Co`) delegated to from a
    // stackless body: its values come out, sends and throws go in, its value comes back.
    let g = Generator::<i32, i32, i32>::new(
        #[coroutine]
        static |_| {
            let sub = crate::Generator::<i32, i32, i32>::new(|co| {
                let a = co.yield_(1)?;
                let b = match co.yield_(2) {
                    Ok(b) => b,
                    Err(e) if e.is::<ValueError>() => 100,
                    Err(e) => return Err(e),
                };
                Ok(a + b)
            });
            let r = yield_from!(sub)?;
            yield_!(r)?;
            Ok(r * 2)
        },
    );
    assert_eq!(g.next().unwrap().as_yielded(), Some(1));
    assert_eq!(g.send(5).unwrap().as_yielded(), Some(2));
    let r = g.throw(ValueError::new("x").into()).unwrap();
    assert_eq!(r.as_yielded(), Some(105));
    assert_eq!(g.send(0).unwrap().as_returned(), Some(210));
}

#[test]
fn a_deep_chain_delegates_every_resume() {
    fn chain(depth: u32) -> Generator<u32, u32, u32> {
        Generator::new(
            #[coroutine]
            static move |_| {
                if depth == 0 {
                    let x = yield_!(0)?;
                    return Ok(x);
                }
                Ok(yield_from!(chain(depth - 1))? + 1)
            },
        )
    }
    let g = chain(200);
    assert_eq!(g.next().unwrap().as_yielded(), Some(0));
    assert_eq!(g.send(7).unwrap().as_returned(), Some(207));
}

#[test]
fn an_error_raised_while_handling_a_throw_records_it() {
    use crate::errors::{RuntimeError, context, py_repr};
    let g = Generator::<i32>::new(
        #[coroutine]
        static |_| match yield_!(1) {
            Err(e) if e.is::<ValueError>() => Err(RuntimeError::new("instead").into()),
            r => r,
        },
    );
    g.next().unwrap();
    let e = g.throw(ValueError::new("v").into()).unwrap_err();
    assert!(e.downcast_ref::<RuntimeError>().is_some());
    assert_eq!(py_repr(context(&e).unwrap()), "ValueError('v')");

    let g = Generator::<i32>::new(
        #[coroutine]
        static |_| yield_!(1),
    );
    g.next().unwrap();
    let e = g.throw(ValueError::new("same").into()).unwrap_err();
    assert!(context(&e).is_none(), "the thrown error itself");
}

#[test]
fn from_iter_takes_none_only_and_raises_what_is_thrown() {
    let g = Generator::<i32, Option<i32>>::new(
        #[coroutine]
        static |_| yield_from!(from_iter(vec![1, 2, 3])),
    );
    assert_eq!(g.next().unwrap().as_yielded(), Some(1));
    assert_eq!(g.send(None).unwrap().as_yielded(), Some(2));
    let e = g.send(Some(5)).unwrap_err();
    assert_eq!(
        crate::errors::py_repr(&e),
        "AttributeError(\"'list_iterator' object has no attribute 'send'\")"
    );
    assert!(g.is_finished());

    let g = Generator::<i32>::new(
        #[coroutine]
        static |_| yield_from!(from_iter(0..3)),
    );
    g.next().unwrap();
    let e = g.throw(ValueError::new("v").into()).unwrap_err();
    assert!(e.is::<ValueError>());
    let g = Generator::<i32>::new(
        #[coroutine]
        static |_| yield_from!(from_iter(0..3)),
    );
    g.next().unwrap();
    g.close().unwrap();
    assert!(g.is_finished());
}

#[test]
fn a_coroutine_kind_names_itself_in_its_errors() {
    let c = Generator::<u8, (), ()>::with_kind(
        Kind::Coroutine,
        #[coroutine]
        static |_| {
            let _ = yield_!(1);
            yield_!(2)?;
            Ok(())
        },
    );
    c.next().unwrap();
    assert_eq!(
        c.close().unwrap_err().to_string(),
        "coroutine ignored GeneratorExit"
    );
    let c = Generator::<u8, (), ()>::with_kind(
        Kind::Coroutine,
        #[coroutine]
        static |_| Err(crate::errors::Exception::new("StopIteration", "3").into()),
    );
    assert_eq!(
        c.next().unwrap_err().to_string(),
        "coroutine raised StopIteration"
    );
    for e in [
        c.next().unwrap_err(),
        c.throw(ValueError::new("x").into()).unwrap_err(),
    ] {
        assert!(e.is::<RuntimeError>());
        assert_eq!(e.to_string(), "cannot reuse already awaited coroutine");
    }
    c.close().unwrap();
}
