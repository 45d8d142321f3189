// The task backend of the shared parity cases: stackful bodies (a closure taking `co`).
// tests/backend/stackless.rs defines the same names for stackless bodies, so that a case
// file written with them runs on both (tests/README.md).

/// A task body, as a helper returns it (`async def nap(): ...` called without `await`).
pub trait Body<T>: FnOnce(&tulip::TaskCo) -> anyhow::Result<T> + 'static {}
impl<T, F: FnOnce(&tulip::TaskCo) -> anyhow::Result<T> + 'static> Body<T> for F {}

/// `async def`: a task body.
#[allow(unused_macros)]
macro_rules! body {
    ($(move)? |$co:ident| -> $ret:ty $body:block) => {
        move |$co: &tulip::TaskCo| -> $ret { $body }
    };
    ($(move)? |$co:ident| $body:expr) => {
        move |$co: &tulip::TaskCo| $body
    };
}

/// `lp.create_task(body)`, for a body written here or returned by a helper.
#[allow(unused_macros)]
macro_rules! spawn {
    ($lp:expr, $(move)? |$co:ident| -> $ret:ty $body:block) => {
        $lp.create_task(move |$co: &tulip::TaskCo| -> $ret { $body })
    };
    ($lp:expr, $(move)? |$co:ident| $body:expr) => {
        $lp.create_task(move |$co: &tulip::TaskCo| $body)
    };
    ($lp:expr, $body:expr) => {
        $lp.create_task($body)
    };
}

/// The test pattern `loop.run_until_complete(main())` on a new loop, closed after.
#[allow(unused_macros)]
macro_rules! run_main {
    ($(move)? |$co:ident| -> $ret:ty $body:block) => {
        common::run_main(move |$co: &tulip::TaskCo| -> $ret { $body })
    };
    ($(move)? |$co:ident| $body:expr) => {
        common::run_main(move |$co: &tulip::TaskCo| $body)
    };
}

/// `asyncio.run(main())`.
#[allow(unused_macros)]
macro_rules! run {
    ($(move)? |$co:ident| -> $ret:ty $body:block) => {
        tulip::run(move |$co: &tulip::TaskCo| -> $ret { $body })
    };
    ($(move)? |$co:ident| $body:expr) => {
        tulip::run(move |$co: &tulip::TaskCo| $body)
    };
}

/// `await aw`.
#[allow(unused_macros)]
macro_rules! wait {
    ($co:ident, $aw:expr) => {
        $co.wait(&$aw)
    };
}

/// `await asyncio.sleep(d)`.
#[allow(unused_macros)]
macro_rules! sleep {
    ($co:ident, $d:expr) => {
        tulip::sleep($co, $d)
    };
}

/// A bare `yield` (one loop iteration).
#[allow(unused_macros)]
macro_rules! bare_yield {
    ($co:ident) => {
        $co.yield_now()
    };
}

/// A call to a helper that takes `co` (`wait(co, ...)`, `lock.acquire(co)`): made here as
/// it is; the stackless backend delegates it to a stackful coroutine, moving in clones of
/// the `[names]` it uses.
#[allow(unused_macros)]
macro_rules! call_co {
    ($co:ident, [$($name:ident),*], $call:expr) => {
        $call
    };
}

/// `await x.method(args)` of a sync primitive or queue (`lock.acquire()`, `ev.wait()`,
/// `cond.wait_for(pred)`, `q.put(item)`, `barrier.reset()`, ...): `x.method(co, args)`; the
/// stackless backend makes it the native `x.method_stackless(args)`.
#[allow(unused_macros)]
macro_rules! sync {
    ($co:ident, $x:ident . $method:ident ($($arg:expr),*)) => {
        $x.$method($co, $($arg),*)
    };
}

/// `async with x: body` of a lock, condition or semaphore: `x.with(co, |co| body)`, `body`
/// evaluating to a `Result`.
#[allow(unused_macros)]
macro_rules! with {
    ($co:ident, $x:ident, $body:block) => {
        $x.with($co, |$co| {
            let _ = $co; // a body need not wait
            $body
        })
    };
}

/// `tg.create_task(body)`.
#[allow(unused_macros)]
macro_rules! group_spawn {
    ($g:expr, $(move)? |$co:ident| -> $ret:ty $body:block) => {
        $g.create_task(move |$co: &tulip::TaskCo| -> $ret { $body })
    };
    ($g:expr, $(move)? |$co:ident| $body:expr) => {
        $g.create_task(move |$co: &tulip::TaskCo| $body)
    };
    ($g:expr, $body:expr) => {
        $g.create_task($body)
    };
}

/// `await sub()` of a helper returning a [`Body`]: called with this task's `co`.
#[allow(unused_macros)]
macro_rules! await_sub {
    ($co:ident, $sub:expr) => {
        ($sub)($co)
    };
}

/// `lp.create_task(body, context=ctx)`.
#[allow(unused_macros)]
macro_rules! spawn_in {
    ($lp:expr, $ctx:expr, $(move)? |$co:ident| -> $ret:ty $body:block) => {
        $lp.create_task_in($ctx, move |$co: &tulip::TaskCo| -> $ret { $body })
    };
    ($lp:expr, $ctx:expr, $body:expr) => {
        $lp.create_task_in($ctx, $body)
    };
}

