//! Generator behaviour beyond the Python parity cases: a property test against a model of
//! PEP 380, stack pooling, destructors, many live generators, panics, deep delegation,
//! stack overflow reports and mapping limits.
use std::cell::{Cell, RefCell};
use std::process::Command;
use std::rc::Rc;

use GeneratorState::{Returned, Yielded};
use anyhow::Result;
use tulip::generator::{DEFAULT_STACK_SIZE, stack_pool_stats};
use tulip::{
    Co, ErrorExt, Exception, Generator, GeneratorExit, GeneratorState, Panic, RuntimeError,
    ValueError, py_repr,
};

// ---------------------------------------------------------------------------------------
// Property test: random trees of delegating generators, random next/throw/close, checked
// against a direct interpreter of Python's semantics.

/// A tiny deterministic PRNG (xorshift64*), so failures replay by seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Yield(i64),
    /// `yield from` a fresh generator of node `.0`.
    Sub(usize),
    Raise(i64),
}

/// What a node does with a non-GeneratorExit error at a yield or a `yield from`.
#[derive(Clone, Copy, Debug)]
enum OnErr {
    Catch,
    Propagate,
}

/// What a node does with GeneratorExit.
#[derive(Clone, Copy, Debug)]
enum OnExit {
    Propagate,
    Return,
    /// Yields -1 (ignoring it); then returns on send, raises what is thrown.
    YieldAgain,
}

#[derive(Clone, Debug)]
struct Node {
    steps: Vec<Step>,
    ret: i64,
    on_err: OnErr,
    on_exit: OnExit,
    /// A stack bigger than a delegator's room forces delegation to a stack of its own.
    big_stack: bool,
}

fn random_tree(rng: &mut Rng) -> Vec<Node> {
    let n = 1 + rng.below(6) as usize;
    (0..n)
        .map(|i| {
            let steps = (0..1 + rng.below(6))
                .map(|_| match rng.below(10) {
                    0..=3 => Step::Yield(rng.below(100) as i64),
                    4..=8 if i + 1 < n => Step::Sub(i + 1 + rng.below((n - i - 1) as u64) as usize),
                    4..=8 => Step::Yield(rng.below(100) as i64),
                    _ => Step::Raise(rng.below(10) as i64),
                })
                .collect();
            Node {
                steps,
                ret: 1000 + i as i64,
                on_err: if rng.below(2) == 0 {
                    OnErr::Catch
                } else {
                    OnErr::Propagate
                },
                on_exit: match rng.below(3) {
                    0 => OnExit::Propagate,
                    1 => OnExit::Return,
                    _ => OnExit::YieldAgain,
                },
                big_stack: rng.below(4) == 0,
            }
        })
        .collect()
}

/// The generator of node `i`, written with the public API the way a user would.
fn build(nodes: Rc<Vec<Node>>, i: usize) -> Generator<i64, (), i64> {
    let size = if nodes[i].big_stack {
        4 * DEFAULT_STACK_SIZE
    } else {
        DEFAULT_STACK_SIZE
    };
    Generator::with_stack_size(size, move |co| {
        let node = nodes[i].clone();
        for step in &node.steps {
            let r = match *step {
                Step::Yield(v) => co.yield_(v),
                Step::Sub(c) => co.yield_from(build(nodes.clone(), c)).map(|_| ()),
                Step::Raise(code) => return Err(Exception::new("R", code.to_string()).into()),
            };
            if let Err(e) = r {
                if e.is::<GeneratorExit>() {
                    return match node.on_exit {
                        OnExit::Propagate => Err(e),
                        OnExit::Return => Ok(node.ret),
                        OnExit::YieldAgain => co.yield_(-1).map(|()| node.ret),
                    };
                }
                if let OnErr::Propagate = node.on_err {
                    return Err(e);
                }
            }
        }
        Ok(node.ret)
    })
}

#[derive(Clone, Debug, PartialEq)]
enum Err {
    Exit,
    Other(String),
}

impl Err {
    fn repr(&self) -> String {
        match self {
            Err::Exit => "GeneratorExit()".into(),
            Err::Other(r) => r.clone(),
        }
    }
}

enum Ev {
    Send,
    Throw(Err),
}

#[derive(Debug, PartialEq)]
enum Out {
    Y(i64),
    R(i64),
    E(String),
}

