// The task backend of the shared parity cases: stackless bodies (nightly coroutines). The
// names are tests/backend/stackful.rs's; the including crate enables
// `#![feature(coroutines, coroutine_trait)]` (and `stmt_expr_attributes` for `body!` in a `let`).

/// A task body, as a helper returns it (`async def nap(): ...` called without `await`).
pub trait Body<T>:
    std::ops::Coroutine<
        tulip::stackless::Sent<()>,
        Yield = tulip::Suspend,
        Return = anyhow::Result<T>,
    > + 'static
{
}
impl<T, C> Body<T> for C where
    C: std::ops::Coroutine<
            tulip::stackless::Sent<()>,
            Yield = tulip::Suspend,
            Return = anyhow::Result<T>,
        > + 'static
{
}

/// `async def`: a task body.
#[allow(unused_macros)]
macro_rules! body {
    ($(move)? |$co:ident| -> $ret:ty $body:block) => {
        #[coroutine] static move |_| -> $ret { $body }
    };
    ($(move)? |$co:ident| $body:expr) => {
        #[coroutine] static move |_| $body
    };
}

/// `lp.create_task(body)`, for a body written here or returned by a helper.
#[allow(unused_macros)]
macro_rules! spawn {
    ($lp:expr, $(move)? |$co:ident| -> $ret:ty $body:block) => {
        $lp.create_task_stackless(#[coroutine] static move |_| -> $ret { $body })
    };
    ($lp:expr, $(move)? |$co:ident| $body:expr) => {
        $lp.create_task_stackless(#[coroutine] static move |_| $body)
    };
    ($lp:expr, $body:expr) => {
        $lp.create_task_stackless($body)
    };
}

/// The test pattern `loop.run_until_complete(main())` on a new loop, closed after.
#[allow(unused_macros)]
macro_rules! run_main {
    ($(move)? |$co:ident| $(-> $ret:ty)? $body:block) => {{
        let lp = tulip::EventLoop::new().unwrap();
        let task = lp
            .create_task_stackless(#[coroutine] static move |_| $(-> $ret)? { $body })
            .unwrap();
        let result = lp.run_until_complete(&task);
        lp.close().unwrap();
        result
    }};
    ($(move)? |$co:ident| $body:expr) => {{
        let lp = tulip::EventLoop::new().unwrap();
        let task = lp
            .create_task_stackless(#[coroutine] static move |_| $body)
            .unwrap();
        let result = lp.run_until_complete(&task);
        lp.close().unwrap();
        result
    }};
}

/// `asyncio.run(main())`.
#[allow(unused_macros)]
macro_rules! run {
    ($(move)? |$co:ident| -> $ret:ty $body:block) => {
        tulip::stackless::run(#[coroutine] static move |_| -> $ret { $body })
    };
    ($(move)? |$co:ident| $body:expr) => {
        tulip::stackless::run(#[coroutine] static move |_| $body)
    };
}

/// `await aw`.
#[allow(unused_macros)]
macro_rules! wait {
    ($co:ident, $aw:expr) => {
        tulip::await_!($aw)
    };
}

/// `await asyncio.sleep(d)`.
#[allow(unused_macros)]
macro_rules! sleep {
    ($co:ident, $d:expr) => {
        tulip::yield_from!(tulip::stackless::sleep($d))
    };
}

/// A bare `yield` (one loop iteration).
#[allow(unused_macros)]
macro_rules! bare_yield {
    ($co:ident) => {
        tulip::yield_now!()
    };
}

/// A call to a helper that takes `co`: delegated to a stackful coroutine
/// (`tulip::stackless::stackful`) that owns clones of the `[names]` it uses.
#[allow(unused_macros)]
macro_rules! call_co {
    ($co:ident, [$($name:ident),*], $call:expr) => {{
        $(let $name = $name.clone();)*
        tulip::yield_from!(tulip::stackless::stackful(move |$co: &tulip::TaskCo| $call))
    }};
}

/// `await x.method(args)` of a sync primitive or queue: the native stackless wait
/// `yield_from!(x.method_stackless(args))`, holding no stack.
#[allow(unused_macros)]
macro_rules! sync {
    ($co:ident, $x:ident . acquire()) => {
        tulip::yield_from!($x.acquire_stackless())
    };
    ($co:ident, $x:ident . wait()) => {
        tulip::yield_from!($x.wait_stackless())
    };
    ($co:ident, $x:ident . wait_for($pred:expr)) => {
        tulip::yield_from!($x.wait_for_stackless($pred))
    };
    ($co:ident, $x:ident . reset()) => {
        tulip::yield_from!($x.reset_stackless())
    };
    ($co:ident, $x:ident . abort()) => {
        tulip::yield_from!($x.abort_stackless())
    };
    ($co:ident, $x:ident . put($item:expr)) => {
        tulip::yield_from!($x.put_stackless($item))
    };
    ($co:ident, $x:ident . get()) => {
        tulip::yield_from!($x.get_stackless())
    };
    ($co:ident, $x:ident . join()) => {
        tulip::yield_from!($x.join_stackless())
    };
}

/// `async with x: body`: the native acquire, `body` (evaluating to a `Result`; its `?`s stay
/// in it, so the crate enables `try_blocks`), and the release on every way out.
#[allow(unused_macros)]
macro_rules! with {
    ($co:ident, $x:ident, $body:block) => {{
        let entered: anyhow::Result<bool> = tulip::yield_from!($x.acquire_stackless());
        match entered {
            Err(e) => Err(e),
            Ok(_) => {
                let out: anyhow::Result<_> = try {
                    let value: anyhow::Result<_> = $body;
                    value?
                };
                AsyncExit::aexit(&$x, out)
            }
        }
    }};
}

/// What `with!` takes: a lock, condition or semaphore.
#[allow(dead_code)]
pub trait AsyncExit {
    /// `release()`, as a `Result`.
    fn exit(&self) -> anyhow::Result<()>;

    /// `__aexit__` after `body`: releases; as with `x.with(co, ...)`, an error from the
    /// release replaces the body's outcome, unless the body is being closed.
    fn aexit<R>(&self, body: anyhow::Result<R>) -> anyhow::Result<R> {
        match (body, self.exit()) {
            (Err(e), _) if tulip::ErrorExt::isinstance::<tulip::GeneratorExit>(&e) => Err(e),
            (_, Err(e)) => Err(e),
            (body, Ok(())) => body,
        }
    }
}

impl AsyncExit for tulip::Lock {
    fn exit(&self) -> anyhow::Result<()> {
        self.release()
    }
}

impl AsyncExit for tulip::Condition {
    fn exit(&self) -> anyhow::Result<()> {
        self.release()
    }
}

impl AsyncExit for tulip::Semaphore {
    fn exit(&self) -> anyhow::Result<()> {
        self.release();
        Ok(())
    }
}

impl AsyncExit for tulip::BoundedSemaphore {
    fn exit(&self) -> anyhow::Result<()> {
        self.release()
    }
}

/// `tg.create_task(body)`, stackless.
#[allow(unused_macros)]
macro_rules! group_spawn {
    ($g:expr, $(move)? |$co:ident| -> $ret:ty $body:block) => {
        $g.create_task_stackless(#[coroutine] static move |_| -> $ret { $body })
    };
    ($g:expr, $(move)? |$co:ident| $body:expr) => {
        $g.create_task_stackless(#[coroutine] static move |_| $body)
    };
    ($g:expr, $body:expr) => {
        $g.create_task_stackless($body)
    };
}

/// `await sub()` of a helper returning a [`Body`]: delegated to with `yield_from!`.
#[allow(unused_macros)]
macro_rules! await_sub {
    ($co:ident, $sub:expr) => {
        tulip::yield_from!(tulip::stackless::Coroutine::new($sub))
    };
}

/// `lp.create_task(body, context=ctx)`, stackless.
#[allow(unused_macros)]
macro_rules! spawn_in {
    ($lp:expr, $ctx:expr, $(move)? |$co:ident| -> $ret:ty $body:block) => {
        $lp.create_task_stackless_in($ctx, #[coroutine] static move |_| -> $ret { $body })
    };
    ($lp:expr, $ctx:expr, $body:expr) => {
        $lp.create_task_stackless_in($ctx, $body)
    };
}

/// `sub()` for an `async def sub()`: a coroutine object (`tulip::stackless::Coroutine`).
#[allow(unused_macros)]
macro_rules! coroutine {
    ($(move)? |$co:ident| -> $ret:ty $body:block) => {
        tulip::stackless::Coroutine::new(#[coroutine] static move |_| -> $ret { $body })
    };
    ($(move)? |$co:ident| $body:expr) => {
        tulip::stackless::Coroutine::new(#[coroutine] static move |_| $body)
    };
}

/// `await coro` of a coroutine object this task owns: delegated to with `yield_from!`.
#[allow(unused_macros)]
macro_rules! await_coro {
    ($co:ident, $coro:expr) => {
        tulip::yield_from!($coro)
    };
}

/// `await c` of a coroutine object shared by reference: delegated to with `yield_from!`.
#[allow(unused_macros)]
macro_rules! await_ref {
    ($co:ident, $coro:expr) => {
        tulip::yield_from!($coro)
    };
}

/// `async def` with `yield`: a `tulip::stackless::AsyncGenerator` whose body (a nightly
/// coroutine given the handle `co`) yields with `ayield!`.
#[allow(unused_macros)]
macro_rules! agen {
    ($(move)? |$co:ident| $body:block) => {
        tulip::stackless::AsyncGenerator::new(move |$co| #[coroutine] static move |_| $body)
    };
}

/// `yield v` in an async generator's body.
#[allow(unused_macros)]
macro_rules! ayield {
    ($co:ident, $v:expr) => {
        tulip::ayield!($co, $v)
    };
}

/// `await anext(g)`: delegated to with `yield_from!`.
#[allow(unused_macros)]
macro_rules! anext {
    ($co:ident, $g:expr) => {
        tulip::yield_from!($g.anext())
    };
}

/// `await g.asend(v)`.
#[allow(unused_macros)]
macro_rules! asend {
    ($co:ident, $g:expr, $v:expr) => {
        tulip::yield_from!($g.asend($v))
    };
}

/// `await g.athrow(e)`.
#[allow(unused_macros)]
macro_rules! athrow {
    ($co:ident, $g:expr, $e:expr) => {
        tulip::yield_from!($g.athrow($e))
    };
}

/// `await g.aclose()`.
#[allow(unused_macros)]
macro_rules! aclose {
    ($co:ident, $g:expr) => {
        tulip::yield_from!($g.aclose())
    };
}

/// One step of `async for x in g`: `None` at the end.
#[allow(unused_macros)]
macro_rules! try_next {
    ($co:ident, $g:expr) => {
        tulip::yield_from!($g.try_next())
    };
}

/// `await asyncio.wait_for(aw, t)`: the native `stackless::wait_for`.
#[allow(unused_macros)]
macro_rules! wait_for {
    ($co:ident, $aw:expr, $t:expr $(,)?) => {
        tulip::yield_from!(tulip::stackless::wait_for(&$aw, $t))
    };
}

/// `await asyncio.wait(children, timeout=t, return_when=when)`: the native
/// `stackless::wait`.
#[allow(unused_macros)]
macro_rules! asyncio_wait {
    ($co:ident, $children:expr, $t:expr, $when:expr $(,)?) => {
        tulip::yield_from!(tulip::stackless::wait($children, $t, $when))
    };
}

/// `await next` of an `as_completed` wait: the native `next.wait_stackless()`.
#[allow(unused_macros)]
macro_rules! next_done {
    ($co:ident, $next:expr) => {
        tulip::yield_from!($next.wait_stackless())
    };
}

/// `async with asyncio.timeout(d) as cm: body`: `Timeout::run_stackless`, `body` a
/// stackless coroutine owning clones of the `[names]` it uses and of `cm`.
#[allow(unused_macros)]
macro_rules! timeout_scope {
    ($co:ident, $d:expr, [$($name:ident),*], |$c:tt, $cm:tt| $body:expr $(,)?) => {
        match tulip::Timeout::after($d) {
            Ok(scope) => scope!($co, scope, [$($name),*], |$c, $cm| $body),
            Err(e) => Err(e),
        }
    };
}

/// `async with cm: body` of a `Timeout` or `TaskGroup` made before: its `run_stackless`,
/// as `timeout_scope!`.
#[allow(unused_macros)]
macro_rules! scope {
    ($co:ident, $scope:ident, [$($name:ident),*], |$c:tt, $cm:tt| $body:expr $(,)?) => {{
        let owned = $scope.clone();
        $(let $name = $name.clone();)*
        tulip::yield_from!($scope.run_stackless(
            #[coroutine]
            static move |_| {
                let $cm = &owned;
                $body
            }
        ))
    }};
}

/// `async with asyncio.TaskGroup() as tg: body`: the native `stackless::task_group`, as
/// `timeout_scope!`.
#[allow(unused_macros)]
macro_rules! group {
    ($co:ident, [$($name:ident),*], |$c:tt, $tg:tt| $body:expr $(,)?) => {{
        $(let $name = $name.clone();)*
        tulip::yield_from!(tulip::stackless::task_group(move |owned| {
            #[coroutine]
            static move |_| {
                let $tg: &tulip::TaskGroup = &owned;
                $body
            }
        }))
    }};
}

/// `await asyncio.wait_for(coro(), t)`: the native `stackless::wait_for_coro`, `body` a
/// stackless coroutine owning clones of the `[names]` it uses.
#[allow(unused_macros)]
macro_rules! wait_for_coro {
    ($co:ident, $t:expr, [$($name:ident),*], |$c:tt| $body:expr $(,)?) => {{
        $(let $name = $name.clone();)*
        tulip::yield_from!(tulip::stackless::wait_for_coro(
            $t,
            #[coroutine]
            static move |_| $body
        ))
    }};
}

/// A generator whose body awaits (`enter.next()` steps it outside any task): a
/// `tulip::stackless::Generator`.
#[allow(unused_macros)]
macro_rules! awaiting_generator {
    (|$co:ident| $body:expr) => {
        tulip::stackless::Generator::new(
            #[coroutine]
            static move |_| $body,
        )
    };
}
