# The Python twin of examples/async_ticker.rs: an async generator ticking on the loop, a task
# consuming it with `async for`, a pipeline of two async generators, and one left unfinished
# that asyncio.run closes at shutdown.
import asyncio


async def ticker(name, n, delay):
    try:
        for i in range(n):
            await asyncio.sleep(delay)
            yield f"{name} {i}"
    finally:
        print(f"{name} closed")


async def numbers(n):
    for i in range(n):
        await asyncio.sleep(0)
        yield i


async def squares(source):
    async for x in source:
        yield x * x


async def consume(agen):
    async for tick in agen:
        print("got", tick)


async def main():
    fast = asyncio.create_task(consume(ticker("fast", 3, 0.01)))
    slow = asyncio.create_task(consume(ticker("slow", 2, 0.025)))
    await asyncio.gather(fast, slow)
    print("squares", [x async for x in squares(numbers(5))])
    endless = ticker("endless", 1000, 0)
    print("first of endless:", await anext(endless))
    print("main done")


asyncio.run(main())
print("after run")