struct Frame {
    node: usize,
    pc: usize,
    again: bool,
    closing: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum St {
    Unstarted,
    Suspended,
    Finished,
}

/// Python's semantics, interpreted directly (frames in a Vec, PEP 380's close rules).
struct Model {
    nodes: Rc<Vec<Node>>,
    frames: Vec<Frame>,
    st: St,
}

const IGNORED: &str = "RuntimeError('generator ignored GeneratorExit')";

impl Model {
    fn push(&mut self, node: usize) {
        self.frames.push(Frame {
            node,
            pc: 0,
            again: false,
            closing: false,
        });
    }

    fn op(&mut self, op: &Op) -> String {
        let out = match (self.st, op) {
            (St::Finished, Op::Next) => Out::E("StopIteration()".into()),
            (St::Finished, Op::ThrowE(_) | Op::ThrowExit) => Out::E(thrown(op).repr()),
            (St::Finished, Op::Close) => return "OK".into(),
            (St::Unstarted, Op::Next) => {
                self.st = St::Suspended;
                self.push(0);
                self.exec()
            }
            (St::Unstarted, Op::ThrowE(_) | Op::ThrowExit) => {
                self.st = St::Finished;
                Out::E(thrown(op).repr())
            }
            (St::Unstarted, Op::Close) => {
                self.st = St::Finished;
                return "OK".into();
            }
            (St::Suspended, Op::Next) => self.feed(Ev::Send),
            (St::Suspended, Op::ThrowE(_) | Op::ThrowExit) => self.throw(thrown(op)),
            (St::Suspended, Op::Close) => {
                return match self.throw(Err::Exit) {
                    Out::Y(_) => format!("E {IGNORED}"),
                    Out::R(_) => "OK".into(),
                    Out::E(e) if e == "GeneratorExit()" => "OK".into(),
                    Out::E(e) => format!("E {e}"),
                };
            }
        };
        show(&out)
    }

    fn throw(&mut self, e: Err) -> Out {
        if e == Err::Exit {
            // PEP 380: every delegated-to sub is closed on the way out.
            for f in self.frames.iter_mut().skip(1) {
                f.closing = true;
            }
        }
        self.feed(Ev::Throw(e))
    }

    /// The innermost frame gets `ev` where it is paused.
    fn feed(&mut self, ev: Ev) -> Out {
        let top = self.frames.last_mut().unwrap();
        let node = &self.nodes[top.node];
        if top.again {
            return match ev {
                Ev::Send => self.finish(Ok(node.ret)),
                Ev::Throw(e) => self.finish(Result::Err(e)),
            };
        }
        match ev {
            Ev::Send => {
                top.pc += 1;
                self.exec()
            }
            Ev::Throw(Err::Exit) => match node.on_exit {
                OnExit::Propagate => self.finish(Result::Err(Err::Exit)),
                OnExit::Return => self.finish(Ok(node.ret)),
                OnExit::YieldAgain => {
                    top.again = true;
                    self.emit(-1)
                }
            },
            Ev::Throw(e) => match node.on_err {
                OnErr::Catch => {
                    top.pc += 1;
                    self.exec()
                }
                OnErr::Propagate => self.finish(Result::Err(e)),
            },
        }
    }

    fn exec(&mut self) -> Out {
        let top = self.frames.last().unwrap();
        let node = &self.nodes[top.node];
        match node.steps.get(top.pc) {
            None => self.finish(Ok(node.ret)),
            Some(Step::Yield(v)) => self.emit(*v),
            Some(Step::Sub(c)) => {
                self.push(*c);
                self.exec()
            }
            Some(Step::Raise(code)) => self.finish(Result::Err(Err::Other(format!("R('{code}')")))),
        }
    }

    fn emit(&mut self, v: i64) -> Out {
        if let Some(c) = self.frames.iter().rposition(|f| f.closing) {
            // A sub being closed yielded: its close fails in its delegator.
            self.frames.truncate(c);
            return self.feed(Ev::Throw(Err::Other(IGNORED.into())));
        }
        Out::Y(v)
    }

