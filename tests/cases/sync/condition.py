# Condition, from CPython 3.11's test_locks.py (ConditionTests): test_wait, test_wait_cancel,
# test_wait_cancel_contested, test_wait_cancel_after_notify, test_wait_for, test_notify,
# test_notify_all, the un-acquired errors and a shared lock.
import asyncio


async def wait_order():
    cond = asyncio.Condition()
    result = []

    async def c(n):
        await cond.acquire()
        if await cond.wait():
            result.append(n)
        return True

    ts = [asyncio.create_task(c(n)) for n in (1, 2, 3)]
    await asyncio.sleep(0)
    print("all waiting:", result, cond.locked(), repr(cond).split(' [')[1])
    print("acquire:", await cond.acquire())
    cond.notify()
    await asyncio.sleep(0)
    print("notified, lock still held:", result, cond.locked())
    cond.release()
    await asyncio.sleep(0)
    print("released:", result, cond.locked())
    cond.notify(2)
    await asyncio.sleep(0)
    print("notify(2):", result, cond.locked())
    cond.release()
    await asyncio.sleep(0)
    print("released:", result, cond.locked())
    cond.release()
    await asyncio.sleep(0)
    print("released:", result, cond.locked())
    print("results:", [t.result() for t in ts])
    cond.release()


async def wait_cancel():
    cond = asyncio.Condition()
    await cond.acquire()
    wait = asyncio.create_task(cond.wait())
    asyncio.get_running_loop().call_soon(wait.cancel)
    try:
        await wait
    except asyncio.CancelledError:
        print("wait cancelled; waiters:", len(cond._waiters), "locked:", cond.locked())
    cond.release()


async def wait_cancel_contested():
    cond = asyncio.Condition()
    await cond.acquire()
    wait_task = asyncio.create_task(cond.wait())
    await asyncio.sleep(0)
    print("waiting releases:", cond.locked())
    await cond.acquire()
    cond.notify()
    asyncio.get_running_loop().call_soon(wait_task.cancel)
    asyncio.get_running_loop().call_soon(cond.release)
    try:
        await wait_task
        print("wait_task returned")
    except asyncio.CancelledError:
        print("wait_task cancelled")
    print("re-acquired:", cond.locked())
    cond.release()


async def wait_cancel_after_notify():
    waited = False
    cond = asyncio.Condition()

    async def wait_on_cond():
        nonlocal waited
        async with cond:
            waited = True
            await cond.wait()

    waiter = asyncio.create_task(wait_on_cond())
    await asyncio.sleep(0)
    await cond.acquire()
    cond.notify()
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.sleep(0)
    cond.release()
    await asyncio.sleep(0)
    print("cancel after notify:", waiter.cancelled(), waited, "locked:", cond.locked())


async def wait_for():
    cond = asyncio.Condition()
    presult = False
    calls = []

    def predicate():
        calls.append(presult)
        return presult

    result = []

    async def c1():
        await cond.acquire()
        if await cond.wait_for(predicate):
            result.append(1)
            cond.release()
        return True

    t = asyncio.create_task(c1())
    await asyncio.sleep(0)
    print("wait_for:", result)
    await cond.acquire()
    cond.notify()
    cond.release()
    await asyncio.sleep(0)
    print("predicate false:", result)
    presult = True
    await cond.acquire()
    cond.notify()
    cond.release()
    await asyncio.sleep(0)
    print("predicate true:", result, t.result(), "predicate calls:", calls)
    print("true at once without the lock:", await cond.wait_for(lambda: True))
    try:
        await cond.wait_for(lambda: False)
    except RuntimeError as e:
        print("RuntimeError:", e)


async def notify_some_and_all():
    cond = asyncio.Condition()
    result = []

    async def c(n):
        await cond.acquire()
        if await cond.wait():
            result.append(n)
            cond.release()
        return True

    ts = [asyncio.create_task(c(n)) for n in (1, 2, 3)]
    await asyncio.sleep(0)
    await cond.acquire()
    cond.notify(1)
    cond.release()
    await asyncio.sleep(0)
    print("notify(1):", result)
    await cond.acquire()
    cond.notify(1)
    cond.notify(2048)
    cond.release()
    await asyncio.sleep(0)
    print("notify(1), notify(2048):", result)
    result.clear()
    ts = [asyncio.create_task(c(n)) for n in (1, 2)]
    await asyncio.sleep(0)
    await cond.acquire()
    cond.notify_all()
    cond.release()
    await asyncio.sleep(0)
    print("notify_all:", result, [t.result() for t in ts])
    for op in (cond.notify, cond.notify_all):
        try:
            op()
        except RuntimeError as e:
            print("RuntimeError:", e)


async def shared_lock():
    lock = asyncio.Lock()
    cond = asyncio.Condition(lock)
    async with lock:
        print("shared lock:", cond.locked())
    async with cond:
        print("via cond:", lock.locked())
    print("after:", lock.locked(), cond.locked())


async def main():
    await wait_order()
    await wait_cancel()
    await wait_cancel_contested()
    await wait_cancel_after_notify()
    await wait_for()
    await notify_some_and_all()
    await shared_lock()

asyncio.run(main())
