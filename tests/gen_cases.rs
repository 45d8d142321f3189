//! Ports of CPython's generator behaviour (asyncio-cases.md cases 1–15, test_yield_from.py,
//! test_generators.py): each prints the trace its Python twin in tests/cases/gen/ prints.
mod common;
use common::py_bool;

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use GeneratorState::{Returned, Yielded};
use anyhow::Result;
use tulip::errors::{py_name, py_str, py_str_repr};
use tulip::{
    Exception, Generator, GeneratorExit, GeneratorState, RuntimeError, StopIteration, TypeError,
    ValueError, py_repr,
};

/// A Python value, for traces that mix types.
#[derive(Clone, Debug, PartialEq)]
enum V {
    None,
    Int(i64),
    Str(String),
    Tuple(Vec<V>),
    /// An exception object used as a value, by its repr.
    Exc(&'static str),
}

impl V {
    fn s(text: &str) -> V {
        V::Str(text.to_string())
    }

    fn repr(&self) -> String {
        match self {
            V::None => "None".into(),
            V::Int(n) => n.to_string(),
            V::Str(s) => py_str_repr(s),
            V::Tuple(items) if items.len() == 1 => format!("({},)", items[0].repr()),
            V::Tuple(items) => format!("({})", list(items).trim_matches(['[', ']'])),
            V::Exc(r) => r.to_string(),
        }
    }

    /// Python's `str()`.
    fn str(&self) -> String {
        match self {
            V::Str(s) => s.clone(),
            other => other.repr(),
        }
    }
}

/// Python's repr of a list.
fn list(items: &[V]) -> String {
    let inner: Vec<String> = items.iter().map(V::repr).collect();
    format!("[{}]", inner.join(", "))
}

fn ints(items: &[i64]) -> String {
    list(&items.iter().map(|n| V::Int(*n)).collect::<Vec<_>>())
}

fn exc(name: &'static str, msg: &str) -> anyhow::Error {
    Exception::new(name, msg).into()
}

fn is_ge(e: &anyhow::Error) -> bool {
    e.is::<GeneratorExit>()
}

fn zero_division() -> anyhow::Error {
    exc("ZeroDivisionError", "integer division or modulo by zero")
}

/// `list(gen)`, raising the first error.
fn collect<Y: 'static, R: 'static>(g: Generator<Y, (), R>) -> Result<Vec<Y>> {
    g.into_iter().collect()
}

// ---- case 1 ----

fn c01_g1() -> Generator<&'static str> {
    Generator::new(|co| {
        tprint!("Starting g1");
        co.yield_("g1 ham")?;
        co.yield_from(c01_g2())?;
        co.yield_("g1 eggs")?;
        tprint!("Finishing g1");
        Ok(())
    })
}

fn c01_g2() -> Generator<&'static str> {
    Generator::new(|co| {
        tprint!("Starting g2");
        co.yield_("g2 spam")?;
        co.yield_("g2 more spam")?;
        tprint!("Finishing g2");
        Ok(())
    })
}

#[test]
fn c01_delegate_next() {
    common::check_case("gen/c01_delegate_next", || {
        for x in c01_g1() {
            tprint!("Yielded {}", x.unwrap());
        }
    });
}

// ---- case 3 ----

fn c03_g1() -> Generator<&'static str, i64> {
    Generator::new(|co| {
        tprint!("Starting g1");
        let x = co.yield_("g1 ham")?;
        tprint!("g1 received {x}");
        co.yield_from(c03_g2())?;
        let x = co.yield_("g1 eggs")?;
        tprint!("g1 received {x}");
        tprint!("Finishing g1");
        Ok(())
    })
}

fn c03_g2() -> Generator<&'static str, i64> {
    Generator::new(|co| {
        tprint!("Starting g2");
        let x = co.yield_("g2 spam")?;
        tprint!("g2 received {x}");
        let x = co.yield_("g2 more spam")?;
        tprint!("g2 received {x}");
        tprint!("Finishing g2");
        Ok(())
    })
}

#[test]
fn c03_delegate_send() {
    common::check_case("gen/c03_delegate_send", || {
        let g = c03_g1();
        tprint!("first next -> {}", g.next().unwrap().as_yielded().unwrap());
        let mut x = 1;
        loop {
            match g.send(x).unwrap() {
                Yielded(y) => {
                    tprint!("Yielded {y}");
                    x += 1;
                }
                Returned(()) => {
                    tprint!("StopIteration value None");
                    break;
                }
            }
        }
    });
}

// ---- case 5 ----

fn c05_g2(bad: bool) -> Generator<&'static str> {
    Generator::new(move |co| {
        let r = (|| -> Result<()> {
            tprint!("Starting g2");
            co.yield_("g2 spam")?;
            co.yield_("g2 more spam")?;
            Ok(())
        })();
        if let Err(e) = &r
            && is_ge(e)
        {
            tprint!("g2 got {}", py_name(e));
        }
        // finally:
        tprint!("Finishing g2");
        if bad {
            return Err(ValueError::new("nybbles have exploded with delight").into());
        }
        r
    })
}

fn c05_g1(bad: bool) -> Generator<&'static str> {
    Generator::new(move |co| {
        let r = (|| -> Result<()> {
            tprint!("Starting g1");
            co.yield_("g1 ham")?;
            co.yield_from(c05_g2(bad))?;
            co.yield_("g1 eggs")?;
            Ok(())
        })();
        if let Err(e) = &r
            && is_ge(e)
        {
            tprint!("g1 got GeneratorExit");
        }
        tprint!("Finishing g1");
        r
    })
}

