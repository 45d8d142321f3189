# Queue, LifoQueue, PriorityQueue without blocking, from CPython 3.11's test_queues.py:
# test_empty, test_full, test_order (all three kinds), test_nonblocking_get_exception,
# test_nonblocking_put_exception, test_task_done_underflow, test_task_done, test_join_empty_queue,
# test_format (str).
import asyncio


async def main():
    q = asyncio.Queue()
    print("empty", q.empty(), "full", q.full(), "qsize", q.qsize(), "maxsize", q.maxsize)
    q.put_nowait(1)
    print("empty", q.empty(), str(q))
    print("got", q.get_nowait(), str(q))

    q = asyncio.Queue(maxsize=2)
    print("full", q.full())
    q.put_nowait(1)
    q.put_nowait(2)
    print("full", q.full(), str(q))
    try:
        q.put_nowait(3)
    except asyncio.QueueFull as e:
        print("QueueFull:", repr(e))
    q.get_nowait()
    q.get_nowait()
    try:
        q.get_nowait()
    except asyncio.QueueEmpty as e:
        print("QueueEmpty:", repr(e))

    for cls in (asyncio.Queue, asyncio.LifoQueue, asyncio.PriorityQueue):
        q = cls()
        for i in [1, 3, 2]:
            await q.put(i)
        print(cls.__name__, str(q), [await q.get() for _ in range(3)])

    pq = asyncio.PriorityQueue()
    for item in [(5, 'e'), (1, 'a'), (4, 'd'), (2, 'b'), (3, 'c'), (1, 'z'), (0, 'y')]:
        pq.put_nowait(item)
    print("heap order:", pq._queue)
    print("popped:", [pq.get_nowait() for _ in range(7)])

    q = asyncio.Queue()
    try:
        q.task_done()
    except ValueError as e:
        print("ValueError:", e)
    await q.join()
    print("join on empty returns at once")
    for i in range(100):
        q.put_nowait(i)
    print(str(q).split(' _queue')[0], "tasks", str(q).split('tasks=')[1])
    accumulator = 0
    running = True

    async def worker(name):
        nonlocal accumulator
        while running:
            item = await q.get()
            accumulator += item
            q.task_done()

    tasks = [asyncio.create_task(worker(n)) for n in range(2)]
    await q.join()
    print("joined, sum", accumulator, str(q))
    running = False
    for _ in tasks:
        q.put_nowait(0)
    await asyncio.gather(*tasks)
    print("workers done", str(q))

asyncio.run(main())
