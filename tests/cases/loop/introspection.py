# What asyncio's own tests look at (issue #11): reprs of futures and of the handles of
# failing callbacks, callback names, get_exception_handler, a task's _fut_waiter, the
# _cancel_message of futures and tasks, the ready queue and iterations (an overridden
# _run_once is tulip's iteration hook), and a generator's gi_yieldfrom.
# Where a Python function is defined (` at FILE:LINE`) is left out: Rust cannot know it.
import asyncio
import re


def norm(s):
    return re.sub(r' at [^ >]+:\d+', '', s)


class Loop(asyncio.SelectorEventLoop):
    hook = None

    def _run_once(self):
        if self.hook:
            self.hook(self)
        super()._run_once()


loop = Loop()
timer = None


def handler(lp, ctx):
    print("handler:", norm(ctx['message']))
    h = norm(repr(ctx['handle']))
    when = re.search(r'when=(\S+)', h)
    if when:
        print("  when is the handle's:", float(when.group(1)) == timer.when())
        h = h.replace(when.group(1), 'T')
    print("  handle:", h)


loop.set_exception_handler(handler)
print("handler is ours:", loop.get_exception_handler() is handler)

# Future reprs
fut = loop.create_future()
print(repr(fut))


def on_done(f):
    pass


fut.add_done_callback(on_done)
print(norm(repr(fut)))
fut.add_done_callback(on_done)
print(norm(repr(fut)))
fut.add_done_callback(on_done)
fut.add_done_callback(on_done)
print(norm(repr(fut)))
fut.set_result(4)
print(repr(fut))
for value in ["hello", "x" * 40, list(range(1, 11)), None, 2.5, (1, 'a'), True]:
    f = loop.create_future()
    f.set_result(value)
    print(repr(f))
f = loop.create_future()
f.set_exception(ValueError('bad'))
print(repr(f))
f.exception()
f = loop.create_future()
f.cancel()
print(repr(f))


# Failing callbacks: their names and handles
def zero_error():
    1 / 0


def lambdas():
    loop.call_soon(lambda: 1 / 0)


def bad_done(f):
    1 / 0


loop.call_soon(zero_error)
lambdas()
c = loop.create_future()
c.add_done_callback(bad_done)
c.cancel()
timer = loop.call_later(0, zero_error)
print("timer handle names its callback:", norm(repr(timer)).endswith(" zero_error()>"))
loop.call_later(0.01, loop.stop)
loop.run_forever()


# _fut_waiter and _cancel_message
async def main():
    inner = loop.create_future()

    async def waiter():
        return await inner

    t = loop.create_task(waiter())
    await asyncio.sleep(0)
    print("fut_waiter is inner:", t._fut_waiter is inner)
    print("fut_waiter:", t._fut_waiter)
    t.cancel("stop it")
    print("task cancel message:", t._cancel_message)
    print("inner cancel message:", inner._cancel_message)
    inner._cancel_message = "changed"
    try:
        await t
    except asyncio.CancelledError as e:
        print("task raised:", repr(e))
    print("fut_waiter when done:", t._fut_waiter)
    lone = loop.create_task(asyncio.sleep(0))
    lone.cancel("bare")
    print("pending cancel message:", lone._cancel_message)
    try:
        await lone
    except asyncio.CancelledError as e:
        print("lone raised:", repr(e))


loop.run_until_complete(main())
loop.close()

# Iterations and the ready queue
loop = Loop()
seen = []
loop.hook = lambda lp: seen.append((len(seen) + 1, len(lp._ready)))
loop.call_soon(lambda: loop.call_soon(print, "scheduled by a"))
loop.call_soon(print, "b")
loop.call_soon(loop.stop)
loop.run_forever()
loop.call_soon(loop.stop)
loop.run_forever()
print("iterations and ready lengths:", seen)
loop.close()


# gi_yieldfrom
def inner():
    yield 1


def outer():
    yield from inner()


g = outer()
print("before start:", g.gi_yieldfrom, g.gi_suspended)
next(g)
print("delegating to:", g.gi_yieldfrom.__qualname__, "| suspended:", g.gi_suspended,
      "| running:", g.gi_running)
g.close()
print("closed:", g.gi_yieldfrom, g.gi_suspended)
