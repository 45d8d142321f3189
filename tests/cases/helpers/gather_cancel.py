# gather and cancellation (test_tasks.py: CoroutineGatherTests.test_cancellation_broadcast,
# test_exception_marking; test_cancel_gather_1, test_cancel_gather_2), plus a cancelled task
# as a return_exceptions entry.
# Adapted for Rust: children are tasks made explicitly (asyncio wraps coroutines in tasks).
import asyncio


def run_briefly(loop):
    loop.call_soon(loop.stop)
    loop.run_forever()


def handler(loop, ctx):
    print("exception handler:", ctx["message"], repr(ctx.get("exception")))


print("== cancellation broadcast")
loop = asyncio.new_event_loop()
proof = 0
waiter = loop.create_future()


async def inner():
    global proof
    await waiter
    proof += 1

child1 = loop.create_task(inner())
child2 = loop.create_task(inner())
gatherer = None


async def outer():
    global proof, gatherer
    gatherer = asyncio.gather(child1, child2)
    await gatherer
    proof += 100

f = loop.create_task(outer())
run_briefly(loop)
print("cancel outer task:", f.cancel())
try:
    loop.run_until_complete(f)
except asyncio.CancelledError as e:
    print("outer task raised", repr(e))
print("gatherer.cancel() once done:", gatherer.cancel())
print("waiter cancelled:", waiter.cancelled(), "children cancelled:", child1.cancelled(), child2.cancelled())
print("gatherer exception:", repr(gatherer.exception()), "cancelled():", gatherer.cancelled())
run_briefly(loop)
print("proof:", proof)
loop.close()

print("== cancel refused once all children are done")
loop = asyncio.new_event_loop()
fut = loop.create_future()


async def child_coro():
    return await fut


async def create():
    return asyncio.gather(loop.create_task(child_coro()))

gather_future = loop.run_until_complete(create())
cancel_result = None


def cancelling_callback(_):
    global cancel_result
    cancel_result = gather_future.cancel()
    print("cancel from fut's callback:", cancel_result)

fut.add_done_callback(cancelling_callback)
fut.set_result(42)
print("result:", loop.run_until_complete(gather_future), "cancelled:", gather_future.cancelled())
loop.close()

print("== a cancel reaching gather(return_exceptions=True) still propagates")
for msg in (None, 'my message'):
    loop = asyncio.new_event_loop()

    async def test():
        while True:
            sleeper = loop.create_task(asyncio.sleep(0.001))
            await asyncio.gather(sleeper, return_exceptions=True)

    async def main():
        qwe = loop.create_task(test())
        await asyncio.sleep(0.01)
        qwe.cancel(msg)
        await qwe

    try:
        loop.run_until_complete(main())
    except asyncio.CancelledError as exc:
        print("main raised", repr(exc))
    loop.close()

print("== cancelled task as a return_exceptions entry")
loop = asyncio.new_event_loop()


async def forever():
    await loop.create_future()


async def entries():
    t1 = loop.create_task(forever())
    t2 = loop.create_task(forever())
    f3 = loop.create_future()
    await asyncio.sleep(0)
    g = asyncio.gather(t1, t2, f3, return_exceptions=True)
    t1.cancel("m1")
    t2.cancel()
    f3.cancel("m3")
    return await g

print(loop.run_until_complete(entries()))
loop.close()

print("== the second failure is marked retrieved")
loop = asyncio.new_event_loop()
loop.set_exception_handler(handler)


async def fails(f):
    await f
    raise RuntimeError('should not be ignored')

a = loop.create_future()
b = loop.create_future()


async def outer2():
    await asyncio.gather(loop.create_task(fails(a)), loop.create_task(fails(b)))

f = loop.create_task(outer2())
run_briefly(loop)
a.set_result(None)
try:
    loop.run_until_complete(f)
except RuntimeError as e:
    print("outer task raised", repr(e))
b.set_result(None)
run_briefly(loop)
run_briefly(loop)
del f, a, b
import gc; gc.collect()
print("(nothing reported)")
loop.close()
