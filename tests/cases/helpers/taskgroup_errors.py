# TaskGroup errors from CPython's test_taskgroups.py (04, cancel_children_on_child_error,
# 08, 09, 14, 19): a child error cancels the siblings and the body; errors are gathered.
import asyncio

cancelled = []


async def crash(name, delay, exc):
    await asyncio.sleep(delay)
    print(name, "raises", repr(exc))
    raise exc


async def sleeper(name, delay):
    try:
        await asyncio.sleep(delay)
    except asyncio.CancelledError:
        cancelled.append(name)
        raise
    print(name, "done")


def report(what):
    # Set order in Python: sort the names of the cancelled children.
    print(what, "cancelled children:", sorted(cancelled))
    cancelled.clear()


async def main():
    # test_taskgroup_04 / test_cancel_children_on_child_error
    async def runner():
        try:
            async with asyncio.TaskGroup() as g:
                g.create_task(crash("c1", 0.01, ZeroDivisionError("division by zero")))
                g.create_task(sleeper("s1", 1))
                g.create_task(sleeper("s2", 1))
                try:
                    await asyncio.sleep(10)
                except asyncio.CancelledError:
                    print("body cancelled")
                    raise
            print("not reached")
        except ExceptionGroup as eg:
            print("caught", repr(eg))
            print("str:", eg)
            print("cancelling() after the group:", asyncio.current_task().cancelling())
        return "runner finished"
    print(await asyncio.create_task(runner()))
    report("04")

    # two child errors: the second child fails while being cancelled (test_taskgroup_08 style)
    async def fails_when_cancelled():
        try:
            await asyncio.sleep(1)
        finally:
            raise KeyError("b")
    try:
        async with asyncio.TaskGroup() as g:
            g.create_task(crash("c1", 0.01, ValueError("a")))
            g.create_task(fails_when_cancelled())
    except ExceptionGroup as eg:
        print("caught", repr(eg), "count:", len(eg.exceptions))

    # test_taskgroup_09: the body fails; the children are cancelled; its error is gathered
    try:
        async with asyncio.TaskGroup() as g:
            t1 = g.create_task(sleeper("s1", 1))
            t2 = g.create_task(sleeper("s2", 2))
            await asyncio.sleep(0.01)
            1 / 0
    except ExceptionGroup as eg:
        print("caught", repr(eg), "children cancelled:", t1.cancelled(), t2.cancelled())
    report("09")

    # test_taskgroup_19: the body fails while a child error cancels it: both are gathered
    async def nested():
        try:
            await asyncio.sleep(10)
        finally:
            raise KeyError("from body")
    try:
        async with asyncio.TaskGroup() as g:
            g.create_task(crash("c1", 0.01, ZeroDivisionError("division by zero")))
            await nested()
    except ExceptionGroup as eg:
        print("caught", repr(eg))

    # test_taskgroup_14: an inner group's ExceptionGroup becomes an error of the outer one
    async def runner14():
        async with asyncio.TaskGroup() as g1:
            g1.create_task(sleeper("outer-child", 10))
            async with asyncio.TaskGroup() as g2:
                g2.create_task(crash("inner-child", 0.01, ValueError("inner")))
    try:
        await asyncio.create_task(runner14())
    except ExceptionGroup as eg:
        print("caught", repr(eg))
    report("14")

    # test_taskgroup_13: an outer child fails while the body waits in an inner group
    async def runner13():
        async with asyncio.TaskGroup() as g1:
            g1.create_task(crash("outer-child", 0.01, ValueError("outer")))
            async with asyncio.TaskGroup() as g2:
                g2.create_task(sleeper("inner-child", 10))
    try:
        await asyncio.create_task(runner13())
    except ExceptionGroup as eg:
        print("caught", repr(eg))
    report("13")

asyncio.run(main())
