# TaskGroup basics from CPython's test_taskgroups.py (01, 02, 03, 24, repr).
import asyncio


async def foo(name, delay, value):
    await asyncio.sleep(delay)
    print(name, "done")
    return value


async def main():
    # test_taskgroup_01: the group waits for its children
    async with asyncio.TaskGroup() as g:
        t1 = g.create_task(foo("t1", 0.01, 42))
        t2 = g.create_task(foo("t2", 0.02, 11))
        print("body over; children done:", t1.done(), t2.done())
    print("after the group:", t1.result(), t2.result())

    # test_taskgroup_02: a child created after an await
    async with asyncio.TaskGroup() as g:
        t1 = g.create_task(foo("t1", 0.01, 42))
        await asyncio.sleep(0.02)
        t2 = g.create_task(foo("t2", 0.01, 11))
    print("after the group:", t1.result(), t2.result())

    # test_taskgroup_03: a child cancelled by hand; the others go on
    async with asyncio.TaskGroup() as g:
        t1 = g.create_task(foo("t1", 1, 42))
        await asyncio.sleep(0.01)
        t1.cancel()
        t2 = g.create_task(foo("t2", 0.02, 11))
    print("t1 cancelled:", t1.cancelled(), "t2:", t2.result())

    # test_taskgroup_24: a child adds siblings
    async def root(g):
        await asyncio.sleep(0.01)
        g.create_task(foo("grandchild-1", 0.01, 1))
        g.create_task(foo("grandchild-2", 0.02, 2))
        print("root done")
    async with asyncio.TaskGroup() as g:
        g.create_task(root(g))
    print("the group waited for the children a child added")

    # repr through the life of a group
    g = asyncio.TaskGroup()
    print(repr(g))
    async with g:
        g.create_task(foo("x", 0.01, 0))
        print(repr(g))
    print(repr(g))

asyncio.run(main())
