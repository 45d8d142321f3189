# Case 39 (test_tasks.py: cancel current task, cancel at end, cancel awaited task).
import asyncio

loop = asyncio.new_event_loop()


async def self_cancel():
    t.cancel()
    print("after self-cancel: cancelled() =", t.cancelled(), "cancelling() =", t.cancelling())
    try:
        await asyncio.sleep(100)
    except asyncio.CancelledError:
        print("sleep(100) cancelled immediately")
        raise

t = loop.create_task(self_cancel())
try:
    loop.run_until_complete(t)
except asyncio.CancelledError:
    print("task cancelled:", t.cancelled())


async def cancel_at_end():
    t.cancel()
    return 12

t = loop.create_task(cancel_at_end())
try:
    loop.run_until_complete(t)
except asyncio.CancelledError:
    print("returned 12 but task is cancelled:", t.cancelled())
fut = loop.create_future()
nested_task = None


async def nested():
    await fut


async def coro():
    global nested_task
    nested_task = loop.create_task(nested())
    await asyncio.sleep(0)
    task.cancel()
    await nested_task

task = loop.create_task(coro())
try:
    loop.run_until_complete(task)
except asyncio.CancelledError:
    print("task", task.cancelled(), "nested_task", nested_task.cancelled(), "fut", fut.cancelled())
loop.close()