    fn finish(&mut self, r: Result<i64, Err>) -> Out {
        let f = self.frames.pop().unwrap();
        if self.frames.is_empty() {
            self.st = St::Finished;
            return match r {
                Ok(v) => Out::R(v),
                Result::Err(e) => Out::E(e.repr()),
            };
        }
        let r = match r {
            // A value returned while GeneratorExit is in flight is ignored.
            Ok(_) | Result::Err(Err::Exit) if f.closing => Result::Err(Err::Exit),
            r => r,
        };
        match r {
            Ok(_) => self.feed(Ev::Send),
            Result::Err(e) => self.feed(Ev::Throw(e)),
        }
    }
}

fn thrown(op: &Op) -> Err {
    match op {
        Op::ThrowE(n) => Err::Other(format!("E('{n}')")),
        _ => Err::Exit,
    }
}

fn show(out: &Out) -> String {
    match out {
        Out::Y(v) => format!("Y{v}"),
        Out::R(v) => format!("R{v}"),
        Out::E(e) => format!("E {e}"),
    }
}

#[derive(Debug)]
enum Op {
    Next,
    /// throw(E('n'))
    ThrowE(u64),
    ThrowExit,
    Close,
}

fn real(g: &Generator<i64, (), i64>, op: &Op) -> String {
    let r = match op {
        Op::Next => g.next(),
        Op::ThrowExit => g.throw(GeneratorExit.into()),
        Op::ThrowE(n) => g.throw(Exception::new("E", n.to_string()).into()),
        Op::Close => {
            return match g.close() {
                Ok(()) => "OK".into(),
                Result::Err(e) => format!("E {}", py_repr(&e)),
            };
        }
    };
    match r {
        Ok(Yielded(v)) => format!("Y{v}"),
        Ok(Returned(v)) => format!("R{v}"),
        Result::Err(e) => format!("E {}", py_repr(&e)),
    }
}

#[test]
fn random_trees_agree_with_the_model() {
    for seed in 0..2000 {
        let mut rng = Rng::new(seed);
        let nodes = Rc::new(random_tree(&mut rng));
        let g = build(nodes.clone(), 0);
        let mut model = Model {
            nodes: nodes.clone(),
            frames: vec![],
            st: St::Unstarted,
        };
        let mut trace = vec![];
        for _ in 0..rng.below(16) {
            let op = match rng.below(8) {
                0..=3 => Op::Next,
                4 | 5 => Op::ThrowE(rng.below(10)),
                6 => Op::ThrowExit,
                _ => Op::Close,
            };
            let expected = model.op(&op);
            let got = real(&g, &op);
            trace.push(format!("{op:?} -> {got}"));
            assert_eq!(
                got, expected,
                "seed {seed}: tree {nodes:#?}\ntrace {trace:#?}"
            );
            assert_eq!(g.is_finished(), model.st == St::Finished, "seed {seed}");
        }
        drop(g); // closing (or force-unwinding) whatever is left must not crash
    }
}

// ---------------------------------------------------------------------------------------

#[test]
fn stacks_are_reused_once_warm() {
    let run = || {
        let g = Generator::<i32>::new(|co| {
            co.yield_(1)?;
            Ok(())
        });
        assert_eq!(g.next().unwrap(), Yielded(1));
        assert_eq!(g.next().unwrap(), Returned(()));
    };
    run(); // warm: this thread's pool now holds one stack
    let before = stack_pool_stats();
    for _ in 0..200 {
        run();
    }
    // Suspended generators dropped (closed) give their stacks back too.
    for _ in 0..200 {
        let g = Generator::<i32>::new(|co| co.yield_(1));
        g.next().unwrap();
    }
    let after = stack_pool_stats();
    assert_eq!(after.mapped, before.mapped, "no new mapping once warm");
    assert_eq!(after.reused, before.reused + 400);
}

struct CountDrop(Rc<Cell<u32>>);

impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn dropping_suspended_generators_runs_destructors() {
    let drops = Rc::new(Cell::new(0));
    // suspended at a yield
    let d = drops.clone();
    let g = Generator::<i32>::new(move |co| {
        let _guard = CountDrop(d);
        loop {
            co.yield_(1)?;
        }
    });
    g.next().unwrap();
    drop(g);
    assert_eq!(drops.get(), 1);
    // one that ignores GeneratorExit is unwound by force: destructors still run
    let d = drops.clone();
    let g = Generator::<i32>::new(move |co| {
        let _guard = CountDrop(d);
        loop {
            let _ = co.yield_(1);
        }
    });
    g.next().unwrap();
    drop(g);
    assert_eq!(drops.get(), 2);
    // never started: the captured values are dropped, the body never runs
    let guard = CountDrop(drops.clone());
    let g = Generator::<i32>::new(move |_co| {
        let _moved_in = &guard;
        unreachable!()
    });
    drop(g);
    assert_eq!(drops.get(), 3);
    // suspended inside inline yield_from levels: every level's locals drop
    let d = drops.clone();
    let g = Generator::<i32>::new(move |co| {
        let _outer = CountDrop(d.clone());
        co.yield_from(Generator::new(move |co| {
            let _inner = CountDrop(d);
            co.yield_(7)
        }))
    });
    assert_eq!(g.next().unwrap(), Yielded(7));
    drop(g);
    assert_eq!(drops.get(), 5);
}

#[test]
fn twenty_thousand_live_generators() {
    let n = 20_000;
    let gens: Vec<Generator<usize, (), usize>> = (0..n)
        .map(|i| {
            Generator::new(move |co| {
                co.yield_(i)?;
                Ok(i * 2)
            })
        })
        .collect();
    for (i, g) in gens.iter().enumerate() {
        assert_eq!(g.next().unwrap(), Yielded(i));
    }
    for (i, g) in gens.iter().enumerate().rev() {
        assert_eq!(g.next().unwrap(), Returned(i * 2));
    }
    assert!(
        stack_pool_stats().idle <= 1024,
        "the pool keeps a bounded number"
    );
}

#[test]
fn a_panic_becomes_an_error_and_finishes_the_generator() {
    let g = Generator::<i32>::new(|co| {
        co.yield_(1)?;
        panic!("boom");
    });
    g.next().unwrap();
    let e = g.next().unwrap_err();
    assert_eq!(e.find::<Panic>().unwrap().msg, "boom");
    assert!(g.is_finished());
    assert!(g.next().unwrap_err().is::<tulip::StopIteration>());

    // In a sub on its own stack, the delegator sees it at yield_from_ref and goes on.
    let sub = Rc::new(Generator::<i32>::new(|co| {
        co.yield_(1)?;
        panic!("sub boom");
    }));
    sub.next().unwrap(); // started: delegation cannot be inline
    let s = sub.clone();
    let g = Generator::<i32, (), String>::new(move |co| match co.yield_from_ref(&s) {
        Err(e) => Ok(py_repr(&e)),
        Ok(()) => Ok("no error".into()),
    });
    assert_eq!(g.next().unwrap(), Returned("Panic('sub boom')".into()));

    // yield_ while a panic unwinds returns an error instead of suspending.
    struct YieldOnDrop<'a>(&'a Co<i32, ()>, Rc<RefCell<Option<String>>>);
    impl Drop for YieldOnDrop<'_> {
        fn drop(&mut self) {
            let r = self.0.yield_(5);
            *self.1.borrow_mut() = Some(py_repr(&r.unwrap_err()));
        }
    }
    let seen = Rc::new(RefCell::new(None));
    let s = seen.clone();
    let g = Generator::<i32>::new(move |co| {
        let _guard = YieldOnDrop(co, s);
        panic!("unwinding");
    });
    assert!(g.next().unwrap_err().is::<Panic>());
    assert_eq!(
        seen.borrow().as_deref(),
        Some("RuntimeError('cannot yield while a panic is unwinding')")
    );
}

