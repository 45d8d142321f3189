# Case 49 (test_tasks.py: test_shield_result, test_shield_exception, test_shield_cancel_inner,
# test_shield_cancel_outer, test_shield_shortcut, test_shield_effect).
# Adapted for Rust: the shielded coroutine is made a task explicitly (what shield() does
# with a coroutine), and `is` is checked through identity of errors and futures.
import asyncio

loop = asyncio.new_event_loop()


def run_briefly():
    loop.call_soon(loop.stop)
    loop.run_forever()


inner = loop.create_future(); outer = asyncio.shield(inner)
inner.set_result(42); print("result:", loop.run_until_complete(outer))

inner = loop.create_future(); outer = asyncio.shield(inner); run_briefly()
exc = RuntimeError('expected'); inner.set_exception(exc); run_briefly()
print("exception forwarded:", outer.exception() is exc)

inner = loop.create_future(); outer = asyncio.shield(inner); run_briefly()
inner.cancel(); run_briefly(); print("inner cancelled -> outer cancelled:", outer.cancelled())

inner = loop.create_future(); outer = asyncio.shield(inner); run_briefly()
outer.cancel(); run_briefly()
print("outer cancelled:", outer.cancelled(), "inner untouched:", inner.cancelled())

fut = loop.create_future(); fut.set_result(42)
print("shortcut returns same object when done:", asyncio.shield(fut) is fut)

proof = 0
waiter = loop.create_future()


async def inner_coro():
    global proof
    await waiter
    proof += 1


async def outer_coro():
    global proof
    await asyncio.shield(asyncio.ensure_future(inner_coro()))
    proof += 100

f = loop.create_task(outer_coro())
run_briefly()
f.cancel()
try:
    loop.run_until_complete(f)
except asyncio.CancelledError:
    print("outer task cancelled")
waiter.set_result(None); run_briefly()
print("inner coroutine still completed, proof =", proof)
loop.close()
