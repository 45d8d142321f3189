// The generator parity cases, shared by both backends: tests/gen_cases.rs runs them on the
// stackful `tulip::Generator`, tests/gen_cases_stackless.rs on `tulip::stackless::Generator`.
// Each file defines `G` (the generator type) and the macros the bodies are written with:
// `generator!(|co| body)` makes a generator, `y!(co, v)` is `yield v`, `yf!(co, sub)` and
// `yf_ref!(co, &sub)` are `yield from sub`, `yf_iter!(co, items)` is `yield from` a plain
// iterator, `try_!(Result<()>, { ... })` is a `try:` block. The cases with tasks and
// coroutine objects use the task macros of tests/backend/ (`run!`, `spawn!`, `coroutine!`).
// `Coro<T>` is the backend's coroutine object type.
use common::py_bool;

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use GeneratorState::{Returned, Yielded};
use anyhow::Result;
use tulip::errors::{py_name, py_str, py_str_repr};
use tulip::{
    Exception, GeneratorExit, GeneratorState, RuntimeError, StopIteration, TypeError,
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
fn collect<Y: 'static, R: 'static>(g: G<Y, (), R>) -> Result<Vec<Y>> {
    g.into_iter().collect()
}

// ---- case 1 ----

fn c01_g1() -> G<&'static str> {
    generator!(|co| {
        tprint!("Starting g1");
        y!(co, "g1 ham")?;
        yf!(co, c01_g2())?;
        y!(co, "g1 eggs")?;
        tprint!("Finishing g1");
        Ok(())
    })
}

