# to_thread: the loop keeps ticking while a thread blocks; the thread can only finish after
# the ticker released it, so the order is deterministic.
import asyncio
import threading

go = threading.Event()


def blocking(n):
    go.wait()
    return sum(range(n))


async def ticker():
    for i in range(3):
        print("tick", i)
        await asyncio.sleep(0)
    print("release")
    go.set()


async def main():
    t = asyncio.create_task(ticker())
    print("to_thread start")
    r = await asyncio.to_thread(blocking, 100)
    print("to_thread result", r)
    await t
    print("ticker done", t.done())


asyncio.run(main())
