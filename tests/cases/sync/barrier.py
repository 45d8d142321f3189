# Barrier, from CPython 3.11's test_locks.py (BarrierTests): test_barrier_parties,
# test_filling_task_by_task, test_filling_tasks_check_return_value, test_draining_state,
# test_filling_tasks_cancel_one, test_reset_barrier_while_tasks_waiting,
# test_abort_barrier_when_exception, test_abort_barrier_when_exception_then_resetting.
import asyncio

N = 5


def extra(b):
    return repr(b).split(' [')[1]


async def gather_tasks(n, coro):
    return await asyncio.gather(*(asyncio.create_task(coro()) for _ in range(n)))


async def filling():
    barrier = asyncio.Barrier(3)
    ts = []
    for _ in range(3):
        ts.append(asyncio.create_task(barrier.wait()))
        await asyncio.sleep(0)
        print("n_waiting", barrier.n_waiting, extra(barrier))
    print("indices:", await asyncio.gather(*ts), extra(barrier))


async def check_return_value():
    barrier = asyncio.Barrier(N)
    seen = []

    async def coro():
        await barrier.wait()
        i = await barrier.wait()
        seen.append("draining" in repr(barrier))
        return i

    res = await gather_tasks(N, coro)
    print("sorted indices:", sorted(res), "draining seen:", seen)
    print("after:", extra(barrier), barrier.broken)


async def cancel_one():
    barrier = asyncio.Barrier(3)
    results = []

    async def coro():
        await barrier.wait()
        results.append(True)

    t1 = asyncio.create_task(coro())
    await asyncio.sleep(0)
    t2 = asyncio.create_task(coro())
    await asyncio.sleep(0)
    print("n_waiting", barrier.n_waiting)
    t1.cancel()
    await asyncio.sleep(0)
    print("after cancel n_waiting", barrier.n_waiting)
    try:
        await t1
    except asyncio.CancelledError:
        print("t1 cancelled", t1.cancelled())
    t3 = asyncio.create_task(coro())
    await asyncio.sleep(0)
    print("n_waiting", barrier.n_waiting)
    t4 = asyncio.create_task(coro())
    await asyncio.gather(t2, t3, t4)
    print("results", results, "n_waiting", barrier.n_waiting, "broken", barrier.broken)


async def reset_while_waiting():
    barrier = asyncio.Barrier(N)
    results = []

    async def coro():
        try:
            await barrier.wait()
        except asyncio.BrokenBarrierError as e:
            results.append(repr(e))

    tasks = [asyncio.create_task(coro()) for _ in range(N - 1)]
    await asyncio.sleep(0)
    print("before reset:", extra(barrier))
    asyncio.create_task(barrier.reset())
    await asyncio.gather(*tasks)
    print("reset:", results, extra(barrier), barrier.broken)


async def abort_when_exception():
    barrier = asyncio.Barrier(N)
    results1 = []
    results2 = []

    async def coro():
        try:
            async with barrier as i:
                if i == N // 2:
                    raise RuntimeError
            async with barrier:
                results1.append(True)
        except asyncio.BrokenBarrierError as e:
            results2.append(repr(e))
        except RuntimeError:
            await barrier.abort()

    await gather_tasks(N, coro)
    print("abort:", barrier.broken, results1, sorted(results2), extra(barrier))
    try:
        await barrier.wait()
    except asyncio.BrokenBarrierError as e:
        print("wait on broken:", repr(e))


async def abort_then_reset():
    barrier1 = asyncio.Barrier(N)
    barrier2 = asyncio.Barrier(N)
    results1, results2, results3 = [], [], []

    async def coro():
        try:
            i = await barrier1.wait()
            if i == N // 2:
                raise RuntimeError
            await barrier1.wait()
            results1.append(True)
        except asyncio.BrokenBarrierError:
            results2.append(True)
        except RuntimeError:
            await barrier1.abort()
        i = await barrier2.wait()
        if i == N // 2:
            await barrier1.reset()
        await barrier2.wait()
        await barrier1.wait()
        results3.append(True)

    await gather_tasks(N, coro)
    print("abort then reset:", barrier1.broken, len(results1), len(results2), len(results3),
          barrier1.n_waiting)


async def main():
    for p in (0, -1):
        try:
            asyncio.Barrier(p)
        except ValueError as e:
            print("ValueError:", e)
    b = asyncio.Barrier(1)
    print("parties", b.parties, extra(b), "index", await b.wait(), "index", await b.wait())
    await filling()
    await check_return_value()
    await cancel_one()
    await reset_while_waiting()
    await abort_when_exception()
    await abort_then_reset()

asyncio.run(main())