#[test]
fn c05_delegate_close() {
    common::check_case("gen/c05_delegate_close", || {
        for bad in [false, true] {
            tprint!("--- bad = {}", if bad { "True" } else { "False" });
            let g = c05_g1(bad);
            for _ in 0..2 {
                tprint!("Yielded {}", g.next().unwrap().as_yielded().unwrap());
            }
            match g.close() {
                Ok(()) => tprint!("close() -> None"),
                Err(e) => tprint!("close raised {}", py_repr(&e)),
            }
            tprint!("gi_frame is None: {}", py_bool(g.is_finished()));
        }
    });
}

// ---- case 7 ----

fn c07_g2(v: V) -> Generator<&'static str, (), V> {
    Generator::new(move |co| {
        tprint!("Starting g2");
        co.yield_("g2 spam")?;
        co.yield_("g2 more spam")?;
        tprint!("Finishing g2");
        Ok(v)
    })
}

#[test]
fn c07_return_value() {
    common::check_case("gen/c07_return_value", || {
        let g1 = Generator::new(|co| {
            tprint!("Starting g1");
            co.yield_("g1 ham")?;
            let ret = co.yield_from(c07_g2(V::None))?;
            tprint!("g2 returned {}", ret.repr());
            for v in [
                V::Int(1),
                V::Tuple(vec![V::Int(2)]),
                V::Exc("StopIteration(3)"),
            ] {
                let ret = co.yield_from(c07_g2(v))?;
                tprint!("g2 returned {}", ret.repr());
            }
            co.yield_("g1 eggs")?;
            tprint!("Finishing g1");
            Ok(())
        });
        for x in g1 {
            tprint!("Yielded {}", x.unwrap());
        }
    });
}

// ---- case 9 ----

fn c09_g2(gi: Weak<Generator<&'static str>>) -> Generator<&'static str> {
    Generator::new(move |co| {
        tprint!("g2: starting");
        co.yield_("y2")?;
        tprint!("g2: about to yield from g1");
        let gi = gi.upgrade().expect("gi alive");
        co.yield_from_ref(&gi)?;
        tprint!("g2 should not be here");
        Ok(())
    })
}

#[test]
fn c09_reentry() {
    common::check_case("gen/c09_reentry", || {
        let gi: Rc<Generator<&'static str>> = Rc::new_cyclic(|me| {
            let me = me.clone();
            Generator::new(move |co| {
                tprint!("g1: starting");
                co.yield_("y1")?;
                tprint!("g1: about to yield from g2");
                co.yield_from(c09_g2(me))?;
                tprint!("g1 should not be here");
                Ok(())
            })
        });
        for y in &*gi {
            match y {
                Ok(y) => tprint!("Yielded: {y}"),
                Err(e) => tprint!("caught {}", py_repr(&e)),
            }
        }
        let me: Rc<Generator<i64>> = Rc::new_cyclic(|me: &Weak<Generator<i64>>| {
            let me = me.clone();
            Generator::new(move |co| {
                let me = me.upgrade().expect("me alive");
                let i = me.next()?.as_yielded().unwrap_or(0);
                co.yield_(i)?;
                Ok(())
            })
        });
        if let Err(e) = me.next() {
            tprint!("caught {}", py_repr(&e));
        }
    });
}

// ---- case 11 ----

fn c11_inner(value: V) -> Generator<V, (), V> {
    Generator::new(move |co| {
        match co.yield_(V::Int(1)) {
            Err(e) if e.is::<ValueError>() => tprint!("inner caught ValueError"),
            r => {
                r?;
            }
        }
        Ok(value)
    })
}

#[test]
fn c11_throw_caught_returns() {
    common::check_case("gen/c11_throw_caught_returns", || {
        for value in [
            V::Int(2),
            V::Tuple(vec![V::Int(2)]),
            V::Exc("StopIteration(2)"),
        ] {
            let g = Generator::new(move |co| {
                let v = co.yield_from(c11_inner(value))?;
                tprint!("inner returned {} to outer", v.repr());
                co.yield_(v)?;
                Ok(())
            });
            tprint!("{}", g.next().unwrap().as_yielded().unwrap().str());
            let thrown = g.throw(ValueError::new("").into()).unwrap();
            tprint!("{}", thrown.as_yielded().unwrap().repr());
        }
    });
}

// ---- case 13 ----

fn c13_my_gen() -> Generator<V, Option<V>, V> {
    Generator::new(|co: &tulip::Co<V, Option<V>>| {
        let mut value = V::Int(42);
        loop {
            match co.yield_(value.clone()) {
                Ok(Some(what)) => {
                    tprint!("MyGen.send got {}", what.str());
                    value = V::s("sent-reply");
                }
                Ok(None) => {}
                Err(e) if is_ge(&e) => {
                    tprint!("MyGen.close called");
                    return Err(e);
                }
                Err(e) => {
                    tprint!("MyGen.throw got ['{}']", py_name(&e));
                    return Ok(V::s("from-throw"));
                }
            }
        }
    })
}

fn c13_outer() -> Generator<V, Option<V>> {
    Generator::new(|co| {
        let v = co.yield_from(c13_my_gen())?;
        tprint!("outer resumed with {}", v.str());
        co.yield_(V::s("after"))?;
        Ok(())
    })
}

