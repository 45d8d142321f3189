# run_coroutine_threadsafe from a worker thread: the coroutine runs as a task on the loop,
# the thread blocks on the concurrent future's result().
import asyncio


async def coro(x):
    await asyncio.sleep(0)
    return x + 1


async def failing():
    await asyncio.sleep(0)
    raise ValueError("bad")


def worker(loop):
    fut = asyncio.run_coroutine_threadsafe(coro(41), loop)
    r = fut.result(timeout=10)
    bad = asyncio.run_coroutine_threadsafe(failing(), loop)
    try:
        bad.result(timeout=10)
    except ValueError as e:
        err = "ValueError " + str(e)
    return r, err, fut.done()


async def main():
    loop = asyncio.get_running_loop()
    r, err, done = await asyncio.to_thread(worker, loop)
    print("result", r)
    print("error", err)
    print("done", done)


asyncio.run(main())
