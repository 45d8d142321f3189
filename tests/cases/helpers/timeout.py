# Case 53 of the asyncio behaviour cases: asyncio.timeout(): TimeoutError from CancelledError, nesting, states, errors
import asyncio
async def main():
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(0.01) as cm:
            print(repr(cm).split(' when=')[0] + '>')
            await asyncio.sleep(10)
    except TimeoutError as e:
        print("TimeoutError; cause:", type(e.__cause__).__name__, "expired:", cm.expired(), repr(cm))
    print("task cancelling() after timeout:", asyncio.current_task().cancelling())
    cancelled = False
    try:
        deadline = loop.time() + 0.01
        async with asyncio.timeout_at(deadline) as cm1:
            try:
                async with asyncio.timeout_at(deadline) as cm2:
                    await asyncio.sleep(10)
            except asyncio.CancelledError:
                cancelled = True      # inner cm re-raises CancelledError; only outer converts
                raise
    except TimeoutError:
        print("nested: inner saw CancelledError:", cancelled, "both expired:", cm1.expired(), cm2.expired())
    async with asyncio.timeout(10) as cm:
        await asyncio.sleep(0.01)
    print("not triggered:", cm.expired(), repr(cm))
    async with asyncio.timeout(None) as cm:
        await asyncio.sleep(0.01)
    print("disabled:", cm.when(), repr(cm))
    try:
        async with asyncio.timeout(0.01) as cm:
            raise KeyError('foreign')
    except KeyError as e:
        print("foreign exception passes through:", repr(e), cm.expired())
    for label, fn in [("reschedule finished", lambda: cm.reschedule(1)),
                      ("reschedule not entered", lambda: asyncio.timeout(1).reschedule(1))]:
        try:
            fn()
        except RuntimeError as e:
            print(label, "RuntimeError:", e)
    try:
        async with asyncio.timeout(0) as cm:
            await asyncio.sleep(0)
    except TimeoutError:
        print("timeout(0) fires at the first await (next iteration)")
    try:
        async with cm:
            pass
    except RuntimeError as e:
        print("re-enter RuntimeError:", e)
asyncio.run(main())