#[test]
fn c13_custom_iterators() {
    common::check_case("gen/c13_custom_iterators", || {
        let my_iter = || Generator::<V, (), i64>::new(|_co| Ok(42));
        let g = Generator::new(move |co| {
            let ret = co.yield_from(my_iter())?;
            tprint!("ret = {ret}");
            Ok(())
        });
        tprint!("{}", list(&collect(g).unwrap()));
        let empty = Generator::<V>::new(|co| co.yield_from(Generator::new(|_co| Ok(()))));
        if let Returned(()) = empty.next().unwrap() {
            tprint!("empty -> StopIteration ()");
        }
        let g = c13_outer();
        tprint!("{}", g.next().unwrap().as_yielded().unwrap().str());
        let reply = g.send(Some(V::Tuple(vec![V::Int(1), V::Int(2), V::Int(3)])));
        tprint!("{}", reply.unwrap().as_yielded().unwrap().str());
        let thrown = g.throw(exc("KeyError", "k")).unwrap();
        tprint!("{}", thrown.as_yielded().unwrap().str());
        g.close().unwrap();
        let g = c13_outer();
        g.next().unwrap();
        g.close().unwrap();
        tprint!("close -> None");
    });
}

// ---- case 15 ----

fn c15_f() -> Generator<i64, Option<V>, Option<V>> {
    Generator::new(|co| {
        let x = co.yield_(1)?;
        Ok(x)
    })
}

#[test]
fn c15_protocol_errors() {
    common::check_case("gen/c15_protocol_errors", || {
        let g = c15_f();
        if let Err(e) = g.send(Some(V::Int(0))) {
            assert!(e.is::<TypeError>());
            tprint!("TypeError: {}", py_str(&e));
        }
        tprint!("still usable: {}", g.next().unwrap().as_yielded().unwrap());

        let g = Generator::<i64>::new(|co| {
            co.yield_(1)?;
            Err(exc("StopIteration", "x"))
        });
        g.next().unwrap();
        if let Err(e) = g.next() {
            assert!(e.is::<RuntimeError>());
            tprint!("RuntimeError: {}", py_str(&e));
        }

        let g = Generator::<Option<&str>>::new(|co| {
            if let Err(e) = co.yield_(None) {
                if !is_ge(&e) {
                    return Err(e);
                }
                co.yield_(Some("foo!"))?;
            }
            Ok(())
        });
        g.next().unwrap();
        if let Err(e) = g.close() {
            tprint!("RuntimeError: {}", py_str(&e));
        }
        g.close().unwrap();
        tprint!("second close -> None");

        let unstarted = || {
            Generator::<()>::new(|co| {
                tprint!("never printed");
                co.yield_(())?;
                Ok(())
            })
        };
        let g = unstarted();
        g.close().unwrap();
        if g.next().is_err_and(|e| e.is::<StopIteration>()) {
            tprint!("closed unstarted gen -> StopIteration on next");
        }
        let g = unstarted();
        if let Err(e) = g.throw(exc("KeyError", "early")) {
            tprint!(
                "throw into unstarted re-raises {} frame None: {}",
                py_repr(&e),
                py_bool(g.is_finished())
            );
        }

        let g = c15_f();
        g.next().unwrap();
        let value = g.send(Some(V::Exc("StopIteration(2)"))).unwrap();
        let value = value.as_returned().unwrap().unwrap();
        tprint!("return StopIteration(2) -> value {}", value.repr());
    });
}

// ---- test_yield_from.py ----

#[test]
fn yf_exception_initial_next() {
    common::check_case("gen/yf_exception_initial_next", || {
        let g2 = || {
            Generator::<i64>::new(|_co| {
                tprint!("Starting g2");
                let r: Result<()> = Err(ValueError::new("spanish inquisition occurred").into());
                tprint!("Finishing g2");
                r
            })
        };
        let g1 = Generator::new(move |co| {
            tprint!("Starting g1");
            let r = co.yield_from(g2());
            tprint!("Finishing g1");
            r
        });
        for x in g1 {
            match x {
                Ok(x) => tprint!("Yielded {x}"),
                Err(e) => tprint!("caught {}", py_repr(&e)),
            }
        }
    });
}

#[test]
fn yf_exception_delegated_next() {
    common::check_case("gen/yf_exception_delegated_next", || {
        let g2 = || {
            Generator::new(|co| {
                let r = (|| -> Result<()> {
                    tprint!("Starting g2");
                    co.yield_("g2 spam")?;
                    Err(ValueError::new("hovercraft is full of eels").into())
                })();
                tprint!("Finishing g2");
                r
            })
        };
        let g1 = Generator::new(move |co| {
            let r = (|| -> Result<()> {
                tprint!("Starting g1");
                co.yield_("g1 ham")?;
                co.yield_from(g2())?;
                co.yield_("g1 eggs")?;
                Ok(())
            })();
            tprint!("Finishing g1");
            r
        });
        for x in g1 {
            match x {
                Ok(x) => tprint!("Yielded {x}"),
                Err(e) => tprint!("caught {}", py_repr(&e)),
            }
        }
    });
}

