# wait_for behaviours from CPython's test_waitfor.py beyond case 51 (Python 3.11 semantics).
import asyncio


async def main():
    loop = asyncio.get_running_loop()

    # test_wait_for_cancellation_race_condition: the inner swallows the cancel and returns
    async def swallow():
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            print("inner: cancelled, returning 1 anyway")
        return 1
    print("swallowed cancel ->", await asyncio.wait_for(swallow(), timeout=0.01))

    # test_wait_for_waits_for_task_cancellation: the inner's cleanup ends before TimeoutError
    async def slow_cleanup():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            print("inner: cleaning up")
            await asyncio.sleep(0.01)
            print("inner: cleaned up")
            raise
    t = asyncio.create_task(slow_cleanup())
    try:
        await asyncio.wait_for(t, timeout=0.01)
    except TimeoutError as e:
        print("TimeoutError after the cleanup; inner done:", t.done(),
              "cause:", type(e.__cause__).__name__)

    # test_wait_for_waits_for_task_cancellation_w_timeout_0
    t = asyncio.create_task(slow_cleanup())
    await asyncio.sleep(0.01)
    try:
        await asyncio.wait_for(t, timeout=0)
    except TimeoutError as e:
        print("timeout=0: TimeoutError after the cleanup; inner done:", t.done(),
              "cause:", type(e.__cause__).__name__)

    # test_wait_for_reraises_exception_during_cancellation
    async def fails_on_cancel():
        try:
            await asyncio.sleep(10)
        finally:
            raise ValueError("from finally")
    try:
        await asyncio.wait_for(fails_on_cancel(), timeout=0.01)
    except ValueError as e:
        print("an error raised while cancelled passes through:", repr(e))

    # test_wait_for_race_condition: the result arrives before the deadline
    fut = loop.create_future()
    loop.call_later(0.01, fut.set_result, "ok")
    print("result before the deadline ->", await asyncio.wait_for(fut, timeout=1))

    # a failure before the deadline passes through, and the timer is gone
    async def fails():
        await asyncio.sleep(0.01)
        raise KeyError("early")
    try:
        await asyncio.wait_for(fails(), timeout=1)
    except KeyError as e:
        print("an error before the deadline passes through:", repr(e))

    # test_wait_for_self_cancellation: wait_for stays cancellable while the inner holds out
    async def stubborn():
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            print("stubborn: cancel swallowed")
            await asyncio.sleep(0.2)
        return 42
    inner_task = asyncio.create_task(stubborn())
    waiting = asyncio.create_task(asyncio.wait_for(inner_task, timeout=0.02))
    await asyncio.sleep(0.1)
    waiting.cancel()
    try:
        await waiting
    except asyncio.CancelledError:
        print("wait_for cancelled while the inner held out; inner done:", inner_task.done())
    print("inner result:", await inner_task)

    # _test_cancel_wait_for(None) and (60.0): cancelling wait_for cancels the inner (bpo-23219)
    for timeout in (None, 60.0):
        async def blocking():
            await loop.create_future()
        task = asyncio.create_task(blocking())
        waiting = asyncio.create_task(asyncio.wait_for(task, timeout))
        loop.call_soon(waiting.cancel)
        try:
            await waiting
        except asyncio.CancelledError:
            print(f"timeout={timeout}: wait_for cancelled; inner cancelled:", task.cancelled())

asyncio.run(main())
