//! The stackless backend (feature `nightly`, built with `cargo +nightly ... --features
//! nightly`): Python generators and asyncio tasks on Rust's nightly coroutines.
//!
//! A stackless coroutine is a state machine holding only the locals live across a yield (a
//! few dozen bytes) instead of a stack. It is Python's own model: a yield can appear only
//! in the body itself, and delegation is explicit, [`yield_from!`](crate::yield_from) at
//! every level. The crate that writes the bodies needs `#![feature(coroutines)]`.
//!
//! | Python | stackful (stable) | stackless (nightly) |
//! |---|---|---|
//! | `def g(): ...` | `Generator::new(\|co\| { ... })` | `stackless::Generator::new(#[coroutine] static \|_\| { ... })` |
//! | `x = yield v` | `let x = co.yield_(v)?;` | `let x = yield_!(v)?;` |
//! | `r = yield from sub()` | `let r = co.yield_from(sub())?;` | `let r = yield_from!(sub())?;` |
//! | `yield from [1, 2]` | `co.yield_from_iter(vec![1, 2])?;` | `yield_from!(from_iter(vec![1, 2]))?;` |
//! | `asyncio.create_task(main())` | `lp.create_task(\|co\| ...)` | `lp.create_task_stackless(#[coroutine] static \|_\| ...)` |
//! | `r = await fut` | `let r = co.wait(&fut)?;` | `let r = await_!(fut)?;` |
//! | `await asyncio.sleep(0)` | `co.yield_now()?` | `yield_now!()?` |
//! | `await asyncio.sleep(d)` | `sleep(co, d)?` | `yield_from!(stackless::sleep(d))?` |
//! | `await lock.acquire()` | `lock.acquire(co)?` | `yield_from!(lock.acquire_stackless())?` |
//! | `async with lock: ...` | `lock.with(co, \|co\| ...)?` | `yield_from!(lock.acquire_stackless())?;` the body, then `lock.release()?` on every way out |
//! | `await ev.wait()` | `ev.wait(co)?` | `yield_from!(ev.wait_stackless())?` |
//! | `await cond.wait()` | `cond.wait(co)?` | `yield_from!(cond.wait_stackless())?` |
//! | `await sem.acquire()` | `sem.acquire(co)?` | `yield_from!(sem.acquire_stackless())?` |
//! | `await barrier.wait()` | `barrier.wait(co)?` | `yield_from!(barrier.wait_stackless())?` |
//! | `item = await q.get()` | `let item = q.get(co)?;` | `let item = yield_from!(q.get_stackless())?;` |
//! | `await q.put(item)` | `q.put(co, item)?` | `yield_from!(q.put_stackless(item))?` |
//! | `line = await reader.readline()` | `let line = reader.readline(co)?;` | `let line = yield_from!(reader.readline_stackless())?;` |
//! | `await reader.read(n)`, `readexactly(n)`, `readuntil(sep)` | `reader.read(co, n)?`, ... | `yield_from!(reader.read_stackless(n))?`, `readexactly_stackless(n)`, `readuntil_stackless(sep)` |
//! | `await loop.sock_recv(sock, n)` | `sock_recv(co, &sock, n)?` | `yield_from!(stackless::sock_recv(&sock, n))?` |
//! | `await loop.sock_sendall(sock, data)`, `sock_connect`, `sock_accept`, ... | `sock_sendall(co, &sock, data)?`, ... | `yield_from!(stackless::sock_sendall(&sock, data))?`, `sock_connect(addr)`, `sock_accept(&listener)`, ... |
//! | `await writer.drain()` | `writer.drain(co)?` | `yield_from!(writer.drain_stackless())?` |
//! | `await writer.wait_closed()` | `writer.wait_closed(co)?` | `yield_from!(writer.wait_closed_stackless())?` |
//! | `await asyncio.wait_for(t, d)` | `wait_for(co, &t, Some(d))?` | `yield_from!(stackless::wait_for(&t, Some(d)))?` |
//! | `async with asyncio.timeout(d): ...` | `timeout(co, Some(d), \|co, cm\| ...)?` | `yield_from!(stackless::timeout(Some(d), #[coroutine] static move \|_\| ...))?` |
//! | `async with cm: ...` | `cm.run(co, \|co, cm\| ...)?` | `yield_from!(cm.run_stackless(#[coroutine] static move \|_\| ...))?` |
//! | `await asyncio.wait(ts, return_when=w)` | `wait(co, &ts, None, w)?` | `yield_from!(stackless::wait(&ts, None, w))?` |
//! | `r = await next` (of `as_completed`) | `next.wait(co)?` | `yield_from!(next.wait_stackless())?` |
//! | `async with asyncio.TaskGroup() as tg: ...` | `task_group(co, \|co, tg\| ...)?` | `yield_from!(stackless::task_group(\|tg\| #[coroutine] static move \|_\| ...))?` |
//! | `asyncio.run(main())` | `tulip::run(\|co\| ...)` | `stackless::run(#[coroutine] static \|_\| ...)` |
//! | `async def agen(): ... yield v` | `AsyncGenerator::new(\|co\| { co.yield_(v)?; ... })` | `stackless::AsyncGenerator::new(\|co\| #[coroutine] static move \|_\| { ayield!(co, v)?; ... })` |
//! | `await anext(agen)`, `async for x in agen` | `agen.anext(co)?`, `agen.try_next(co)?` | `yield_from!(agen.anext())?`, `yield_from!(agen.try_next())?` |
//!
//! Generators have the stackful ones' methods and errors ([`Generator`]); tasks are the
//! same [`Task`](crate::Task) type, stepped by the same code, with the same ordering (a
//! future done in iteration k wakes its task in k+1; a bare yield is one iteration) and
//! cancellation (a `CancelledError` out of the `await_!` the task waits at). Async
//! generators ([`AsyncGenerator`]) have the stackful ones' checks, errors and `run`'s
//! `shutdown_asyncgens`; their bodies await as task bodies do.
//!
//! The synchronization primitives wait natively, holding no stack: every waiting method has
//! a `_stackless` form ([`Lock::acquire_stackless`](crate::Lock::acquire_stackless),
//! [`Queue::get_stackless`](crate::Queue::get_stackless), ...) that returns a small state
//! machine ([`LockAcquire`], [`QueueGet`], ...) for `yield_from!`, running the stackful
//! method's own code. So do `wait_for`, `timeout`, `wait`, `as_completed`'s waits and
//! `TaskGroup` ([`wait_for`], [`wait_for_coro`], [`timeout`], [`timeout_at`],
//! [`Timeout::run_stackless`](crate::Timeout::run_stackless), [`wait`],
//! [`NextDone::wait_stackless`](crate::NextDone::wait_stackless), [`task_group`],
//! [`TaskGroup::run_stackless`](crate::TaskGroup::run_stackless)): the stackful forms' code
//! cut at its waits, so the same semantics. So do the stream waits
//! ([`StreamReader::read_stackless`](crate::StreamReader::read_stackless),
//! [`readline_stackless`](crate::StreamReader::readline_stackless), ...,
//! [`StreamWriter::drain_stackless`](crate::StreamWriter::drain_stackless),
//! [`wait_closed_stackless`](crate::StreamWriter::wait_closed_stackless)), and the loop's
//! socket waits ([`sock_recv`], [`sock_recv_into`], [`sock_recvfrom`],
//! [`sock_recvfrom_into`], [`sock_sendall`],
//! [`sock_sendto`], [`sock_connect`], [`sock_accept`]). Any other stackful
//! helper (`open_connection`, `start_server`, `lock.with`) is reached through [`stackful`]: a
//! stackful coroutine delegated to, which holds a pooled stack only while it runs.
//!
//! ```
//! #![feature(coroutines)]
//! # fn main() -> anyhow::Result<()> {
//! use std::time::Duration;
//!
//! use tulip::stackless::{self, sleep};
//! use tulip::{await_, get_running_loop, yield_from};
//!
//! // asyncio.run(main())
//! let answer = stackless::run(
//!     #[coroutine]
//!     static |_| {
//!         let lp = get_running_loop()?;
//!         let task = lp.create_task_stackless(
//!             #[coroutine]
//!             static |_| {
//!                 yield_from!(sleep(Duration::from_millis(10)))?; // await asyncio.sleep(0.01)
//!                 Ok(21)
//!             },
//!         )?;
//!         let value = await_!(task)?; // await task
//!         Ok(value * 2)
//!     },
//! )?;
//! assert_eq!(answer, 42);
//! # Ok(()) }
//! ```