#[test]
fn yf_exception_delegating_send() {
    common::check_case("gen/yf_exception_delegating_send", || {
        let g2 = || {
            Generator::<&str, i64>::new(|co| {
                tprint!("Starting g2");
                let x = co.yield_("g2 spam")?;
                tprint!("g2 received {x}");
                Err(ValueError::new("hovercraft is full of eels").into())
            })
        };
        let g = Generator::<&str, i64>::new(move |co| {
            tprint!("Starting g1");
            let x = co.yield_("g1 ham")?;
            tprint!("g1 received {x}");
            co.yield_from(g2())?;
            let x = co.yield_("g1 eggs")?;
            tprint!("g1 received {x}");
            tprint!("Finishing g1");
            Ok(())
        });
        g.next().unwrap();
        let mut x = 1;
        loop {
            match g.send(x) {
                Ok(Yielded(y)) => {
                    tprint!("Yielded {y}");
                    x += 1;
                }
                Ok(Returned(())) => {
                    tprint!("StopIteration");
                    break;
                }
                Err(e) => {
                    tprint!("caught {}", py_repr(&e));
                    break;
                }
            }
        }
        tprint!("finished: {}", py_bool(g.is_finished()));
    });
}

#[test]
fn yf_delegating_throw() {
    common::check_case("gen/yf_delegating_throw", || {
        let g2 = || {
            Generator::new(|co| {
                let r = (|| -> Result<()> {
                    tprint!("Starting g2");
                    co.yield_("g2 spam")?;
                    co.yield_("g2 more spam")?;
                    Ok(())
                })();
                tprint!("Finishing g2");
                r
            })
        };
        let g = Generator::<&str>::new(move |co| {
            let r = (|| -> Result<()> {
                tprint!("Starting g1");
                co.yield_("g1 ham")?;
                co.yield_from(g2())?;
                co.yield_("g1 eggs")?;
                Ok(())
            })();
            tprint!("Finishing g1");
            r
        });
        let run = || -> Result<()> {
            for _ in 0..2 {
                let x = g.next()?.as_yielded().unwrap();
                tprint!("Yielded {x}");
            }
            g.throw(ValueError::new("tomato ejected").into())?;
            Ok(())
        };
        if let Err(e) = run() {
            tprint!("caught {}", py_repr(&e));
        }
    });
}

#[test]
fn yf_zero_division_initial() {
    common::check_case("gen/yf_zero_division_initial", || {
        let g2 = || Generator::<i64>::new(|co| co.yield_(Err(zero_division())?));
        let gi = Generator::new(move |co| {
            tprint!("g1 about to yield from g2");
            co.yield_from(g2())?;
            tprint!("g1 should not be here");
            Ok(())
        });
        if let Err(e) = gi.next() {
            tprint!("caught {}", py_repr(&e));
        }
        if let Err(e) = gi.next() {
            tprint!("then {}", py_repr(&e));
        }
    });
}

#[test]
fn yf_return_from_delegated_throw() {
    common::check_case("gen/yf_return_from_delegated_throw", || {
        let g2 = || {
            Generator::new(|co| {
                tprint!("Starting g2");
                let r = (|| -> Result<()> {
                    co.yield_("g2 spam")?;
                    co.yield_("g2 more spam")?;
                    Ok(())
                })();
                match r {
                    Err(e) if py_name(&e) == "LunchError" => {
                        tprint!("Caught LunchError in g2");
                        co.yield_("g2 lunch saved")?;
                        co.yield_("g2 yet more spam")?;
                        Ok(())
                    }
                    r => r,
                }
            })
        };
        let g = Generator::new(move |co| {
            let r = (|| -> Result<()> {
                tprint!("Starting g1");
                co.yield_("g1 ham")?;
                co.yield_from(g2())?;
                co.yield_("g1 eggs")?;
                Ok(())
            })();
            tprint!("Finishing g1");
            r
        });
        for _ in 0..2 {
            tprint!("Yielded {}", g.next().unwrap().as_yielded().unwrap());
        }
        let thrown = g.throw(exc("LunchError", "tomato ejected")).unwrap();
        tprint!("throw -> {}", thrown.as_yielded().unwrap());
        for x in &g {
            tprint!("Yielded {}", x.unwrap());
        }
    });
}

fn return_values() -> [V; 4] {
    [
        V::None,
        V::Int(1),
        V::Tuple(vec![V::Int(2)]),
        V::Exc("StopIteration(3)"),
    ]
}

/// Python's repr of `StopIteration(value)` (a bare one for None).
fn stop_iteration_repr(v: &V) -> String {
    match v {
        V::None => "StopIteration()".into(),
        v => format!("StopIteration({})", v.repr()),
    }
}

#[test]
fn yf_next_return_value() {
    common::check_case("gen/yf_next_return_value", || {
        for r in return_values() {
            let gi = Generator::<(), (), V>::new(move |co| {
                tprint!("g starting");
                co.yield_(())?;
                tprint!("g returning {}", r.repr());
                Ok(r)
            });
            gi.next().unwrap();
            tprint!("f resuming g");
            if let Returned(v) = gi.next().unwrap() {
                tprint!("f caught {}", stop_iteration_repr(&v));
            }
        }
    });
}

#[test]
fn yf_send_return_value() {
    common::check_case("gen/yf_send_return_value", || {
        for r in return_values() {
            let gi = Generator::<(), Option<V>, V>::new(move |co| {
                tprint!("g starting");
                let x = co.yield_(())?;
                tprint!("g received {}", x.unwrap_or(V::None).repr());
                tprint!("g returning {}", r.repr());
                Ok(r)
            });
            gi.next().unwrap();
            tprint!("f sending spam to g");
            if let Returned(v) = gi.send(Some(V::s("spam"))).unwrap() {
                tprint!("f caught {}", stop_iteration_repr(&v));
            }
        }
    });
}

