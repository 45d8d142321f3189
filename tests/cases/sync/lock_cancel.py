# Lock fairness under cancellation, from CPython 3.11's test_locks.py (LockTests):
# test_cancel_race, test_cancel_release_race, test_finished_waiter_cancelled,
# test_context_manager, plus `async with` releasing on an error.
import asyncio


async def cancel_race():
    lock = asyncio.Lock()
    order = []

    async def lockit(name, blocker):
        await lock.acquire()
        order.append(name)
        try:
            if blocker is not None:
                await blocker
        finally:
            lock.release()

    fa = asyncio.get_running_loop().create_future()
    ta = asyncio.create_task(lockit('A', fa))
    await asyncio.sleep(0)
    print("A holds:", lock.locked())
    tb = asyncio.create_task(lockit('B', None))
    await asyncio.sleep(0)
    tc = asyncio.create_task(lockit('C', None))
    await asyncio.sleep(0)
    print("waiters:", repr(lock).split(' [')[1])
    fa.set_result(None)
    tb.cancel()
    await asyncio.sleep(0)
    print("after race: locked", lock.locked(), "A done", ta.done(), "B cancelled", tb.cancelled())
    await tc
    print("order:", order)


async def cancel_release_race():
    loop = asyncio.get_running_loop()
    lock = asyncio.Lock()
    lock_count = 0
    call_count = 0

    async def lockit():
        nonlocal lock_count, call_count
        call_count += 1
        await lock.acquire()
        lock_count += 1

    def trigger():
        t1.cancel()
        lock.release()

    await lock.acquire()
    t1 = asyncio.create_task(lockit())
    t2 = asyncio.create_task(lockit())
    t3 = asyncio.create_task(lockit())
    await asyncio.sleep(0)
    loop.call_soon(trigger)
    try:
        await t1
    except asyncio.CancelledError:
        print("t1 cancelled")
    print("lock_count", lock_count, "call_count", call_count)
    print("t1 cancelled", t1.cancelled(), "t2 done", t2.done(), "t3 done", t3.done())
    t3.cancel()
    await asyncio.sleep(0)
    print("t3 cancelled", t3.cancelled())


async def finished_waiter_cancelled():
    lock = asyncio.Lock()
    await lock.acquire()
    tb = asyncio.create_task(lock.acquire())
    await asyncio.sleep(0)
    tc = asyncio.create_task(lock.acquire())
    tb.cancel()
    lock.release()
    await asyncio.sleep(0)
    print("woken wake-up passed on: locked", lock.locked(), "tb cancelled", tb.cancelled())
    print("tc got it:", await tc)


async def context_manager():
    lock = asyncio.Lock()
    async with lock:
        print("inside: locked", lock.locked())
    print("after: locked", lock.locked())
    try:
        async with lock:
            raise ValueError("boom")
    except ValueError as e:
        print("error", repr(e), "locked", lock.locked())
    # A task cancelled while waiting in `async with` runs no body and releases nothing.
    await lock.acquire()

    async def body():
        async with lock:
            print("never")

    t = asyncio.create_task(body())
    await asyncio.sleep(0)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        print("cancelled in acquire; still locked", lock.locked())
    lock.release()
    print("unlocked", not lock.locked(), "repr:", repr(lock).split(' [')[1])


async def main():
    await cancel_race()
    await cancel_release_race()
    await finished_waiter_cancelled()
    await context_manager()

asyncio.run(main())
