# Case 57 (test_runners.py: run returns, raises, cancels hanging tasks, reports their errors).
import asyncio


async def main():
    await asyncio.sleep(0)
    return 42

print(asyncio.run(main()))


async def raises():
    await asyncio.sleep(0)
    raise ValueError('spam')

try:
    asyncio.run(raises())
except ValueError as e:
    print("propagates:", repr(e))
lo_fut = None


async def leftover():
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        print("hanging task cancelled at shutdown")
        raise


async def main2():
    global lo_fut
    lo_fut = asyncio.create_task(leftover())
    await asyncio.sleep(0)
    return 'main done'

print(asyncio.run(main2()), "| hanging task cancelled:", lo_fut.cancelled())


def handler(loop, ctx):
    print("handler:", ctx['message'], repr(ctx['exception']))


async def fails_on_cancel():
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        raise ZeroDivisionError('during shutdown')


async def main3():
    asyncio.get_running_loop().set_exception_handler(handler)
    asyncio.create_task(fails_on_cancel())
    await asyncio.sleep(0)

asyncio.run(main3())


async def nested():
    try:
        asyncio.run(main())
    except RuntimeError as e:
        print("nested:", repr(e))

asyncio.run(nested())
