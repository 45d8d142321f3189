# Cancelling the task that consumes an async generator raises CancelledError where the
# generator's body waits; its clean-up runs there, and it is finished afterwards.
import asyncio


async def slow():
    try:
        yield 1
        print("body waits")
        await asyncio.sleep(10)
        yield 2
    except asyncio.CancelledError:
        print("body cancelled")
        raise
    finally:
        print("body finally")


async def consume(agen):
    async for x in agen:
        print("got", x)


async def main():
    agen = slow()
    t = asyncio.create_task(consume(agen))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        print("consumer cancelled:", t.cancelled())
    try:
        await anext(agen)
    except StopAsyncIteration:
        print("then anext raised StopAsyncIteration")


asyncio.run(main())
