# The Python twin of examples/to_thread.rs: a blocking computation runs in a worker thread
# while the loop keeps ticking; the worker waits for the ticker's go, so the order is fixed.
import asyncio
import threading

go = threading.Event()


def blocking_sum(n):
    go.wait()  # blocks this worker thread, not the loop
    return sum(i * i for i in range(n))


async def ticker():
    for i in range(3):
        print("loop tick", i)
        await asyncio.sleep(0)
    print("go")
    go.set()


async def main():
    t = asyncio.create_task(ticker())
    print("start blocking_sum in a thread")
    total = await asyncio.to_thread(blocking_sum, 1000)
    print("blocking_sum returned", total)
    await t


asyncio.run(main())
