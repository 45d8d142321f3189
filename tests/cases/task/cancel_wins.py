# Case 59 (test_tasks.py: cancel task catching/ignoring): a cancel after the awaited future
# already has a result wins over the result; two cancels, one delivery; a cancel swallowed by
# an awaited inner task is lost for the outer one.
import asyncio

loop = asyncio.new_event_loop()


def run_briefly():
    loop.call_soon(loop.stop)
    loop.run_forever()


fut = loop.create_future()


async def waiter():
    try:
        v = await fut
        print("got", v)
    except asyncio.CancelledError:
        print("CancelledError delivered instead of the result")
        raise

t = loop.create_task(waiter())
run_briefly()
fut.set_result('value')
print("t.cancel() ->", t.cancel(), "| fut.cancelled():", fut.cancelled())
try:
    loop.run_until_complete(t)
except asyncio.CancelledError:
    print("task cancelled:", t.cancelled(), "fut result still:", fut.result())
fut2 = loop.create_future()


async def swallow():
    try:
        await fut2
    except asyncio.CancelledError:
        print("swallowed; next await gets cancelled? ->", end=" ")
    try:
        await asyncio.sleep(0)
        print("no, sleep(0) completed normally")
    except asyncio.CancelledError:
        print("yes")
    return 'survived'

t = loop.create_task(swallow())
run_briefly()
t.cancel()
t.cancel()  # two requests, one delivery
print(loop.run_until_complete(t), "cancelling():", t.cancelling())


async def inner():
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        print("inner swallowed the cancellation forwarded by outer.cancel()")
    return 42


async def outer():
    r = await inner_t
    print("outer got", r, "(its own cancel request is lost) cancelling() =", asyncio.current_task().cancelling())
    return 'outer done'

inner_t = loop.create_task(inner())
o = loop.create_task(outer())
run_briefly()
print("outer.cancel() ->", o.cancel())
print(loop.run_until_complete(o), "outer.cancelled():", o.cancelled())
loop.close()