pub use crate::generator::stackless::{
    Delegate, FromIter, Generator, IntoIter, Iter, Sent, from_iter,
};
pub use crate::helpers::asyncgen_stackless::{AsyncCo, AsyncGenOp, AsyncGenerator};
pub use crate::helpers::stackless::{
    NextDoneWait, TaskGroupScope, TimeoutScope, Wait, WaitFor, WaitForCoro, task_group, timeout,
    timeout_at, wait, wait_for, wait_for_coro,
};
#[doc(inline)]
pub use crate::net::reader::{
    StreamRead, StreamReadAll, StreamReadExactly, StreamReadLine, StreamReadUntil,
};
#[doc(inline)]
pub use crate::net::sockets::stackless::{
    SockAccept, SockConnect, SockRecv, SockRecvInto, SockRecvfrom, SockRecvfromInto, SockSendall,
    SockSendto, sock_accept, sock_connect, sock_recv, sock_recv_into, sock_recvfrom,
    sock_recvfrom_into, sock_sendall, sock_sendto,
};
#[doc(inline)]
pub use crate::net::writer::{StreamDrain, StreamWaitClosed};
#[doc(inline)]
pub use crate::sync::queues::{QueueGet, QueuePut};
pub use crate::sync::stackless::{
    BarrierUpdate, BarrierWait, ConditionWait, ConditionWaitFor, EventWait, LockAcquire, QueueJoin,
    SemaphoreAcquire,
};
#[doc(hidden)]
pub use crate::tasks::stackless::AwaitStep;
pub use crate::tasks::stackless::{Sleep, StacklessCoroutine as Coroutine, run, sleep, stackful};