fn relay(inner: Generator<i64, i64, i64>) -> Generator<i64, i64, i64> {
    Generator::new(move |co| co.yield_from(inner).map(|r| r + 1))
}

#[test]
fn a_yield_from_chain_1000_deep() {
    let drops = Rc::new(Cell::new(0));
    let d = drops.clone();
    let mut g = Generator::<i64, i64, i64>::new(move |co| {
        let _guard = CountDrop(d);
        let mut total = 0;
        loop {
            match co.yield_(total) {
                Ok(v) if v < 0 => return Ok(total),
                Ok(v) => total += v,
                Err(e) if e.is::<ValueError>() => total = 0,
                Err(e) => return Err(e),
            }
        }
    });
    for _ in 1..1000 {
        g = relay(g);
    }
    assert_eq!(g.next().unwrap(), Yielded(0));
    assert_eq!(g.send(5).unwrap(), Yielded(5));
    assert_eq!(g.send(6).unwrap(), Yielded(11));
    assert_eq!(
        g.throw(ValueError::new("reset").into()).unwrap(),
        Yielded(0)
    );
    assert_eq!(g.send(3).unwrap(), Yielded(3));
    // the leaf returns 3; each of the 999 relays adds 1
    assert_eq!(g.send(-1).unwrap(), Returned(3 + 999));
    assert_eq!(drops.get(), 1);

    // Closing a suspended 1000-deep chain unwinds every level.
    let d = drops.clone();
    let mut g = Generator::<i64, i64, i64>::new(move |co| {
        let _guard = CountDrop(d);
        loop {
            co.yield_(1)?;
        }
    });
    for _ in 1..1000 {
        g = relay(g);
    }
    g.next().unwrap();
    g.close().unwrap();
    assert_eq!(drops.get(), 2);
}

