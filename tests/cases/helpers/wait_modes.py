# asyncio.wait's return_when modes (test_tasks.py: test_wait, test_wait_first_completed,
# test_wait_really_done, test_wait_first_exception, test_wait_first_exception_in_wait,
# test_wait_with_exception, test_wait_duplicate_coroutines, test_wait_errors).
# Adapted: a child that must stay pending awaits a future nobody resolves (instead of a
# 10 s sleep under a test clock); wait's sets are printed sorted by task name.
import asyncio

loop = asyncio.new_event_loop()


def names(ts):
    return sorted(t.get_name() for t in ts)


async def forever():
    await loop.create_future()


async def nap(ms, result=None):
    await asyncio.sleep(ms / 1000)
    return result


async def fail_after(ms, msg):
    await asyncio.sleep(ms / 1000)
    raise ZeroDivisionError(msg)


async def cleanup(*tasks):
    for t in tasks:
        t.cancel()
    await asyncio.wait(tasks)


async def main():
    print("== ALL_COMPLETED")
    a = loop.create_task(nap(1), name="a")
    b = loop.create_task(nap(2), name="b")
    done, pending = await asyncio.wait([b, a])
    print("done", names(done), "pending", names(pending))
    done, pending = await asyncio.wait([b, a])
    print("again, already done:", names(done), names(pending))

    print("== FIRST_COMPLETED")
    a = loop.create_task(forever(), name="a")
    b = loop.create_task(nap(1), name="b")
    done, pending = await asyncio.wait([b, a], return_when=asyncio.FIRST_COMPLETED)
    print("done", names(done), "pending", names(pending), "b result", b.result())
    await cleanup(a)

    print("== FIRST_COMPLETED sees every child already done")
    async def coro1():
        await asyncio.sleep(0)

    async def coro2():
        await asyncio.sleep(0)
        await asyncio.sleep(0)
    a = loop.create_task(coro1(), name="a")
    b = loop.create_task(coro2(), name="b")
    done, pending = await asyncio.wait([b, a], return_when=asyncio.FIRST_COMPLETED)
    print("done", names(done), "pending", names(pending))

    print("== FIRST_EXCEPTION, a child fails at once")
    a = loop.create_task(forever(), name="a")
    b = loop.create_task(fail_after(0, "err"), name="b")
    done, pending = await asyncio.wait([b, a], return_when=asyncio.FIRST_EXCEPTION)
    print("done", names(done), "pending", names(pending), repr(b.exception()))
    await cleanup(a)

    print("== FIRST_EXCEPTION, a child fails while waiting")
    a = loop.create_task(forever(), name="a")
    b = loop.create_task(fail_after(1, "err"), name="b")
    c = loop.create_task(nap(0), name="c")
    done, pending = await asyncio.wait([b, a, c], return_when=asyncio.FIRST_EXCEPTION)
    print("done", names(done), "pending", names(pending), repr(b.exception()))
    await cleanup(a)

    print("== FIRST_EXCEPTION: a cancelled child is no exception")
    a = loop.create_task(nap(2), name="a")
    b = loop.create_task(forever(), name="b")
    loop.call_later(0.001, b.cancel)
    done, pending = await asyncio.wait([b, a], return_when=asyncio.FIRST_EXCEPTION)
    print("done", names(done), "pending", names(pending), "b cancelled", b.cancelled())

    print("== ALL_COMPLETED with a failure")
    a = loop.create_task(nap(1), name="a")
    b = loop.create_task(fail_after(2, "really"), name="b")
    done, pending = await asyncio.wait([b, a])
    errors = [t.get_name() for t in done if t.exception() is not None]
    print("done", names(done), "pending", names(pending), "failed", errors)

    print("== duplicates count once")
    c = loop.create_task(nap(0, "test"), name="c")
    d = loop.create_task(nap(0, "spam"), name="d")
    done, pending = await asyncio.wait([c, c, d])
    print("done", names(done), sorted(t.result() for t in done), "pending", names(pending))

    print("== errors")
    try:
        await asyncio.wait([])
    except ValueError as e:
        print("ValueError:", e)

loop.run_until_complete(main())
loop.close()
