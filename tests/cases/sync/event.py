# Event, from CPython 3.11's test_locks.py (EventTests): test_repr, test_wait (wake order),
# test_wait_on_set, test_wait_cancel, test_clear, test_clear_with_waiters.
import asyncio


async def main():
    ev = asyncio.Event()
    print("repr:", repr(ev).split(' [')[1], "is_set", ev.is_set())
    result = []

    async def c(n):
        if await ev.wait():
            result.append(n)

    t1 = asyncio.create_task(c(1))
    t2 = asyncio.create_task(c(2))
    await asyncio.sleep(0)
    print("before set:", result, repr(ev).split(' [')[1])
    t3 = asyncio.create_task(c(3))
    ev.set()
    await asyncio.sleep(0)
    print("after set:", result, [t.done() for t in (t1, t2, t3)])
    print("wait on set:", await ev.wait(), repr(ev).split(' [')[1])

    ev2 = asyncio.Event()
    w = asyncio.create_task(ev2.wait())
    asyncio.get_running_loop().call_soon(w.cancel)
    try:
        await w
    except asyncio.CancelledError:
        print("wait cancelled; waiters left:", len(ev2._waiters))

    ev.clear()
    print("cleared:", ev.is_set())
    result.clear()

    async def c1():
        if await ev.wait():
            result.append(1)
        return True

    t = asyncio.create_task(c1())
    await asyncio.sleep(0)
    ev.set()
    ev.clear()
    print("set then clear:", ev.is_set())
    ev.set()
    ev.set()
    print("waiters:", len(ev._waiters))
    await asyncio.sleep(0)
    print("woken anyway:", result, "waiters:", len(ev._waiters), "result", t.result())

asyncio.run(main())
