# TaskGroup misuse from CPython's test_taskgroups.py (already_entered, double_enter, finished,
# not_entered, no_create_task_after_failure, without_parent_task).
import asyncio


def try_create(what, g):
    coro = asyncio.sleep(0)
    try:
        g.create_task(coro)
        print(what, "accepted")
    except RuntimeError as e:
        print(what, "RuntimeError:", e)
    coro.close()


async def main():
    loop = asyncio.get_running_loop()
    g = asyncio.TaskGroup()
    try_create("not entered:", g)
    async with g:
        try:
            async with g:
                pass
        except RuntimeError as e:
            print("entered inside itself: RuntimeError:", e)
    try_create("after exit:", g)
    try:
        async with g:
            pass
    except RuntimeError as e:
        print("entered again: RuntimeError:", e)

    # test_taskgroup_no_create_task_after_failure
    async def coro1():
        await asyncio.sleep(0.001)
        1 / 0

    async def coro2(g):
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            try_create("while aborting:", g)
            raise
    try:
        async with asyncio.TaskGroup() as g:
            g.create_task(coro1())
            g.create_task(coro2(g))
    except ExceptionGroup as eg:
        print("caught", repr(eg))

    # test_taskgroup_without_parent_task (await_without_task: __aenter__ from a plain callback)
    g = asyncio.TaskGroup()

    def outside():
        try:
            g.__aenter__().send(None)
        except RuntimeError as e:
            print("entered outside a task: RuntimeError:", e)
    loop.call_soon(outside)
    await asyncio.sleep(0)
    try_create("then:", g)

asyncio.run(main())