/// `sub()` for an `async def sub()`: a coroutine object (`tulip::Coroutine`).
#[allow(unused_macros)]
macro_rules! coroutine {
    ($(move)? |$co:ident| -> $ret:ty $body:block) => {
        tulip::Coroutine::new(move |$co: &tulip::TaskCo| -> $ret { $body })
    };
    ($(move)? |$co:ident| $body:expr) => {
        tulip::Coroutine::new(move |$co: &tulip::TaskCo| $body)
    };
}

/// `await coro` of a coroutine object this task owns (`await sub()`).
#[allow(unused_macros)]
macro_rules! await_coro {
    ($co:ident, $coro:expr) => {
        $co.await_($coro)
    };
}

/// `await c` of a coroutine object shared by reference (`c = sub(); await c`).
#[allow(unused_macros)]
macro_rules! await_ref {
    ($co:ident, $coro:expr) => {
        $co.await_ref($coro)
    };
}

/// `async def` with `yield`: a `tulip::AsyncGenerator` whose body yields with `ayield!`.
#[allow(unused_macros)]
macro_rules! agen {
    ($(move)? |$co:ident| $body:block) => {
        tulip::AsyncGenerator::new(move |$co| $body)
    };
}

/// `yield v` in an async generator's body.
#[allow(unused_macros)]
macro_rules! ayield {
    ($co:ident, $v:expr) => {
        $co.yield_($v)
    };
}

/// `await anext(g)`.
#[allow(unused_macros)]
macro_rules! anext {
    ($co:ident, $g:expr) => {
        $g.anext($co)
    };
}

/// `await g.asend(v)`.
#[allow(unused_macros)]
macro_rules! asend {
    ($co:ident, $g:expr, $v:expr) => {
        $g.asend($co, $v)
    };
}

/// `await g.athrow(e)`.
#[allow(unused_macros)]
macro_rules! athrow {
    ($co:ident, $g:expr, $e:expr) => {
        $g.athrow($co, $e)
    };
}

/// `await g.aclose()`.
#[allow(unused_macros)]
macro_rules! aclose {
    ($co:ident, $g:expr) => {
        $g.aclose($co)
    };
}

/// One step of `async for x in g`: `None` at the end.
#[allow(unused_macros)]
macro_rules! try_next {
    ($co:ident, $g:expr) => {
        $g.try_next($co)
    };
}

/// `await asyncio.wait_for(aw, t)`.
#[allow(unused_macros)]
macro_rules! wait_for {
    ($co:ident, $aw:expr, $t:expr $(,)?) => {
        tulip::wait_for($co, &$aw, $t)
    };
}

/// `await asyncio.wait(children, timeout=t, return_when=when)`.
#[allow(unused_macros)]
macro_rules! asyncio_wait {
    ($co:ident, $children:expr, $t:expr, $when:expr $(,)?) => {
        tulip::wait($co, $children, $t, $when)
    };
}

/// `await next` of an `as_completed` wait.
#[allow(unused_macros)]
macro_rules! next_done {
    ($co:ident, $next:expr) => {
        $next.wait($co)
    };
}

/// `async with asyncio.timeout(d) as cm: body`: `body` a closure taking `co` and `cm`,
/// evaluating to a `Result`; the `[names]` it uses are moved in as clones on the stackless
/// backend (borrowed here).
#[allow(unused_macros)]
macro_rules! timeout_scope {
    ($co:ident, $d:expr, [$($name:ident),*], |$c:tt, $cm:tt| $body:expr $(,)?) => {
        tulip::timeout($co, $d, |$c, $cm| $body)
    };
}

/// `async with cm: body` of a `Timeout` or `TaskGroup` made before: as `timeout_scope!`,
/// the closure taking `co` and `cm`.
#[allow(unused_macros)]
macro_rules! scope {
    ($co:ident, $scope:ident, [$($name:ident),*], |$c:tt, $cm:tt| $body:expr $(,)?) => {
        $scope.run($co, |$c, $cm| $body)
    };
}

/// `async with asyncio.TaskGroup() as tg: body`: as `timeout_scope!`, the closure taking
/// `co` and `tg`.
#[allow(unused_macros)]
macro_rules! group {
    ($co:ident, [$($name:ident),*], |$c:tt, $tg:tt| $body:expr $(,)?) => {
        tulip::task_group($co, |$c, $tg| $body)
    };
}

/// `await asyncio.wait_for(coro(), t)`: `body` a closure taking `co`, moved into the task
/// `wait_for` may make (the `[names]` are cloned into it on the stackless backend).
#[allow(unused_macros)]
macro_rules! wait_for_coro {
    ($co:ident, $t:expr, [$($name:ident),*], |$c:tt| $body:expr $(,)?) => {
        tulip::wait_for_fn($co, $t, move |$c| $body)
    };
}

/// A generator whose body awaits (`enter.next()` steps it outside any task).
#[allow(unused_macros)]
macro_rules! awaiting_generator {
    (|$co:ident| $body:expr) => {
        tulip::Generator::new(move |$co: &tulip::TaskCo| $body)
    };
}
