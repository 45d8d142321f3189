# Blocking Queue operations and cancellation, from CPython 3.11's test_queues.py:
# test_maxsize, test_get_with_putters, test_blocking_get_wait, test_get_cancelled_race,
# test_get_with_waiting_putters, test_why_are_getters_waiting,
# test_cancelled_getters_not_being_held_in_self_getters, test_get_cancel_drop_one_pending_reader,
# test_get_cancel_drop_many_pending_readers, test_put_cancel_drop, test_put_cancelled_race,
# test_why_are_putters_waiting, test_cancelled_puts_not_being_held_in_self_putters,
# test_cancelled_put_silence_value_error_exception.
import asyncio


async def maxsize():
    q = asyncio.Queue(maxsize=2)
    have_been_put = []

    async def putter():
        for i in range(3):
            await q.put(i)
            have_been_put.append(i)
        return True

    t = asyncio.create_task(putter())
    for _ in range(2):
        await asyncio.sleep(0)
    print("putter blocked after", have_been_put, str(q))
    print("get", await q.get())
    await asyncio.sleep(0)
    print("putter resumed", have_been_put)
    print("get", await q.get(), await q.get(), t.result())


async def getters_fifo():
    q = asyncio.Queue()
    got = []

    async def getter(n):
        got.append((n, await q.get()))

    ts = [asyncio.create_task(getter(n)) for n in range(3)]
    await asyncio.sleep(0)
    print("getters waiting:", str(q))
    for item in 'abc':
        q.put_nowait(item)
    await asyncio.gather(*ts)
    print("getters served in order:", got)


async def get_cancelled_race():
    q = asyncio.Queue()
    t1 = asyncio.create_task(q.get())
    t2 = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    t1.cancel()
    await asyncio.sleep(0)
    print("t1 done", t1.done())
    await q.put('a')
    await asyncio.sleep(0)
    print("t2 got", await t2)


async def waiting_putters():
    q = asyncio.Queue(maxsize=1)
    asyncio.create_task(q.put('a'))
    asyncio.create_task(q.put('b'))
    print("with waiting putters:", await q.get(), await q.get())


async def producer_consumer():
    q = asyncio.Queue(1)
    log = []

    async def consumer(n):
        for _ in range(n):
            log.append(('got', await q.get()))

    async def producer(n):
        for i in range(n):
            await q.put(i)
            log.append(('put', i))

    async with asyncio.TaskGroup() as tg:
        tg.create_task(producer(5))
        tg.create_task(consumer(5))
    print("producer/consumer:", log)


async def getter_timeout():
    q = asyncio.Queue(maxsize=5)
    try:
        await asyncio.wait_for(q.get(), 0.01)
    except TimeoutError:
        print("get timed out; getters left:", len(q._getters))


async def cancel_one_pending_reader():
    q = asyncio.Queue()
    reader = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.put_nowait(1)
    q.put_nowait(2)
    reader.cancel()
    try:
        await reader
    except asyncio.CancelledError:
        print("reader cancelled after wake-up")
        reader = asyncio.create_task(q.get())
        await reader
    print("first item not lost:", reader.result())


async def cancel_many_pending_readers():
    q = asyncio.Queue()
    async with asyncio.TaskGroup() as tg:
        reader1 = tg.create_task(q.get())
        reader2 = tg.create_task(q.get())
        reader3 = tg.create_task(q.get())
        await asyncio.sleep(0)
        q.put_nowait(1)
        q.put_nowait(2)
        reader1.cancel()
        try:
            await reader1
        except asyncio.CancelledError:
            print("reader1 cancelled")
        await reader3
    print("readers 2 and 3 got:", sorted([reader2.result(), reader3.result()]))


async def put_cancel_drop():
    q = asyncio.Queue(1)
    q.put_nowait(1)
    writer = asyncio.create_task(q.put(2))
    await asyncio.sleep(0)
    print("get", q.get_nowait())
    writer.cancel()
    try:
        await writer
    except asyncio.CancelledError:
        print("writer cancelled after wake-up")
        writer = asyncio.create_task(q.put(2))
        await writer
    print("get", q.get_nowait(), "qsize", q.qsize())


async def put_cancelled_race():
    q = asyncio.Queue(maxsize=1)
    put_a = asyncio.create_task(q.put('a'))
    put_b = asyncio.create_task(q.put('b'))
    put_c = asyncio.create_task(q.put('X'))
    await asyncio.sleep(0)
    print("a done", put_a.done(), "b done", put_b.done())
    put_c.cancel()
    await asyncio.sleep(0)
    print("c done", put_c.done(), "get", q.get_nowait())
    await asyncio.sleep(0)
    print("get", q.get_nowait())
    await put_b


async def putters_waiting():
    queue = asyncio.Queue(2)
    taken = []

    async def putter(item):
        await queue.put(item)

    async def getter():
        await asyncio.sleep(0)
        for _ in range(queue.qsize()):
            taken.append(queue.get_nowait())

    async with asyncio.TaskGroup() as tg:
        tg.create_task(getter())
        for i in range(4):
            tg.create_task(putter(i))
    print("putters all done; taken", taken, "left", str(queue))


async def cancelled_putters():
    queue = asyncio.Queue(maxsize=1)
    queue.put_nowait(1)
    put_task = asyncio.create_task(queue.put(1))
    await asyncio.sleep(0)
    print("putters:", len(queue._putters))
    put_task.cancel()
    try:
        await put_task
    except asyncio.CancelledError:
        print("cancelled; putters:", len(queue._putters))
    put_task = asyncio.create_task(queue.put(1))
    await asyncio.sleep(0)
    queue.get_nowait()
    put_task.cancel()
    try:
        await put_task
    except asyncio.CancelledError:
        print("cancelled after get_nowait took its putter:", len(queue._putters), queue.qsize())


async def main():
    await maxsize()
    await getters_fifo()
    await get_cancelled_race()
    await waiting_putters()
    await producer_consumer()
    await getter_timeout()
    await cancel_one_pending_reader()
    await cancel_many_pending_readers()
    await put_cancel_drop()
    await put_cancelled_race()
    await putters_waiting()
    await cancelled_putters()

asyncio.run(main())
