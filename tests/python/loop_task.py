# The Python twin of examples/loop_task.rs: a task awaiting a future set by a timer.
import asyncio


async def coroutine(fut):
    print("wait future")
    result = await fut
    print("future result", result)
    return result * 2


loop = asyncio.new_event_loop()
fut = loop.create_future()
task = loop.create_task(coroutine(fut))
loop.call_later(0.010, fut.set_result, 5)
print("task result", loop.run_until_complete(task))
loop.close()