fn c01_g2() -> G<&'static str> {
    generator!(|co| {
        tprint!("Starting g2");
        y!(co, "g2 spam")?;
        y!(co, "g2 more spam")?;
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

fn c03_g1() -> G<&'static str, i64> {
    generator!(|co| {
        tprint!("Starting g1");
        let x = y!(co, "g1 ham")?;
        tprint!("g1 received {x}");
        yf!(co, c03_g2())?;
        let x = y!(co, "g1 eggs")?;
        tprint!("g1 received {x}");
        tprint!("Finishing g1");
        Ok(())
    })
}

fn c03_g2() -> G<&'static str, i64> {
    generator!(|co| {
        tprint!("Starting g2");
        let x = y!(co, "g2 spam")?;
        tprint!("g2 received {x}");
        let x = y!(co, "g2 more spam")?;
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

fn c05_g2(bad: bool) -> G<&'static str> {
    generator!(move |co| {
        let r = try_!(Result<()>, {
            tprint!("Starting g2");
            y!(co, "g2 spam")?;
            y!(co, "g2 more spam")?;
            Ok(())
        });
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

fn c05_g1(bad: bool) -> G<&'static str> {
    generator!(move |co| {
        let r = try_!(Result<()>, {
            tprint!("Starting g1");
            y!(co, "g1 ham")?;
            yf!(co, c05_g2(bad))?;
            y!(co, "g1 eggs")?;
            Ok(())
        });
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

fn c07_g2(v: V) -> G<&'static str, (), V> {
    generator!(move |co| {
        tprint!("Starting g2");
        y!(co, "g2 spam")?;
        y!(co, "g2 more spam")?;
        tprint!("Finishing g2");
        Ok(v)
    })
}

#[test]
fn c07_return_value() {
    common::check_case("gen/c07_return_value", || {
        let g1 = generator!(|co| {
            tprint!("Starting g1");
            y!(co, "g1 ham")?;
            let ret = yf!(co, c07_g2(V::None))?;
            tprint!("g2 returned {}", ret.repr());
            for v in [
                V::Int(1),
                V::Tuple(vec![V::Int(2)]),
                V::Exc("StopIteration(3)"),
            ] {
                let ret = yf!(co, c07_g2(v))?;
                tprint!("g2 returned {}", ret.repr());
            }
            y!(co, "g1 eggs")?;
            tprint!("Finishing g1");
            Ok(())
        });
        for x in g1 {
            tprint!("Yielded {}", x.unwrap());
        }
    });
}

// ---- case 9 ----

fn c09_g2(gi: Weak<G<&'static str>>) -> G<&'static str> {
    generator!(move |co| {
        tprint!("g2: starting");
        y!(co, "y2")?;
        tprint!("g2: about to yield from g1");
        let gi = gi.upgrade().expect("gi alive");
        yf_ref!(co, &gi)?;
        tprint!("g2 should not be here");
        Ok(())
    })
}

#[test]
fn c09_reentry() {
    common::check_case("gen/c09_reentry", || {
        let gi: Rc<G<&'static str>> = Rc::new_cyclic(|me| {
            let me = me.clone();
            generator!(move |co| {
                tprint!("g1: starting");
                y!(co, "y1")?;
                tprint!("g1: about to yield from g2");
                yf!(co, c09_g2(me))?;
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
        let me: Rc<G<i64>> = Rc::new_cyclic(|me: &Weak<G<i64>>| {
            let me = me.clone();
            generator!(move |co| {
                let me = me.upgrade().expect("me alive");
                let i = me.next()?.as_yielded().unwrap_or(0);
                y!(co, i)?;
                Ok(())
            })
        });
        if let Err(e) = me.next() {
            tprint!("caught {}", py_repr(&e));
        }
    });
}

// ---- case 11 ----

fn c11_inner(value: V) -> G<V, (), V> {
    generator!(move |co| {
        match y!(co, V::Int(1)) {
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
            let g = generator!(move |co| {
                let v = yf!(co, c11_inner(value))?;
                tprint!("inner returned {} to outer", v.repr());
                y!(co, v)?;
                Ok(())
            });
            tprint!("{}", g.next().unwrap().as_yielded().unwrap().str());
            let thrown = g.throw(ValueError::new("").into()).unwrap();
            tprint!("{}", thrown.as_yielded().unwrap().repr());
        }
    });
}

// ---- case 13 ----

fn c13_my_gen() -> G<V, Option<V>, V> {
    generator!(<V, Option<V>, V> |co| {
        let mut value = V::Int(42);
        loop {
            match y!(co, value.clone()) {
                Ok(Some(what)) => {
                    tprint!("MyGen.send got {}", V::str(&what));
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

fn c13_outer() -> G<V, Option<V>> {
    generator!(|co| {
        let v = yf!(co, c13_my_gen())?;
        tprint!("outer resumed with {}", v.str());
        y!(co, V::s("after"))?;
        Ok(())
    })
}

#[test]
fn c13_custom_iterators() {
    common::check_case("gen/c13_custom_iterators", || {
        let my_iter = || generator!(<V, (), i64> |_co| Ok(42));
        let g = generator!(move |co| {
            let ret = yf!(co, my_iter())?;
            tprint!("ret = {ret}");
            Ok(())
        });
        tprint!("{}", list(&collect(g).unwrap()));
        let empty = generator!(<V> |co| yf!(co, generator!(|_co| Ok(()))));
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

fn c15_f() -> G<i64, Option<V>, Option<V>> {
    generator!(|co| {
        let x = y!(co, 1)?;
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

        let g = generator!(<i64> |co| {
            y!(co, 1)?;
            Err(exc("StopIteration", "x"))
        });
        g.next().unwrap();
        if let Err(e) = g.next() {
            assert!(e.is::<RuntimeError>());
            tprint!("RuntimeError: {}", py_str(&e));
        }

        let g = generator!(<Option<&str>> |co| {
            if let Err(e) = y!(co, None) {
                if !is_ge(&e) {
                    return Err(e);
                }
                y!(co, Some("foo!"))?;
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
            generator!(<()> |co| {
                tprint!("never printed");
                y!(co, ())?;
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
            generator!(<i64> |_co| {
                tprint!("Starting g2");
                let r: Result<()> = Err(ValueError::new("spanish inquisition occurred").into());
                tprint!("Finishing g2");
                r
            })
        };
        let g1 = generator!(move |co| {
            tprint!("Starting g1");
            let r = yf!(co, g2());
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
            generator!(|co| {
                let r = try_!(Result<()>, {
                    tprint!("Starting g2");
                    y!(co, "g2 spam")?;
                    Err(ValueError::new("hovercraft is full of eels").into())
                });
                tprint!("Finishing g2");
                r
            })
        };
        let g1 = generator!(move |co| {
            let r = try_!(Result<()>, {
                tprint!("Starting g1");
                y!(co, "g1 ham")?;
                yf!(co, g2())?;
                y!(co, "g1 eggs")?;
                Ok(())
            });
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
            generator!(<&str, i64> |co| {
                tprint!("Starting g2");
                let x = y!(co, "g2 spam")?;
                tprint!("g2 received {x}");
                Err(ValueError::new("hovercraft is full of eels").into())
            })
        };
        let g = generator!(<&str, i64> move |co| {
            tprint!("Starting g1");
            let x = y!(co, "g1 ham")?;
            tprint!("g1 received {x}");
            yf!(co, g2())?;
            let x = y!(co, "g1 eggs")?;
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
            generator!(|co| {
                let r = try_!(Result<()>, {
                    tprint!("Starting g2");
                    y!(co, "g2 spam")?;
                    y!(co, "g2 more spam")?;
                    Ok(())
                });
                tprint!("Finishing g2");
                r
            })
        };
        let g = generator!(<&str> move |co| {
            let r = try_!(Result<()>, {
                tprint!("Starting g1");
                y!(co, "g1 ham")?;
                yf!(co, g2())?;
                y!(co, "g1 eggs")?;
                Ok(())
            });
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
        let g2 = || generator!(<i64> |co| y!(co, Err(zero_division())?));
        let gi = generator!(move |co| {
            tprint!("g1 about to yield from g2");
            yf!(co, g2())?;
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
            generator!(|co| {
                tprint!("Starting g2");
                let r = try_!(Result<()>, {
                    y!(co, "g2 spam")?;
                    y!(co, "g2 more spam")?;
                    Ok(())
                });
                match r {
                    Err(e) if py_name(&e) == "LunchError" => {
                        tprint!("Caught LunchError in g2");
                        y!(co, "g2 lunch saved")?;
                        y!(co, "g2 yet more spam")?;
                        Ok(())
                    }
                    r => r,
                }
            })
        };
        let g = generator!(move |co| {
            let r = try_!(Result<()>, {
                tprint!("Starting g1");
                y!(co, "g1 ham")?;
                yf!(co, g2())?;
                y!(co, "g1 eggs")?;
                Ok(())
            });
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
            let gi = generator!(<(), (), V> move |co| {
                tprint!("g starting");
                y!(co, ())?;
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
            let gi = generator!(<(), Option<V>, V> move |co| {
                tprint!("g starting");
                let x: Option<V> = y!(co, ())?;
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

/// What `f` of the three GeneratorExit tests does on GeneratorExit.
#[derive(Clone, Copy)]
enum OnExit {
    Return,
    Yield,
    Raise,
}

/// `f` of the three GeneratorExit tests: what it does on GeneratorExit varies.
fn ge_f(on_exit: OnExit) -> G<()> {
    generator!(move |co| {
        tprint!("Enter f");
        match y!(co, ()) {
            Ok(()) => {
                tprint!("Exit f");
                Ok(())
            }
            Err(e) if is_ge(&e) => match on_exit {
                OnExit::Return => Ok(()),
                OnExit::Yield => y!(co, ()),
                OnExit::Raise => Err(ValueError::new("Vorpal bunny encountered").into()),
            },
            Err(e) => Err(e),
        }
    })
}

fn ge_g(on_exit: OnExit) -> G<()> {
    generator!(move |co| {
        tprint!("Enter g");
        yf!(co, ge_f(on_exit))?;
        tprint!("Exit g");
        Ok(())
    })
}

#[test]
fn yf_ge_subgen_returns() {
    common::check_case("gen/yf_ge_subgen_returns", || {
        let gi = ge_g(OnExit::Return);
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
        let gi = ge_g(OnExit::Yield);
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
        let gi = ge_g(OnExit::Raise);
        gi.next().unwrap();
        if let Err(e) = gi.throw(GeneratorExit.into()) {
            tprint!("caught {}", py_repr(&e));
        }
    });
}

type Shared = Rc<G<i64>>;

fn claim_one(two: fn(Weak<G<i64>>) -> G<i64>) -> Shared {
    Rc::new_cyclic(|me| {
        let me = me.clone();
        generator!(move |co| {
            y!(co, 0)?;
            yf!(co, two(me))?;
            y!(co, 3)?;
            Ok(())
        })
    })
}

fn claim_two(g1: Weak<G<i64>>) -> G<i64> {
    generator!(move |co| {
        y!(co, 1)?;
        let g1 = g1.upgrade().expect("g1 alive");
        match yf_ref!(co, &g1) {
            Err(e) if e.is::<ValueError>() => tprint!("two caught {}", py_repr(&e)),
            r => r?,
        }
        y!(co, 2)?;
        Ok(())
    })
}

fn my_err(e: &anyhow::Error) -> bool {
    py_name(e) == "MyErr"
}

/// `try: <yield v> except MyErr: pass`, as a sub-generator (`yield from` it).
fn yield_except_my_err(v: i64) -> G<i64> {
    generator!(move |co| match y!(co, v) {
        Err(e) if my_err(&e) => Ok(()),
        r => r,
    })
}

fn claim_one_throw(g1: &Weak<G<i64>>) -> G<i64> {
    let me = g1.clone();
    generator!(move |co| {
        yf!(co, yield_except_my_err(0))?;
        yf!(co, claim_two_throw(me))?;
        yf!(co, yield_except_my_err(3))?;
        Ok(())
    })
}

fn claim_two_throw(g1: Weak<G<i64>>) -> G<i64> {
    generator!(move |co| {
        yf!(co, yield_except_my_err(1))?;
        let g1 = g1.upgrade().expect("g1 alive");
        match yf_ref!(co, &g1) {
            Err(e) if e.is::<ValueError>() => {
                tprint!("running: {}", py_bool(g1.is_running()))
            }
            r => r?,
        }
        yf!(co, yield_except_my_err(2))?;
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
            generator!(<&str, (), Option<i64>> |co| {
                let r = try_!(Result<()>, {
                    y!(co, "inner 1")?;
                    y!(co, "inner 2")?;
                    Ok(())
                });
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
            generator!(<&str> move |co| {
                let r = try_!(Result<()>, {
                    let r = yf!(co, inner())?;
                    tprint!("middle should not see {r:?}");
                    Ok(())
                });
                if let Err(e) = &r
                    && is_ge(e)
                {
                    tprint!("middle got GeneratorExit");
                }
                tprint!("middle finally");
                r
            })
        };
        let g = generator!(<&str> move |co| {
            let r = try_!(Result<()>, {
                y!(co, "outer 0")?;
                yf!(co, middle())
            });
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

fn yrange(n: i64) -> G<i64> {
    generator!(move |co| {
        for i in 0..n {
            y!(co, i)?;
        }
        Ok(())
    })
}

#[test]
fn yf_send_range() {
    common::check_case("gen/yf_send_range", || {
        let g = || generator!(|co| yf!(co, yrange(3)));
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
            generator!(<i64> |co| {
                y!(co, 1)?;
                y!(co, 2)?;
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
        let g = generator!(<i64> |co| {
            y!(co, 1)?;
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
            generator!(move |co| {
                for i in yrange(n) {
                    y!(co, i?)?;
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
        let k = generator!(<i64> move |co| {
            y!(co, f()?)?;
            y!(co, 42)?;
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
        let f = generator!(<i64> |co| {
            let outer = try_!(Result<()>, {
                y!(co, 1)?;
                let inner = try_!(Result<()>, {
                    y!(co, 2)?;
                    Err(zero_division())?;
                    y!(co, 3)?; // never get here
                    Ok(())
                });
                match inner {
                    Ok(()) => {}
                    Err(e) if py_name(&e) == "ZeroDivisionError" => {
                        y!(co, 4)?;
                        y!(co, 5)?;
                        Err::<(), _>(e)?; // raise
                    }
                    Err(_) => {
                        y!(co, 6)?;
                    }
                }
                y!(co, 7)?; // the "raise" above stops this
                Ok(())
            });
            if outer.is_err() {
                y!(co, 8)?;
            }
            y!(co, 9)?;
            {
                let _x = 12;
                // finally:
                y!(co, 10)?;
            }
            y!(co, 11)?;
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
fn inorder(t: Option<Rc<Tree>>) -> G<char> {
    generator!(move |co| {
        if let Some(t) = t {
            for x in inorder(t.left.clone()) {
                y!(co, x?)?;
            }
            y!(co, t.label)?;
            for x in inorder(t.right.clone()) {
                y!(co, x?)?;
            }
        }
        Ok(())
    })
}

/// Recursive with `yield_from` (inline on one stack).
fn inorder_from(t: Option<Rc<Tree>>) -> G<char> {
    generator!(move |co| {
        if let Some(t) = t {
            yf!(co, inorder_from(t.left.clone()))?;
            y!(co, t.label)?;
            yf!(co, inorder_from(t.right.clone()))?;
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
            generator!(<i64, Option<i64>> |co| {
                let v: Option<i64> = y!(co, 1)?;
                tprint!("{}", v.map_or("None".into(), |v| v.to_string()));
                y!(co, 2)?;
                Ok(())
            })
        };
        let g = f();
        tprint!("{}", g.next().unwrap().as_yielded().unwrap());
        tprint!("{}", g.send(Some(42)).unwrap().as_yielded().unwrap());
        if let Err(e) = f().send(Some(7)) {
            tprint!("TypeError: {}", py_str(&e));
        }
        let f_none = generator!(<V> |co| {
            y!(co, V::None)?;
            Ok(())
        });
        tprint!("{}", list(&collect(f_none).unwrap()));
        let seq = Rc::new(RefCell::new(Vec::<i64>::new()));
        let s = seq.clone();
        let c = generator!(<(), i64> move |co| {
            let mut count = 0;
            while count < 200 {
                count += y!(co, ())?;
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
            generator!(<(), Option<i64>> |co| {
                loop {
                    match y!(co, ()) {
                        Ok(v) => tprint!("{}", Option::<i64>::map_or(v, "None".into(), |v| v.to_string())),
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
            generator!(<()> |co| {
                if let Err(e) = y!(co, ()) {
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
        let f2 = || generator!(<()> |co| y!(co, ()));
        f2().close().unwrap();
        let g = f2();
        g.next().unwrap();
        g.close().unwrap();
        tprint!("closed normally");
        // try: yield / finally: print("exiting") -- dropping runs it
        let g = generator!(<()> |co| {
            let r = y!(co, ());
            tprint!("exiting");
            r
        });
        g.next().unwrap();
        drop(g);
        // GeneratorExit is not caught by `except Exception`
        let g = generator!(<()> |co| {
            let r = y!(co, ());
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
        let g = generator!(<Option<&str>> |co| {
            if let Err(e) = y!(co, None) {
                if !is_ge(&e) {
                    return Err(e);
                }
                y!(co, Some("foo!"))?;
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
        let g = generator!(<()> |co| match y!(co, ()) {
            Err(e) if is_ge(&e) => Err(exc("TypeError", "fie!")),
            r => r,
        });
        g.next().unwrap();
        if let Err(e) = g.close() {
            tprint!("TypeError: {}", py_str(&e));
        }
        let g = generator!(<i64, (), &str> |co| match y!(co, 1) {
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
        let g = || generator!(<i64, Option<V>, Option<V>> |co| y!(co, 1));
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
        let g = generator!(<()> |_co| Err(StopIteration(None).into()));
        if let Err(e) = g.next() {
            assert!(e.is::<RuntimeError>());
            tprint!("RuntimeError: {}", py_str(&e));
        }
        let g = generator!(<i64> |co| {
            y!(co, 1)?;
            Err(StopIteration(None).into())
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
        let make = generator!(<&str> |co| match y!(co, "first") {
            Err(e) => {
                tprint!("caught {}", py_repr(&e));
                y!(co, "second")?;
                y!(co, "third")?;
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
        let g = generator!(<&str, usize> move |co| {
            let k = y!(co, "a")?;
            d.borrow_mut()[k] = 27;
            let k = y!(co, "b")?;
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
            generator!(<V> |co| {
                tprint!("bad starts");
                y!(co, V::Int(1))?;
                panic!("boom");
            })
        };
        let g = bad();
        tprint!("{}", g.next().unwrap().as_yielded().unwrap().repr());
        if let Err(e) = g.next() {
            tprint!("caught {}", py_repr(&e));
        }
        tprint!("finished: {}", py_bool(g.is_finished()));
        let outer = generator!(<V> move |co| {
            if let Err(e) = yf!(co, bad()) {
                tprint!("outer caught {}", py_repr(&e));
            }
            y!(co, V::s("outer goes on"))?;
            Ok(())
        });
        tprint!("{}", list(&collect(outer).unwrap()));
    });
}

/// Coroutine objects as distinct from generators, and `yield from` over a plain iterator
/// (issue #12).
mod objects {
    use super::*;

    use std::cell::OnceCell;

    fn show(e: &anyhow::Error) -> String {
        format!("{} {}", py_name(e), py_str(e))
    }

    #[test]
    fn coro_errors() {
        crate::common::check_case("gen/coro_errors", || {
            run!(|co| -> Result<()> {
                let c = coroutine!(|_co| -> Result<i32> {
                    tprint!("sub runs");
                    Ok(1)
                });
                tprint!("first await -> {}", await_ref!(co, &c)?);
                let e = await_ref!(co, &c).unwrap_err();
                tprint!("second await: {}", show(&e));
                let e = c.send(()).unwrap_err();
                tprint!("send on a finished coroutine: {}", show(&e));
                let e = c.throw(ValueError::new("x").into()).unwrap_err();
                tprint!("throw on a finished coroutine: {}", show(&e));
                c.close()?;
                tprint!("close -> None");

                let c = coroutine!(|co| -> Result<()> {
                    if let Err(e) = bare_yield!(co) {
                        if !e.is::<GeneratorExit>() {
                            return Err(e);
                        }
                        tprint!("ignoring GeneratorExit");
                        bare_yield!(co)?;
                    }
                    Ok(())
                });
                c.send(())?;
                let e = c.close().unwrap_err();
                tprint!("close: {}", show(&e));

                let raises_stop = coroutine!(|_co| -> Result<()> {
                    Err(Exception::new("StopIteration", "3").into())
                });
                let e = await_coro!(co, raises_stop).unwrap_err();
                tprint!("await: {}", show(&e));
                Ok(())
            })
            .unwrap();

            let slot: Rc<OnceCell<Weak<Coro<()>>>> = Rc::new(OnceCell::new());
            let me = {
                let slot = slot.clone();
                Rc::new(coroutine!(move |co| -> Result<()> {
                    tprint!("awaiting itself");
                    let me = slot
                        .get()
                        .and_then(Weak::upgrade)
                        .expect("set before the send");
                    await_ref!(co, &me)
                }))
            };
            slot.set(Rc::downgrade(&me)).unwrap();
            let e = me.send(()).unwrap_err();
            tprint!("send: {}", show(&e));
        });
    }

    fn over<I>(items: I) -> G<i64, Option<i64>, &'static str>
    where
        I: IntoIterator<Item = i64> + 'static,
        I::IntoIter: 'static,
    {
        generator!(move |co| {
            tprint!("start");
            yf_iter!(co, items)?;
            tprint!("yield from returned None");
            Ok("done")
        })
    }

    fn guarded() -> G<String> {
        generator!(|co| {
            let r = match yf_iter!(co, ["1", "2", "3"].map(String::from)) {
                Err(e) if e.is::<ValueError>() => {
                    tprint!("delegator caught {}", py_repr(&e));
                    y!(co, "after throw".to_string()).map(drop)
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
            let g = generator!(<i64, (), &str> |co| {
                tprint!("start");
                yf_iter!(co, vec![1, 2])?;
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
    use super::*;

    use std::time::Duration;

    use tulip::errors::{context, py_format_exception};
    use tulip::{CancelledError, ErrorExt, TimeoutError, cause, get_running_loop, raise_from};

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
    fn catching(handler: fn(anyhow::Error) -> Result<()>) -> G<i32> {
        generator!(move |co| match y!(co, 1) {
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

            let g = generator!(<i32> |co| {
                if let Err(e) = y!(co, 1) {
                    if !e.isinstance::<ValueError>() {
                        return Err(e);
                    }
                    tprint!("handled");
                }
                y!(co, 2)?;
                Err(Exception::new("KeyError", "later").into())
            });
            g.next().unwrap();
            let y = g.throw(ValueError::new("v").into()).unwrap();
            tprint!("yielded {}", y.as_yielded().unwrap());
            let e = g.next().unwrap_err();
            tprint!("later: {}", show(&e));

            run!(|co| -> Result<()> {
                let lp = get_running_loop()?;
                let t = spawn!(lp, |co| -> Result<()> {
                    match sleep!(co, Duration::from_secs(10)) {
                        Err(e) if e.isinstance::<CancelledError>() => {
                            Err(RuntimeError::new("cancelled badly").into())
                        }
                        r => r,
                    }
                })?;
                sleep!(co, Duration::ZERO)?;
                t.cancel(Some("stop"));
                let e = wait!(co, t).unwrap_err();
                assert!(e.isinstance::<RuntimeError>());
                tprint!("task: {}", show(&e));

                let t = spawn!(lp, |co| -> Result<()> {
                    match bare_yield!(co) {
                        Err(e) if e.isinstance::<CancelledError>() => {
                            Err(RuntimeError::new("thrown in").into())
                        }
                        r => r,
                    }
                })?;
                sleep!(co, Duration::ZERO)?;
                t.cancel(None);
                let e = wait!(co, t).unwrap_err();
                tprint!("bare yield: {}", show(&e));
                Ok(())
            })
            .unwrap();
        });
    }
}

#[test]
fn every_case_has_a_port() {
    // Each tests/cases/gen/NAME.py must have a #[test] fn NAME above.
    let src = include_str!("cases.rs");
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