/// `f` of the three GeneratorExit tests: what it does on GeneratorExit varies.
fn ge_f(on_exit: fn(&tulip::Co<(), ()>, anyhow::Error) -> Result<()>) -> Generator<()> {
    Generator::new(move |co| {
        tprint!("Enter f");
        match co.yield_(()) {
            Ok(()) => {
                tprint!("Exit f");
                Ok(())
            }
            Err(e) if is_ge(&e) => on_exit(co, e),
            Err(e) => Err(e),
        }
    })
}

fn ge_g(on_exit: fn(&tulip::Co<(), ()>, anyhow::Error) -> Result<()>) -> Generator<()> {
    Generator::new(move |co| {
        tprint!("Enter g");
        co.yield_from(ge_f(on_exit))?;
        tprint!("Exit g");
        Ok(())
    })
}

#[test]
fn yf_ge_subgen_returns() {
    common::check_case("gen/yf_ge_subgen_returns", || {
        let gi = ge_g(|_co, _e| Ok(()));
        gi.next().unwrap();
        if let Err(e) = gi.throw(GeneratorExit.into()) {
            tprint!("caught {}", py_repr(&e));
        }
        tprint!("finished: {}", py_bool(gi.is_finished()));
    });
}

#[test]
fn yf_ge_subgen_yields() {
    common::check_case("gen/yf_ge_subgen_yields", || {
        let gi = ge_g(|co, _e| co.yield_(()));
        gi.next().unwrap();
        if let Err(e) = gi.throw(GeneratorExit.into()) {
            tprint!("caught {}", py_repr(&e));
        }
        tprint!("finished: {}", py_bool(gi.is_finished()));
    });
}

#[test]
fn yf_ge_subgen_raises() {
    common::check_case("gen/yf_ge_subgen_raises", || {
        let gi = ge_g(|_co, _e| Err(ValueError::new("Vorpal bunny encountered").into()));
        gi.next().unwrap();
        if let Err(e) = gi.throw(GeneratorExit.into()) {
            tprint!("caught {}", py_repr(&e));
        }
    });
}

type Shared = Rc<Generator<i64>>;

fn claim_one(two: fn(Weak<Generator<i64>>) -> Generator<i64>) -> Shared {
    Rc::new_cyclic(|me| {
        let me = me.clone();
        Generator::new(move |co| {
            co.yield_(0)?;
            co.yield_from(two(me))?;
            co.yield_(3)?;
            Ok(())
        })
    })
}

fn claim_two(g1: Weak<Generator<i64>>) -> Generator<i64> {
    Generator::new(move |co| {
        co.yield_(1)?;
        let g1 = g1.upgrade().expect("g1 alive");
        match co.yield_from_ref(&g1) {
            Err(e) if e.is::<ValueError>() => tprint!("two caught {}", py_repr(&e)),
            r => r?,
        }
        co.yield_(2)?;
        Ok(())
    })
}

fn my_err(e: &anyhow::Error) -> bool {
    py_name(e) == "MyErr"
}

/// `try: <yield v> except MyErr: pass`
fn yield_except_my_err(co: &tulip::Co<i64, ()>, v: i64) -> Result<()> {
    match co.yield_(v) {
        Err(e) if my_err(&e) => Ok(()),
        r => r,
    }
}

fn claim_one_throw(g1: &Weak<Generator<i64>>) -> Generator<i64> {
    let me = g1.clone();
    Generator::new(move |co| {
        yield_except_my_err(co, 0)?;
        co.yield_from(claim_two_throw(me))?;
        yield_except_my_err(co, 3)?;
        Ok(())
    })
}

fn claim_two_throw(g1: Weak<Generator<i64>>) -> Generator<i64> {
    Generator::new(move |co| {
        yield_except_my_err(co, 1)?;
        let g1 = g1.upgrade().expect("g1 alive");
        match co.yield_from_ref(&g1) {
            Err(e) if e.is::<ValueError>() => {
                tprint!("running: {}", py_bool(g1.is_running()))
            }
            r => r?,
        }
        yield_except_my_err(co, 2)?;
        Ok(())
    })
}

#[test]
fn yf_claim_running() {
    common::check_case("gen/yf_claim_running", || {
        let g1 = claim_one(claim_two);
        let all: Result<Vec<i64>> = g1.iter().collect();
        tprint!("{}", ints(&all.unwrap()));
        let g1 = claim_one(claim_two);
        let mut res = vec![g1.next().unwrap().as_yielded().unwrap()];
        while let Yielded(v) = g1.send(()).unwrap() {
            res.push(v);
        }
        tprint!("{}", ints(&res));
        let g1: Shared = Rc::new_cyclic(claim_one_throw);
        let mut res = vec![g1.next().unwrap().as_yielded().unwrap()];
        while let Yielded(v) = g1.throw(Exception::bare("MyErr").into()).unwrap() {
            res.push(v);
        }
        tprint!("{}", ints(&res));
    });
}

