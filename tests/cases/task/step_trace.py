# Case 35 (test_tasks.py: task basics, step results): create_task schedules the first step;
# awaiting a coroutine is inline; each await of a future or task costs one iteration per hop.
# A ticker callback that re-schedules itself marks the iterations (instead of a loop subclass).
import asyncio

loop = asyncio.new_event_loop()
n = 0


def tick():
    global n
    n += 1
    print(f"-- tick {n}")
    if n < 8:
        loop.call_soon(tick)


fut = loop.create_future()


async def inner1():
    print("inner1 runs inline (no new task, no extra iteration)")
    return 42


async def child():
    print("child start; current_task is child:", asyncio.current_task().get_name())
    await fut
    print("child resumed after fut done")
    return 1000


async def outer():
    print("outer start")
    a = await inner1()
    t = asyncio.create_task(child(), name="child")
    print("outer created child; awaiting it")
    loop.call_soon(print, "plain callback scheduled by outer")
    loop.call_soon(fut.set_result, None)
    b = await t
    print("outer got", a + b)
    return a + b

loop.call_soon(tick)
print("result:", loop.run_until_complete(outer()))
print("current_task outside:", asyncio.current_task(loop))
loop.close()
