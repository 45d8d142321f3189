# Cancelling a TaskGroup's parent, from CPython's test_taskgroups.py (test_cancellation, 07,
# 08, 15, 17, 18, 22).
import asyncio

cancelled = []


async def sleeper(name, delay):
    try:
        await asyncio.sleep(delay)
    except asyncio.CancelledError:
        cancelled.append(name)
        raise


def report(what):
    # Set order in Python: sort the names of the cancelled children.
    print(what, "cancelled children:", sorted(cancelled))
    cancelled.clear()


async def cancel_soon(coro):
    r = asyncio.create_task(coro)
    await asyncio.sleep(0.01)
    print("done before the cancel:", r.done())
    r.cancel()
    try:
        await r
    except asyncio.CancelledError:
        print("-> CancelledError; cancelled:", r.cancelled())
    except ExceptionGroup as eg:
        print("->", repr(eg))


async def main():
    # test_cancellation / test_taskgroup_07: the parent's cancel reaches the body and children
    async def runner07():
        async with asyncio.TaskGroup() as g:
            for i in range(3):
                g.create_task(sleeper(f"s{i}", 5))
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                print("body cancelled")
                raise
    await cancel_soon(runner07())
    report("07")

    # test_taskgroup_22: cancelled while __aexit__ waits for the children
    async def runner22():
        async with asyncio.TaskGroup() as g:
            g.create_task(sleeper("a", 1))
            g.create_task(sleeper("b", 2))
    await cancel_soon(runner22())
    report("22")

    # test_taskgroup_17: a group without children
    async def runner17():
        async with asyncio.TaskGroup():
            await asyncio.sleep(10)
    await cancel_soon(runner17())

    # test_taskgroup_08: children that fail when cancelled turn the cancel into an ExceptionGroup
    async def fails_when_cancelled():
        try:
            await asyncio.sleep(10)
        finally:
            1 / 0

    async def runner08():
        async with asyncio.TaskGroup() as g:
            for _ in range(2):
                g.create_task(fails_when_cancelled())
            await asyncio.sleep(10)
    await cancel_soon(runner08())

    # test_taskgroup_18: the body turns the cancel into an error
    async def runner18():
        async with asyncio.TaskGroup():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                raise KeyError("instead")
    await cancel_soon(runner18())

    # test_taskgroup_15: a child fails while the cancelled body still cleans up
    async def crash_soon():
        await asyncio.sleep(0.1)
        print("crash_soon raises")
        1 / 0

    async def runner15():
        async with asyncio.TaskGroup() as g:
            g.create_task(crash_soon())
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                print("body cleans up")
                try:
                    await asyncio.sleep(0.2)
                except asyncio.CancelledError:
                    print("cleanup cancelled by the group")
                    raise
                raise
    await cancel_soon(runner15())

    # a group catching its own ExceptionGroup leaves the task usable (uncancel)
    async def survivor():
        try:
            async with asyncio.TaskGroup() as g:
                g.create_task(sleeper("x", 0))
                await asyncio.sleep(0)
                g.create_task(sleeper("y", 5))
                raise ValueError("body")
        except ExceptionGroup as eg:
            print("survivor caught", repr(eg), "cancelling:", asyncio.current_task().cancelling())
        await asyncio.sleep(0.01)
        return "survived"
    print(await asyncio.create_task(survivor()))
    report("survivor")

asyncio.run(main())