#[test]
fn yf_nested_close() {
    common::check_case("gen/yf_nested_close", || {
        let inner = || {
            Generator::<&str, (), Option<i64>>::new(|co| {
                let r = (|| -> Result<()> {
                    co.yield_("inner 1")?;
                    co.yield_("inner 2")?;
                    Ok(())
                })();
                match r {
                    Err(e) if is_ge(&e) => {
                        tprint!("inner got GeneratorExit, returns 5");
                        Ok(Some(5))
                    }
                    r => r.map(|()| None),
                }
            })
        };
        let middle = move || {
            Generator::<&str>::new(move |co| {
                let r = (|| -> Result<()> {
                    let r = co.yield_from(inner())?;
                    tprint!("middle should not see {r:?}");
                    Ok(())
                })();
                if let Err(e) = &r
                    && is_ge(e)
                {
                    tprint!("middle got GeneratorExit");
                }
                tprint!("middle finally");
                r
            })
        };
        let g = Generator::<&str>::new(move |co| {
            let r = (|| -> Result<()> {
                co.yield_("outer 0")?;
                co.yield_from(middle())
            })();
            tprint!("outer finally");
            r
        });
        tprint!("{}", g.next().unwrap().as_yielded().unwrap());
        tprint!("{}", g.next().unwrap().as_yielded().unwrap());
        g.close().unwrap();
        tprint!("close -> None");
        tprint!("finished: {}", py_bool(g.is_finished()));
        if let Err(e) = g.next() {
            tprint!("next -> {}", py_repr(&e));
        }
    });
}

fn yrange(n: i64) -> Generator<i64> {
    Generator::new(move |co| {
        for i in 0..n {
            co.yield_(i)?;
        }
        Ok(())
    })
}

#[test]
fn yf_send_range() {
    common::check_case("gen/yf_send_range", || {
        let g = || Generator::new(|co| co.yield_from(yrange(3)));
        for x in g() {
            tprint!("Yielded {}", x.unwrap());
        }
        let gi = g();
        for _ in 0..3 {
            tprint!("Yielded: {}", gi.send(()).unwrap().as_yielded().unwrap());
        }
    });
}

// ---- test_generators.py ----

#[test]
fn gen_tutorial() {
    common::check_case("gen/gen_tutorial", || {
        let f = || {
            Generator::<i64>::new(|co| {
                co.yield_(1)?;
                co.yield_(2)?;
                Ok(())
            })
        };
        for i in f() {
            tprint!("{}", i.unwrap());
        }
        let g = f();
        tprint!("{}", g.next().unwrap().as_yielded().unwrap());
        tprint!("{}", g.next().unwrap().as_yielded().unwrap());
        // Python raises StopIteration() when the body ends; tulip returns Returned(())
        // once, then Err(StopIteration) for every later resume.
        if let Returned(()) = g.next().unwrap() {
            tprint!("falling off the end: StopIteration()");
        }
        let g = Generator::<i64>::new(|co| {
            co.yield_(1)?;
            Ok(())
        });
        tprint!("{}", g.next().unwrap().as_yielded().unwrap());
        if let Returned(()) = g.next().unwrap() {
            tprint!("stopped: StopIteration()");
        }
        if let Err(e) = g.next() {
            tprint!("stopped: {}", py_repr(&e));
        }
        tprint!("{}", ints(&collect(yrange(5)).unwrap()));
        let creator = || {
            let r = yrange(5);
            tprint!("creator {}", r.next().unwrap().as_yielded().unwrap());
            r
        };
        for i in creator() {
            tprint!("caller {}", i.unwrap());
        }
        let zrange = |n| {
            Generator::new(move |co| {
                for i in yrange(n) {
                    co.yield_(i?)?;
                }
                Ok(())
            })
        };
        tprint!("{}", ints(&collect(zrange(5)).unwrap()));
    });
}

#[test]
fn gen_exception_propagation() {
    common::check_case("gen/gen_exception_propagation", || {
        let f = || -> Result<i64> { Err(zero_division()) };
        let k = Generator::<i64>::new(move |co| {
            co.yield_(f()?)?;
            co.yield_(42)?;
            Ok(())
        });
        if let Err(e) = k.next() {
            tprint!("caught {}", py_repr(&e));
        }
        if let Err(e) = k.next() {
            tprint!("cannot be resumed: {}", py_repr(&e));
        }
    });
}

#[test]
fn gen_try_except_finally() {
    common::check_case("gen/gen_try_except_finally", || {
        let f = Generator::<i64>::new(|co| {
            let outer = (|| -> Result<()> {
                co.yield_(1)?;
                let inner = (|| -> Result<()> {
                    co.yield_(2)?;
                    Err(zero_division())?;
                    co.yield_(3)?; // never get here
                    Ok(())
                })();
                match inner {
                    Ok(()) => {}
                    Err(e) if py_name(&e) == "ZeroDivisionError" => {
                        co.yield_(4)?;
                        co.yield_(5)?;
                        return Err(e);
                    }
                    Err(_) => {
                        co.yield_(6)?;
                    }
                }
                co.yield_(7)?; // the "raise" above stops this
                Ok(())
            })();
            if outer.is_err() {
                co.yield_(8)?;
            }
            co.yield_(9)?;
            {
                let _x = 12;
                // finally:
                co.yield_(10)?;
            }
            co.yield_(11)?;
            Ok(())
        });
        tprint!("{}", ints(&collect(f).unwrap()));
    });
}

struct Tree {
    label: char,
    left: Option<Rc<Tree>>,
    right: Option<Rc<Tree>>,
}

fn tree(list: &[char]) -> Option<Rc<Tree>> {
    if list.is_empty() {
        return None;
    }
    let i = list.len() / 2;
    Some(Rc::new(Tree {
        label: list[i],
        left: tree(&list[..i]),
        right: tree(&list[i + 1..]),
    }))
}

