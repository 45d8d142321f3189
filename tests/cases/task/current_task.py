# Case 43 (test_tasks.py: current task with interleaving tasks; names).
import asyncio

loop = asyncio.new_event_loop()
fut1 = loop.create_future()
fut2 = loop.create_future()


async def coro1():
    print("coro1 start, current:", asyncio.current_task().get_name())
    await fut1
    print("coro1 resumed, current:", asyncio.current_task().get_name())
    fut2.set_result(True)
    print("coro1 set fut2 and finishes")


async def coro2():
    print("coro2 start, current:", asyncio.current_task().get_name())
    fut1.set_result(True)
    print("coro2 set fut1; about to await fut2")
    await fut2
    print("coro2 resumed, current:", asyncio.current_task().get_name())

task1 = loop.create_task(coro1(), name="T1")
task2 = loop.create_task(coro2(), name="T2")
print("all_tasks:", sorted(t.get_name() for t in asyncio.all_tasks(loop)))
loop.run_until_complete(task2)
print("after:", asyncio.current_task(loop), len(asyncio.all_tasks(loop)))


async def anon():
    pass

t = loop.create_task(anon())
print("auto name pattern:", t.get_name().startswith("Task-"))
t.set_name(123)
print("set_name stringifies:", repr(t.get_name()))
loop.run_until_complete(t)
loop.close()
