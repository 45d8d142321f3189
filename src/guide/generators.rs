//! Generators: Python's generators on stackful coroutines.
//!
//! [`Generator<Y, S = (), R = ()>`](crate::Generator) is a Python generator made of a stackful
//! coroutine (corosensei): the body is a closure that receives a [`&Co<Y, S>`](crate::Co)
//! handle, yields `Y` with `co.yield_(v)?`, receives the `S` the caller sends, and returns
//! `Ok(R)` (Python's `StopIteration.value`) or an `Err` (an exception). Any plain function given
//! `&Co` can yield: there is no `async` colouring. `cargo run --example producer_wrapper`:
//!
//! ```python
//! def producer():
//!     yield "Hello"
//!     yield "World!"
//!
//! def wrapper():
//!     print("enter wrapper")
//!     yield from producer()
//!     print("exit wrapper")
//!
//! for item in wrapper():
//!     print(item)
//! ```
//!
//! ```rust
//! use tulip::Generator;
//!
//! fn producer() -> Generator<&'static str> {
//!     Generator::new(|co| {
//!         co.yield_("Hello")?;
//!         co.yield_("World!")?;
//!         Ok(())
//!     })
//! }
//!
//! fn wrapper() -> Generator<&'static str> {
//!     Generator::new(|co| {
//!         println!("enter wrapper");
//!         co.yield_from(producer())?; // yield from producer()
//!         println!("exit wrapper");
//!         Ok(())
//!     })
//! }
//!
//! for item in wrapper() {
//!     println!("{}", item?);
//! }
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! Sending, throwing, closing, and the return value:
//!
//! ```rust
//! use tulip::{Generator, GeneratorExit, GeneratorState, ValueError, ErrorExt};
//!
//! // def averager():
//! //     total, n = 0, 0
//! //     while True:
//! //         try:
//! //             x = yield (total / n if n else None)
//! //         except ValueError:
//! //             return total
//! //         total += x; n += 1
//! let g: Generator<Option<f64>, f64, f64> = Generator::new(|co| {
//!     let (mut total, mut n) = (0.0, 0);
//!     loop {
//!         let avg = if n > 0 { Some(total / n as f64) } else { None };
//!         match co.yield_(avg) {
//!             Ok(x) => {
//!                 total += x;
//!                 n += 1;
//!             }
//!             Err(e) if e.isinstance::<ValueError>() => return Ok(total),
//!             Err(e) => return Err(e), // GeneratorExit from close(), or anything else
//!         }
//!     }
//! });
//! assert!(matches!(g.next()?, GeneratorState::Yielded(None))); // next(g)
//! assert!(matches!(g.send(10.0)?, GeneratorState::Yielded(Some(a)) if a == 10.0));
//! assert!(matches!(g.send(20.0)?, GeneratorState::Yielded(Some(a)) if a == 15.0));
//! let state = g.throw(ValueError::new("done").into())?; // g.throw(ValueError("done"))
//! assert_eq!(state.as_returned(), Some(30.0)); // StopIteration.value
//! assert!(g.is_finished());
//!
//! // close() delivers GeneratorExit at the suspended yield_
//! let h: Generator<i32> = Generator::new(|co| {
//!     match co.yield_(1) {
//!         Err(e) if e.isinstance::<GeneratorExit>() => println!("closing"),
//!         other => other?,
//!     }
//!     Ok(())
//! });
//! h.next()?;
//! h.close()?;
//! assert!(h.is_finished());
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! | Python | tulip | notes |
//! |---|---|---|
//! | `next(g)` / `g.send(None)` | `g.next()` | sends `S::default()`; returns `Ok(Yielded(y))` or, once, `Ok(Returned(r))` |
//! | `g.send(v)` | `g.send(v)` | on a generator that has not started: allowed only when `S = ()` (every `()` is None), else `TypeError("can't send non-None value to a just-started generator")` |
//! | `g.throw(e)` | `g.throw(err)` | the body sees `Err(err)` from its `yield_`; unstarted or finished: `err` comes back and the generator is finished |
//! | `g.close()` | `g.close()` | delivers `GeneratorExit`; a body that yields again: `RuntimeError("generator ignored GeneratorExit")` |
//! | `yield from sub` | `co.yield_from(sub)?` | PEP 380: send/throw/close forwarded, value = sub's return value, any depth; `co.yield_from_ref(&shared)` delegates to a generator shared through `Rc` |
//! | `yield from [1, 2]` (any iterator, not a generator) | `co.yield_from_iter(vec![1, 2])?` | next only: a sent non-None value (not `S::default()`) is `AttributeError("'list_iterator' object has no attribute 'send'")` raised in the delegator; throw and close are raised in the delegator, not forwarded |
//! | a coroutine object (`async def`'s result) | [`Coroutine<T>`](crate::Coroutine), awaited with `co.await_(c)` / `co.await_ref(&c)` | a generator whose errors say "coroutine" (`coroutine already executing`, `coroutine ignored GeneratorExit`, `coroutine raised StopIteration`); resumed once finished: `RuntimeError("cannot reuse already awaited coroutine")` |
//! | `for x in g` | `for x in g` / `g.iter()` | items are `anyhow::Result<Y>` (for `S = ()`); ends at return or after the one error |
//! | `gi_running` and friends | `is_running()`, `is_started()`, `is_finished()` | |
//! | StopIteration after the end | `Err(StopIteration)` | a body's own `Err(StopIteration)` becomes `RuntimeError("generator raised StopIteration")` (PEP 479) |
//! | re-entry | `Err(ValueError("generator already executing"))` | also for every delegator up a `yield_from` chain |
//! | collection of a suspended generator | `drop(g)` | closes it (the body's destructors run); one that ignores GeneratorExit is unwound by force |
//!
//! **Panics** inside a body are caught where the generator is resumed: the resume returns
//! `Err(tulip::Panic)` and the generator is finished (its locals were dropped by the unwinding);
//! a delegator sees the same error at its `yield_from`. The process never aborts because of a
//! panic in a generator. While a panic unwinds, `yield_` returns an error instead of suspending.
//!
//! **Stacks**: a generator takes a stack from a per-thread pool at its first resume (a fresh
//! `mmap` costs ~7–15 µs, a pooled one a few ns) and gives it back when it finishes; up to 1024
//! idle stacks are kept per thread ([`stack_pool_stats`](crate::generator::stack_pool_stats)
//! counts hits and misses). The default size, 256 KiB
//! ([`DEFAULT_STACK_SIZE`](crate::generator::DEFAULT_STACK_SIZE)), is address space: only
//! touched pages cost memory (a panic with `RUST_BACKTRACE=1` needs under 24 KiB even in a debug
//! build). `Generator::with_stack_size(bytes, body)` asks for more. `yield_from` of a generator
//! that has not started runs its body inline on the delegator's stack (no stack, no switch: a
//! resume through 10 levels costs one switch) while at least half of the sub's stack size is
//! left there; otherwise the sub gets a stack of its own and a loop forwards to it.
//!
//! **Limits**: a stack overflow prints which generator overflowed (its body's type name) and its
//! stack size, then aborts (a SIGSEGV handler on an alternate signal stack checks the guard
//! pages of pooled stacks). Each live coroutine stack takes 2 memory mappings, so Linux's default
//! `vm.max_map_count` (65530) allows about 32,700 live started generators: past that the resume
//! returns `RuntimeError("cannot map a … coroutine stack … vm.max_map_count …")`, never a crash.
//! A stack size the machine cannot map is the same kind of error. Generators are `!Send`.
//!
//! # Async generators
//!
//! [`AsyncGenerator<Y, S = ()>`](crate::AsyncGenerator) is PEP 525's `async def` with
//! `yield`: its body receives an [`AsyncCo`](crate::AsyncCo), which yields values to the
//! consumer with `co.yield_(v)?` and derefs to the task handle, so `sleep(co, ..)`,
//! `co.wait(&fut)`, locks, queues and streams work in it. The consumer drives it from its own
//! task: what the body waits for, the consumer's task waits for, and cancelling that task
//! raises `CancelledError` where the body waits. `cargo run --example async_ticker` (twin:
//! `tests/python/async_ticker.py`):
//!
//! ```rust
//! use std::time::Duration;
//!
//! use tulip::{AsyncGenerator, sleep};
//!
//! fn numbers(n: u64) -> AsyncGenerator<u64> {
//!     AsyncGenerator::new(move |co| {
//!         for i in 0..n {
//!             sleep(co, Duration::ZERO)?; // await asyncio.sleep(0)
//!             co.yield_(i)?; // yield i
//!         }
//!         Ok(())
//!     })
//! }
//!
//! fn squares(source: AsyncGenerator<u64>) -> AsyncGenerator<u64> {
//!     AsyncGenerator::new(move |co| {
//!         while let Some(x) = source.try_next(co)? {
//!             // async for x in source
//!             co.yield_(x * x)?;
//!         }
//!         Ok(())
//!     })
//! }
//!
//! let all = tulip::run(|co| {
//!     let mut all = Vec::new();
//!     let sq = squares(numbers(4));
//!     while let Some(x) = sq.try_next(co)? {
//!         all.push(x);
//!     }
//!     Ok(all)
//! })?;
//! assert_eq!(all, [0, 1, 4, 9]);
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! | Python | tulip | notes |
//! |---|---|---|
//! | `async for x in agen:` | `while let Some(x) = agen.try_next(co)? { .. }` | `Ok(None)` is the `StopAsyncIteration` that ends the loop |
//! | `await anext(agen)` | `agen.anext(co)?` | `Err(StopAsyncIteration)` at the end |
//! | `await agen.asend(v)` | `agen.asend(co, v)?` | `v` is what the body's `co.yield_` returns; before the first `anext`, a non-None `v` is `TypeError("can't send non-None value to a just-started async generator")` |
//! | `await agen.athrow(e)` | `agen.athrow(co, e)?` | `Ok(Some(v))` for the next value; `Ok(None)` on a finished one (Python 3.11 returns None); `StopAsyncIteration` if the body returns |
//! | `await agen.aclose()` | `agen.aclose(co)?` | `GeneratorExit` at the body's `yield_`; its clean-up may wait; yielding instead is `RuntimeError("async generator ignored GeneratorExit")` |
//! | a call while another is in progress | `RuntimeError("anext(): asynchronous generator is already running")` | `athrow():` and `aclose():` for those two, as in CPython |
//! | `raise StopAsyncIteration` / `StopIteration` in the body | `RuntimeError("async generator raised StopAsyncIteration")` / `("... StopIteration")` | PEP 479 |
//! | `loop.shutdown_asyncgens()` | `lp.shutdown_asyncgens(co)?` | `tulip::run` calls it after cancelling the tasks left: each started, unfinished async generator is closed in a task of its own, in the order they started (asyncio's `WeakSet` has no defined order); an error goes to the exception handler |
//!
//! An async generator dropped unfinished (its last handle gone) is closed at once, without
//! a loop: its body sees `GeneratorExit` where it is suspended, and a wait in its clean-up
//! fails. asyncio's finalizer hook instead schedules `aclose()` as a task, so that clean-up
//! may wait; keep a handle (or call `aclose`) where the clean-up must wait. The loop's
//! `sys.set_asyncgen_hooks` (firstiter/finalizer) are not offered.
//!
//! On the stackless backend (below), `tulip::stackless::AsyncGenerator` is the same async
//! generator with a nightly coroutine for its body: `new` hands the body its handle `co`,
//! `ayield!(co, v)` is `yield v`, and the body awaits as a stackless task body does
//! (`await_!`, `yield_now!`, `yield_from!(sleep(..))`, `yield_from!` of a coroutine). A stackless body awaits the calls with `yield_from!`:
//! `yield_from!(agen.anext())?`, `while let Some(x) = yield_from!(agen.try_next())? { .. }`,
//! `asend(v)`, `athrow(e)`, `aclose()`. The checks, errors, cancellation and shutdown are the
//! stackful one's own code (the three parity cases of both are one file,
//! `tests/task_agen/cases.rs`); an awaitable awaited twice is `RuntimeError("cannot reuse
//! already awaited __anext__()/asend()")` as in CPython.
//!
//! ```rust,ignore
//! #![feature(coroutines)]
//! use std::time::Duration;
//!
//! use tulip::stackless::{AsyncGenerator, sleep};
//! use tulip::{ayield, yield_from};
//!
//! fn numbers(n: u64) -> AsyncGenerator<u64> {
//!     AsyncGenerator::new(move |co| #[coroutine] static move |_| {
//!         for i in 0..n {
//!             yield_from!(sleep(Duration::ZERO))?; // await asyncio.sleep(0)
//!             ayield!(co, i)?; // yield i
//!         }
//!         Ok(())
//!     })
//! }
//!
//! fn squares(source: AsyncGenerator<u64>) -> AsyncGenerator<u64> {
//!     AsyncGenerator::new(move |co| #[coroutine] static move |_| {
//!         while let Some(x) = yield_from!(source.try_next())? {
//!             ayield!(co, x * x)?;
//!         }
//!         Ok(())
//!     })
//! }
//! ```
//!
//! # The stackless backend (nightly)
//!
//! With the toolchain's nightly and tulip's `nightly` feature (`cargo +nightly build
//! --features nightly`; the stable build does not change), `tulip::stackless::Generator` is
//! the same Python generator made of a Rust nightly coroutine instead of a stack: a state
//! machine of a few dozen bytes holding only the locals live across a yield. The body is a
//! `#[coroutine] static |_| { ... }` closure (its crate needs `#![feature(coroutines)]`);
//! `yield_!(v)` is `yield v` and `yield_from!(sub)` is `yield from sub`. The methods and
//! every error above are the same (the parity cases of both backends are one file,
//! `tests/gen_cases/cases.rs`); `cargo +nightly run --example producer_wrapper_stackless
//! --features nightly` prints what `producer_wrapper` prints.
//!
//! ```rust,ignore
//! #![feature(coroutines)]
//! use tulip::stackless::Generator;
//! use tulip::{yield_, yield_from};
//!
//! fn producer() -> Generator<&'static str> {
//!     Generator::new(#[coroutine] static |_| {
//!         yield_!("Hello")?;
//!         yield_!("World!")?;
//!         Ok(())
//!     })
//! }
//!
//! fn wrapper() -> Generator<&'static str> {
//!     Generator::new(#[coroutine] static |_| {
//!         println!("enter wrapper");
//!         yield_from!(producer())?; // yield from producer()
//!         println!("exit wrapper");
//!         Ok(())
//!     })
//! }
//! ```
//!
//! | | stackful `Generator` | stackless `stackless::Generator` |
//! |---|---|---|
//! | toolchain | stable | nightly, feature `nightly` |
//! | body | closure taking `&Co` | `#[coroutine] static \|_\| { ... }` |
//! | `yield v` | `co.yield_(v)` | `yield_!(v)` |
//! | who can yield | any function given `co`, at any depth (no colouring) | the body itself only: a helper that yields is a sub-generator, delegated to with `yield_from!` (Python's model) |
//! | `yield from sub` | `co.yield_from(sub)`, `co.yield_from_ref(&sub)` | `yield_from!(sub)` for an owned, `&` or `Rc` sub, stackless **or stackful** |
//! | `yield from [1, 2]` (an iterator) | `co.yield_from_iter(vec![1, 2])` | `yield_from!(stackless::from_iter(vec![1, 2]))`, with the same errors |
//! | a coroutine object | [`Coroutine<T>`](crate::Coroutine) | `stackless::Coroutine<T>` (`Coroutine::new(#[coroutine] static \|_\| ...)`), awaited with `yield_from!(c)` or `yield_from!(&c)`, with the same "coroutine" errors; a stackless task's body is one |
//! | memory while suspended | a stack: one resident page or more | the state machine: tens of bytes |
//! | a resume through N `yield from` levels | one stack switch | N nested calls (as CPython) |
//! | dropping a generator that ignores GeneratorExit | its stack is unwound by force | its state machine is dropped (its live locals' destructors run) |
//!
//! **How deep a stackless chain goes**: a resume of the outermost generator (`send`, `throw`
//! and `close` alike) nests one native call per `yield_from!` level, so the resumer's stack
//! bounds the depth. Measured per level (x86-64, nightly rustc 1.95; a test,
//! `a_level_of_a_chain_uses_a_bounded_stack_for_send_throw_and_close` in
//! tests/gen_yieldfrom_stackless.rs, keeps it so), for the costlier of send, throw and close:
//! a body that only delegates (`static move |_| yield_from!(inner)`) takes 1,263 bytes in a
//! debug build and 207 in a release build (a send alone, 143); one that also formats and logs
//! what its sub raised, 1,659 and 302 (a send alone, 238). That makes, from the logging body
//! to the bare one:
//!
//! | stack | debug build | release build |
//! |---|---|---|
//! | 2 MiB (a test thread, a spawned thread's default) | 1,250 to 1,650 levels | 6,900 to 10,000 levels |
//! | 8 MiB (a main thread's usual default) | 5,000 to 6,600 levels | 27,000 to 40,000 levels |
//!
//! The tests run 1,000 levels on a debug build's test thread and 10,000 on an 8 MiB thread in
//! release. A deeper chain needs a thread with a bigger stack
//! (`std::thread::Builder::stack_size`); on the stackful backend a resume reaches the
//! innermost generator in one switch, whatever the depth.
//!
//! Delegating from a stackless body to a stackful generator (`yield_from!(tulip::Generator::new(|co| ...))`)
//! is how a stackless coroutine calls code written against `Co`: the stackful sub takes a
//! pooled stack while it runs. Tasks take either kind of body: see
//! [the tasks page](super::tasks#stackless-task-bodies-nightly).