/// Recursive, with iteration over sub-generators (each on a stack of its own).
fn inorder(t: Option<Rc<Tree>>) -> Generator<char> {
    Generator::new(move |co| {
        if let Some(t) = t {
            for x in inorder(t.left.clone()) {
                co.yield_(x?)?;
            }
            co.yield_(t.label)?;
            for x in inorder(t.right.clone()) {
                co.yield_(x?)?;
            }
        }
        Ok(())
    })
}

/// Recursive with `yield_from` (inline on one stack).
fn inorder_from(t: Option<Rc<Tree>>) -> Generator<char> {
    Generator::new(move |co| {
        if let Some(t) = t {
            co.yield_from(inorder_from(t.left.clone()))?;
            co.yield_(t.label)?;
            co.yield_from(inorder_from(t.right.clone()))?;
        }
        Ok(())
    })
}

#[test]
fn gen_tree() {
    common::check_case("gen/gen_tree", || {
        let letters: Vec<char> = "ABCDEFGHIJKLMNOPQRSTUVWXYZ".chars().collect();
        let t = tree(&letters);
        let line: String = inorder(t.clone())
            .into_iter()
            .map(|x| format!(" {}", x.unwrap()))
            .collect();
        tprint!("{line}");
        let line: String = inorder_from(t)
            .into_iter()
            .map(|x| format!(" {}", x.unwrap()))
            .collect();
        tprint!("{line}");
    });
}

#[test]
fn gen_send() {
    common::check_case("gen/gen_send", || {
        let f = || {
            Generator::<i64, Option<i64>>::new(|co| {
                let v = co.yield_(1)?;
                tprint!("{}", v.map_or("None".into(), |v| v.to_string()));
                co.yield_(2)?;
                Ok(())
            })
        };
        let g = f();
        tprint!("{}", g.next().unwrap().as_yielded().unwrap());
        tprint!("{}", g.send(Some(42)).unwrap().as_yielded().unwrap());
        if let Err(e) = f().send(Some(7)) {
            tprint!("TypeError: {}", py_str(&e));
        }
        let f_none = Generator::<V>::new(|co| {
            co.yield_(V::None)?;
            Ok(())
        });
        tprint!("{}", list(&collect(f_none).unwrap()));
        let seq = Rc::new(RefCell::new(Vec::<i64>::new()));
        let s = seq.clone();
        let c = Generator::<(), i64>::new(move |co| {
            let mut count = 0;
            while count < 200 {
                count += co.yield_(())?;
                s.borrow_mut().push(count);
            }
            Ok(())
        });
        c.next().unwrap();
        tprint!("{}", ints(&seq.borrow()));
        for _ in 0..3 {
            c.send(10).unwrap();
            tprint!("{}", ints(&seq.borrow()));
        }
    });
}

#[test]
fn gen_throw() {
    common::check_case("gen/gen_throw", || {
        let f = || {
            Generator::<(), Option<i64>>::new(|co| {
                loop {
                    match co.yield_(()) {
                        Ok(v) => tprint!("{}", v.map_or("None".into(), |v| v.to_string())),
                        Err(e) if e.is::<ValueError>() => {
                            tprint!("caught ValueError ({})", py_str(&e))
                        }
                        Err(e) => return Err(e),
                    }
                }
            })
        };
        let g = f();
        g.next().unwrap();
        g.throw(ValueError::new("").into()).unwrap();
        g.throw(ValueError::new("xyz").into()).unwrap();
        g.send(Some(1)).unwrap();
        if let Err(e) = g.throw(Exception::bare("TypeError").into()) {
            tprint!("raised {}", py_repr(&e));
        }
        tprint!("finished: {}", py_bool(g.is_finished()));
        if let Err(e) = g.send(Some(2)) {
            tprint!("send -> {}", py_repr(&e));
        }
        if let Err(e) = g.throw(ValueError::new("6").into()) {
            tprint!("closed re-raises {}", py_repr(&e));
        }
        if let Err(e) = f().throw(ValueError::new("7").into()) {
            tprint!("just-opened re-raises {}", py_repr(&e));
        }
    });
}

#[test]
fn gen_close() {
    common::check_case("gen/gen_close", || {
        let f = || {
            Generator::<()>::new(|co| {
                if let Err(e) = co.yield_(()) {
                    if !is_ge(&e) {
                        return Err(e);
                    }
                    tprint!("exiting");
                }
                Ok(())
            })
        };
        let g = f();
        g.next().unwrap();
        g.close().unwrap();
        g.close().unwrap(); // should be no-op now
        f().close().unwrap(); // close on just-opened generator should be fine
        let f2 = || Generator::<()>::new(|co| co.yield_(()));
        f2().close().unwrap();
        let g = f2();
        g.next().unwrap();
        g.close().unwrap();
        tprint!("closed normally");
        // try: yield / finally: print("exiting") -- dropping runs it
        let g = Generator::<()>::new(|co| {
            let r = co.yield_(());
            tprint!("exiting");
            r
        });
        g.next().unwrap();
        drop(g);
        // GeneratorExit is not caught by `except Exception`
        let g = Generator::<()>::new(|co| {
            let r = co.yield_(());
            if let Err(e) = &r
                && !is_ge(e)
            {
                tprint!("except");
            }
            tprint!("finally");
            r
        });
        g.next().unwrap();
        drop(g);
    });
}

