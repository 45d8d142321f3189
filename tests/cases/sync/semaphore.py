# Semaphore and BoundedSemaphore, from CPython 3.11's test_locks.py (SemaphoreTests):
# test_initial_value_zero, test_repr, test_acquire (FIFO, value accounting),
# test_acquire_cancel_before_awoken, test_acquire_hang, test_acquire_no_hang,
# test_release_not_acquired, test_acquire_fifo_order.
import asyncio


def extra(sem):
    return repr(sem).split(' [')[1]


async def acquire_fifo():
    sem = asyncio.Semaphore(3)
    result = []
    print("repr:", extra(sem))
    print(await sem.acquire(), await sem.acquire(), "locked", sem.locked(), extra(sem))

    async def c(n):
        await sem.acquire()
        result.append(n)
        return True

    t1, t2, t3 = (asyncio.create_task(c(n)) for n in (1, 2, 3))
    await asyncio.sleep(0)
    print("one got in:", result, "locked", sem.locked(), extra(sem), "value", sem._value)
    t4 = asyncio.create_task(c(4))
    sem.release()
    sem.release()
    print("two released, value", sem._value)
    await asyncio.sleep(0)
    print("woken in order:", result, "locked", sem.locked(), extra(sem))
    sem.release()
    await asyncio.gather(t2, t3, t4)
    print("all:", result)


async def cancel_before_awoken():
    sem = asyncio.Semaphore(value=0)
    ts = [asyncio.create_task(sem.acquire()) for _ in range(4)]
    await asyncio.sleep(0)
    ts[0].cancel()
    ts[1].cancel()
    sem.release()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    print("t3 done", ts[2].done(), "t4 done", ts[3].done())
    ts[2].cancel()
    ts[3].cancel()
    await asyncio.sleep(0)


async def acquire_hang():
    sem = asyncio.Semaphore(value=0)
    t1 = asyncio.create_task(sem.acquire())
    t2 = asyncio.create_task(sem.acquire())
    await asyncio.sleep(0)
    t1.cancel()
    sem.release()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    print("no hang: locked", sem.locked(), "t2 done", t2.done(), "value", sem._value)


async def acquire_no_hang():
    sem = asyncio.Semaphore(1)

    async def c1():
        async with sem:
            await asyncio.sleep(0)
        t2.cancel()

    async def c2():
        async with sem:
            print("never")

    t1 = asyncio.create_task(c1())
    t2 = asyncio.create_task(c2())
    r1, r2 = await asyncio.gather(t1, t2, return_exceptions=True)
    print("r1", r1, "r2", repr(r2))
    await sem.acquire()
    print("acquired after, value", sem._value)


async def fifo_order():
    sem = asyncio.Semaphore(1)
    result = []

    async def coro(tag):
        await sem.acquire()
        result.append(f'{tag}_1')
        await asyncio.sleep(0.01)
        sem.release()
        await sem.acquire()
        result.append(f'{tag}_2')
        await asyncio.sleep(0.01)
        sem.release()

    async with asyncio.TaskGroup() as tg:
        tg.create_task(coro('c1'))
        tg.create_task(coro('c2'))
        tg.create_task(coro('c3'))
    print("fifo:", result)


async def main():
    try:
        asyncio.Semaphore(-1)
    except ValueError as e:
        print("ValueError:", e)
    print("Semaphore(0) locked:", asyncio.Semaphore(0).locked())
    await acquire_fifo()
    await cancel_before_awoken()
    await acquire_hang()
    await acquire_no_hang()
    await fifo_order()
    bs = asyncio.BoundedSemaphore(2)
    await bs.acquire()
    bs.release()
    try:
        bs.release()
    except ValueError as e:
        print("ValueError:", e)
    async with bs:
        print("bounded inside:", extra(bs))
    print("bounded after:", extra(bs))

asyncio.run(main())
