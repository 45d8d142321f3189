# asyncio.wait with a timeout, and cancelling the waiter (test_tasks.py:
# test_wait_with_timeout, test_wait_concurrent_complete, test_yield_wait_does_not_shield_cancel).
# The timeout neither raises nor cancels anything. Adapted: the slow child awaits a future
# resolved at the end instead of a long sleep under a test clock; wait() always runs in a task.
import asyncio

loop = asyncio.new_event_loop()


def names(ts):
    return sorted(t.get_name() for t in ts)


async def nap(ms):
    await asyncio.sleep(ms / 1000)


async def main():
    release = loop.create_future()

    async def slow():
        await release
        return "slow done"

    print("== timeout")
    a = loop.create_task(nap(1), name="a")
    b = loop.create_task(slow(), name="b")
    done, pending = await asyncio.wait([b, a], timeout=0.02)
    print("done", names(done), "pending", names(pending), "b cancelled:", b.cancelled())

    print("== timeout and FIRST_COMPLETED, nothing finishes")
    done, pending = await asyncio.wait([b], timeout=0.001, return_when=asyncio.FIRST_COMPLETED)
    print("done", names(done), "pending", names(pending), "b cancelled:", b.cancelled())

    print("== timeout not reached")
    c = loop.create_task(nap(1), name="c")
    done, pending = await asyncio.wait([c], timeout=10)
    print("done", names(done), "pending", names(pending))

    release.set_result(None)
    print("b finishes later:", await b)

loop.run_until_complete(main())

print("== cancelling the waiting task leaves the children running")
proof = 0
waiter = loop.create_future()


async def inner():
    global proof
    await waiter
    proof += 1


async def outer():
    global proof
    d, p = await asyncio.wait([loop.create_task(inner())])
    proof += 100

f = loop.create_task(outer())
loop.call_soon(loop.stop); loop.run_forever()
print("cancel:", f.cancel())
try:
    loop.run_until_complete(f)
except asyncio.CancelledError as e:
    print("outer raised", repr(e))
waiter.set_result(None)
loop.call_soon(loop.stop); loop.run_forever()
loop.call_soon(loop.stop); loop.run_forever()
print("proof:", proof)
loop.close()
