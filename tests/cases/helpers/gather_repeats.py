# Children given more than once (CPython's gather keys them in a dict): each distinct child is
# waited for once and its entry repeated; cancelling the gathering cancels per argument, so a
# task given twice is cancelled twice; a gathering cancelled while its children finish fails
# with the last argument's `_make_cancelled_error()` (children[-1], which may repeat an earlier
# one); a child already done when gathered is read in the next iteration.
import asyncio

loop = asyncio.new_event_loop()


def run_briefly():
    loop.call_soon(loop.stop)
    loop.run_forever()


async def value(v):
    return v


x, y, z = (loop.create_future() for _ in range(3))
g = asyncio.gather(x, y, x, z, y, x)
z.set_result("z"); x.set_result("x"); run_briefly()
print("two of three done:", g.done())
y.set_result("y"); run_briefly()
print("repeats in argument order:", g.result())

done = loop.create_task(value("d"))
run_briefly()
print("child done before gather:", done.done())
g = asyncio.gather(done, done)
print("gathered, callbacks queued:", g.done())
run_briefly()
print("one iteration later:", g.done(), g.result())

forever = loop.create_future()


async def wait_forever():
    await forever

a = loop.create_task(wait_forever(), name="a")
b = loop.create_task(value("b"), name="b")
run_briefly()
print("b done:", b.done())
g = asyncio.gather(a, b, a, return_exceptions=True)
print("cancel:", g.cancel("m"))
print("cancelling a, b:", a.cancelling(), b.cancelling())
try:
    loop.run_until_complete(g)
except asyncio.CancelledError as e:
    print("gather raised", repr(e))
print("a cancelled:", a.cancelled())

forever.cancel()
loop.close()
