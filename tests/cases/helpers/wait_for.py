# Case 51 of the asyncio behaviour cases: wait_for(): timeout cancels and waits for the inner task; timeout 0; cancelling the waiter
import asyncio
async def main():
    loop = asyncio.get_running_loop()
    state = []
    async def foo():
        state.append('running')
        try:
            await asyncio.sleep(10)
        finally:
            state.append('stopped')
        return 'done'
    fut = asyncio.create_task(foo())
    try:
        await asyncio.wait_for(fut, 0.05)
    except asyncio.TimeoutError as e:
        print("TimeoutError", repr(e), "is builtin TimeoutError:", type(e) is TimeoutError,
              "cause:", type(e.__cause__).__name__)
    print("inner cancelled before wait_for returned:", fut.cancelled(), state)
    started = []
    async def quick():
        started.append(True)
    try:
        await asyncio.wait_for(quick(), 0)
    except asyncio.TimeoutError:
        print("timeout=0 with coroutine: started?", bool(started))
    done = loop.create_future(); done.set_result('ready')
    print("timeout=0 with done future ->", await asyncio.wait_for(done, 0))
    print("timeout=None ->", await asyncio.wait_for(asyncio.sleep(0.01, 'slept'), None))
    print("fast enough ->", await asyncio.wait_for(asyncio.sleep(0.01, 'ok'), 1))
    async def inner():
        await asyncio.sleep(10)
    async def waiter():
        await asyncio.wait_for(inner_task, 10)
    inner_task = asyncio.create_task(inner())
    w = asyncio.create_task(waiter())
    await asyncio.sleep(0.01)
    w.cancel()
    try:
        await w
    except asyncio.CancelledError:
        print("cancelling wait_for also cancels inner:", inner_task.cancelled())
asyncio.run(main())
