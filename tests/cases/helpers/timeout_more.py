# asyncio.timeout behaviours from CPython's test_timeouts.py beyond case 53.
import asyncio


async def main():
    loop = asyncio.get_running_loop()

    # test_reschedule: another task moves the deadline, then removes it
    fut = loop.create_future()

    async def f():
        async with asyncio.timeout(10) as cm:
            fut.set_result(cm)
            await asyncio.sleep(50)
    task = asyncio.create_task(f())
    cm = await fut
    cm.reschedule(loop.time() + 30)
    print("rescheduled:", repr(cm).split(' when=')[0] + '>')
    cm.reschedule(None)
    print("disarmed:", cm.when(), repr(cm))
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        print("a cancel from outside stays CancelledError; expired:", cm.expired())

    # reschedule into the past: fires in the next iteration
    try:
        async with asyncio.timeout(10) as cm:
            cm.reschedule(loop.time() - 1)
            await asyncio.sleep(10)
    except TimeoutError:
        print("rescheduled into the past: TimeoutError; expired:", cm.expired())

    # reschedule later: the first deadline no longer fires
    try:
        async with asyncio.timeout(0.01) as cm:
            cm.reschedule(loop.time() + 0.1)
            await asyncio.sleep(0.02)
            print("still running after the first deadline")
            await asyncio.sleep(10)
    except TimeoutError:
        print("fired at the moved deadline")

    # test_timeout_in_the_past_sleep_zero: a deadline that already passed
    try:
        async with asyncio.timeout_at(loop.time() - 11) as cm:
            print("body runs")
            await asyncio.sleep(0)
            print("not reached")
    except TimeoutError:
        print("past deadline: TimeoutError at the first await; expired:", cm.expired())

    # test_timeout_expiring: the body swallows the cancel; reschedule refused while expiring
    async with asyncio.timeout(0.01) as cm:
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            print("body caught CancelledError;", repr(cm))
        try:
            cm.reschedule(loop.time() + 1)
        except RuntimeError as e:
            print("RuntimeError:", e)
    print("no TimeoutError; expired:", cm.expired(), repr(cm),
          "cancelling:", asyncio.current_task().cancelling())

    # test_foreign_cancel_doesnt_timeout_if_not_expired
    async def own_cancel():
        async with asyncio.timeout(10) as cm:
            asyncio.current_task().cancel()
            await asyncio.sleep(10)
    t = asyncio.create_task(own_cancel())
    try:
        await t
    except asyncio.CancelledError:
        print("a cancel inside an unexpired timeout stays CancelledError; cancelled:", t.cancelled())

    # test_nested_timeouts_loop_busy: the inner converts, then the outer fires later
    try:
        async with asyncio.timeout(0.1) as outer:
            try:
                async with asyncio.timeout(0.01) as inner:
                    await asyncio.sleep(1)
            except TimeoutError:
                print("inner TimeoutError; outer expired:", outer.expired())
            await asyncio.sleep(1)
    except TimeoutError:
        print("outer TimeoutError; inner expired:", inner.expired(), "outer expired:", outer.expired())

    # test_nested_timeout_in_finally
    try:
        async with asyncio.timeout(0.01):
            try:
                await asyncio.sleep(1)
            finally:
                try:
                    async with asyncio.timeout(0.01):
                        await asyncio.sleep(10)
                except TimeoutError:
                    print("timeout inside finally: TimeoutError")
    except TimeoutError:
        print("outer: TimeoutError")

    # test_timeout_after_cancellation / test_cancel_in_timeout_after_cancellation
    async def after_cancel():
        try:
            asyncio.current_task().cancel()
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            print("cancelled; cancelling():", asyncio.current_task().cancelling())
        try:
            async with asyncio.timeout(0):
                await asyncio.sleep(1)
        except TimeoutError:
            print("a timeout after a caught cancel still converts")
        try:
            async with asyncio.timeout(1):
                asyncio.current_task().cancel()
                await asyncio.sleep(2)
        except asyncio.CancelledError:
            print("a new cancel inside it stays CancelledError; cancelling():",
                  asyncio.current_task().cancelling())
        return "finished"
    print("after_cancel ->", await asyncio.create_task(after_cancel()))

    # test_outer_task_is_not_cancelled
    async def outer_task():
        try:
            async with asyncio.timeout(0.01):
                await asyncio.sleep(10)
        except TimeoutError:
            return "timed out"
    t = asyncio.create_task(outer_task())
    print("task ->", await t, "cancelled:", t.cancelled())

    # test_timeout_without_task (await_without_task: run __aenter__ from a plain callback)
    cm = asyncio.timeout(0.01)

    def outside():
        try:
            cm.__aenter__().send(None)
        except RuntimeError as e:
            print("entered outside a task: RuntimeError:", e)
    loop.call_soon(outside)
    await asyncio.sleep(0)
    try:
        cm.reschedule(loop.time() + 1)
    except RuntimeError as e:
        print("then reschedule: RuntimeError:", e)

asyncio.run(main())