#[test]
fn resuming_a_running_generator_is_a_value_error() {
    let me: Rc<Generator<i32>> = Rc::new_cyclic(|me: &std::rc::Weak<Generator<i32>>| {
        let me = me.clone();
        Generator::new(move |co| {
            let me = me.upgrade().unwrap();
            assert!(me.is_running());
            let e = me.next().unwrap_err();
            assert_eq!(py_repr(&e), "ValueError('generator already executing')");
            assert_eq!(py_repr(&me.close().unwrap_err()), py_repr(&e));
            assert_eq!(
                py_repr(&me.throw(GeneratorExit.into()).unwrap_err()),
                py_repr(&e)
            );
            drop(me); // a strong `me` kept across the yield would be a cycle (a leak)
            co.yield_(1)
        })
    });
    assert!(!me.is_started());
    assert_eq!(me.next().unwrap(), Yielded(1));
    assert!(me.is_started() && !me.is_running() && !me.is_finished());
}

#[test]
fn send_to_a_just_started_generator() {
    // S = (): every () is None, so send starts it.
    let g = Generator::<i32>::new(|co| co.yield_(1));
    assert_eq!(g.send(()).unwrap(), Yielded(1));
    // Other S: send is Python's send(non-None); next() sends S::default() (None).
    let g = Generator::<i32, Option<i32>, Option<i32>>::new(|co| co.yield_(1));
    let e = g.send(None).unwrap_err();
    assert_eq!(
        py_repr(&e),
        "TypeError(\"can't send non-None value to a just-started generator\")"
    );
    assert!(!g.is_started());
    assert_eq!(g.next().unwrap(), Yielded(1));
    assert_eq!(g.send(Some(4)).unwrap(), Returned(Some(4)));
}

#[test]
fn a_huge_stack_size_is_an_error_not_a_panic() {
    for size in [usize::MAX, usize::MAX / 2, 1 << 60] {
        let g = Generator::<i32>::with_stack_size(size, |co| co.yield_(1));
        let e = g.next().unwrap_err();
        assert!(e.is::<RuntimeError>(), "{e}");
        assert!(!g.is_started(), "the generator stays unstarted");
    }
}

// ---------------------------------------------------------------------------------------
// Child processes: the test binary re-runs itself with TULIP_GEN_CHILD set.

fn run_child(test: &str) -> std::process::Output {
    run_child_env(test, &[])
}

fn run_child_env(test: &str, env: &[(&str, &str)]) -> std::process::Output {
    Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env("TULIP_GEN_CHILD", test)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn is_child(test: &str) -> bool {
    std::env::var("TULIP_GEN_CHILD").is_ok_and(|v| v == test)
}

fn recurse(n: u64) -> u64 {
    let buf = std::hint::black_box([n; 64]);
    if n == 0 { 0 } else { recurse(n - 1) + buf[3] }
}

#[test]
fn child_stack_overflow() {
    if !is_child("child_stack_overflow") {
        return;
    }
    let g = Generator::<u64>::with_stack_size(64 * 1024, |co| {
        let r = recurse(u64::MAX);
        co.yield_(r)
    });
    let _ = g.next();
}

#[test]
fn a_stack_overflow_is_reported_then_aborts() {
    let out = run_child("child_stack_overflow");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{stderr}");
    assert!(
        stderr.contains(
            "tulip: stack overflow in generator `gen_behaviour::child_stack_overflow::{{closure}}` \
             (stack size 69568 bytes = 67 KiB)"
        ),
        "{stderr}"
    );
}

#[test]
fn child_too_many_coroutines() {
    if !is_child("child_too_many_coroutines") {
        return;
    }
    let mut gens = Vec::with_capacity(70_000);
    for _ in 0..70_000 {
        let g = Generator::<i32>::with_stack_size(0, |co| co.yield_(1));
        match g.next() {
            Ok(_) => gens.push(g),
            Err(e) => {
                let live = gens.len();
                drop(gens); // give the mappings back before printing
                println!("live before the error: {live}; error: {}", py_repr(&e));
                return;
            }
        }
    }
    println!("no error after 70000 live coroutines");
}

#[test]
#[cfg_attr(
    feature = "sanitizer",
    ignore = "ASan's own mappings (shadow, a fake stack per coroutine) run out before \
              tulip's: it dies with 'AddressSanitizer: out of memory: Failed to mmap'"
)]
fn too_many_coroutines_is_an_error_naming_max_map_count() {
    // Only the mprotect guard has a mapping ceiling (see tests/task_scale.rs for the rest).
    let out = run_child_env(
        "child_too_many_coroutines",
        &[("TULIP_STACK_GUARD", "mprotect")],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("error: RuntimeError("), "{stdout}");
    assert!(stdout.contains("vm.max_map_count"), "{stdout}");
}