#[test]
fn gen_ill_behaved() {
    common::check_case("gen/gen_ill_behaved", || {
        let g = Generator::<Option<&str>>::new(|co| {
            if let Err(e) = co.yield_(None) {
                if !is_ge(&e) {
                    return Err(e);
                }
                co.yield_(Some("foo!"))?;
            }
            Ok(())
        });
        g.next().unwrap();
        if let Err(e) = g.close() {
            assert!(e.is::<RuntimeError>());
            tprint!("RuntimeError: {}", py_str(&e));
        }
        g.close().unwrap();
        tprint!("close again -> None");
        let g = Generator::<()>::new(|co| match co.yield_(()) {
            Err(e) if is_ge(&e) => Err(exc("TypeError", "fie!")),
            r => r,
        });
        g.next().unwrap();
        if let Err(e) = g.close() {
            tprint!("TypeError: {}", py_str(&e));
        }
        let g = Generator::<i64, (), &str>::new(|co| match co.yield_(1) {
            Err(e) if is_ge(&e) => {
                tprint!("f3 cleanup");
                Ok("ignored")
            }
            r => r.map(|()| "normal"),
        });
        g.next().unwrap();
        g.close().unwrap();
        tprint!("close of a generator that returns -> None");
    });
}

#[test]
fn gen_return_values() {
    common::check_case("gen/gen_return_values", || {
        let g = || Generator::<i64, Option<V>, Option<V>>::new(|co| co.yield_(1));
        for sent in [V::Tuple(vec![V::Int(2)]), V::Exc("StopIteration(2)")] {
            let gen1 = g();
            tprint!("{}", gen1.next().unwrap().as_yielded().unwrap());
            if let Returned(v) = gen1.send(Some(sent)).unwrap() {
                tprint!("value {}", v.unwrap().repr());
            }
        }
    });
}

#[test]
fn gen_stopiteration_error() {
    common::check_case("gen/gen_stopiteration_error", || {
        let g = Generator::<()>::new(|_co| Err(StopIteration.into()));
        if let Err(e) = g.next() {
            assert!(e.is::<RuntimeError>());
            tprint!("RuntimeError: {}", py_str(&e));
        }
        let g = Generator::<i64>::new(|co| {
            co.yield_(1)?;
            Err(StopIteration.into())
        });
        tprint!("{}", g.next().unwrap().as_yielded().unwrap());
        if let Err(e) = g.next() {
            tprint!("RuntimeError: {}", py_str(&e));
        }
        if let Err(e) = g.next() {
            tprint!("then {}", py_repr(&e));
        }
    });
}

#[test]
fn gen_except_throw() {
    common::check_case("gen/gen_except_throw", || {
        let make = Generator::<&str>::new(|co| match co.yield_("first") {
            Err(e) => {
                tprint!("caught {}", py_repr(&e));
                co.yield_("second")?;
                co.yield_("third")?;
                Err(e)
            }
            Ok(()) => Ok(()),
        });
        tprint!("{}", make.next().unwrap().as_yielded().unwrap());
        let thrown = make.throw(ValueError::new("v").into()).unwrap();
        tprint!("throw -> {}", thrown.as_yielded().unwrap());
        tprint!("{}", make.next().unwrap().as_yielded().unwrap());
        if let Err(e) = make.next() {
            tprint!("raised back {}", py_repr(&e));
        }
    });
}

#[test]
fn gen_subscript_assign() {
    common::check_case("gen/gen_subscript_assign", || {
        let data = Rc::new(RefCell::new(vec![1i64, 2]));
        let d = data.clone();
        let g = Generator::<&str, usize>::new(move |co| {
            let k = co.yield_("a")?;
            d.borrow_mut()[k] = 27;
            let k = co.yield_("b")?;
            d.borrow_mut()[k] = 27;
            Ok(())
        });
        tprint!("{}", py_str_repr(g.next().unwrap().as_yielded().unwrap()));
        tprint!("{}", ints(&data.borrow()));
        tprint!("{}", py_str_repr(g.send(0).unwrap().as_yielded().unwrap()));
        tprint!("{}", ints(&data.borrow()));
        assert!(g.send(1).unwrap().is_returned());
        tprint!("{}", ints(&data.borrow()));
    });
}

#[test]
fn gen_panic() {
    common::check_case("gen/gen_panic", || {
        let bad = || {
            Generator::<V>::new(|co| {
                tprint!("bad starts");
                co.yield_(V::Int(1))?;
                panic!("boom");
            })
        };
        let g = bad();
        tprint!("{}", g.next().unwrap().as_yielded().unwrap().repr());
        if let Err(e) = g.next() {
            tprint!("caught {}", py_repr(&e));
        }
        tprint!("finished: {}", py_bool(g.is_finished()));
        let outer = Generator::<V>::new(move |co| {
            if let Err(e) = co.yield_from(bad()) {
                tprint!("outer caught {}", py_repr(&e));
            }
            co.yield_(V::s("outer goes on"))?;
            Ok(())
        });
        tprint!("{}", list(&collect(outer).unwrap()));
    });
}

#[test]
fn every_case_has_a_port() {
    // Each tests/cases/gen/NAME.py must have a #[test] fn NAME above.
    let src = include_str!("gen_cases.rs");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/gen");
    let mut missing = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "py") {
            let name = path.file_stem().unwrap().to_str().unwrap().to_string();
            if !src.contains(&format!("check_case(\"gen/{name}\"")) {
                missing.push(name);
            }
        }
    }
    assert!(missing.is_empty(), "cases without a port: {missing:?}");
}

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
