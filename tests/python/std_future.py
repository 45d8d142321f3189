# Twin of examples/std_future.rs, with asyncio's own pieces: a future set from a thread with
# call_soon_threadsafe, an asyncio.Queue fed from a thread, and gather.
import asyncio
import threading


async def work(name, delay):
    await asyncio.sleep(delay)
    return name


async def main():
    loop = asyncio.get_running_loop()

    fut = loop.create_future()
    thread = threading.Thread(
        target=lambda: loop.call_soon_threadsafe(fut.set_result, 'from a thread'))
    thread.start()
    print(await fut)
    thread.join()

    queue = asyncio.Queue(2)

    def produce():
        for i in range(1, 4):
            asyncio.run_coroutine_threadsafe(queue.put(i), loop).result()
        asyncio.run_coroutine_threadsafe(queue.put(None), loop).result()  # closed

    producer = threading.Thread(target=produce)
    producer.start()
    while (v := await queue.get()) is not None:
        print('got', v)
    print('channel closed')
    # Joined off the loop: the producer's last put is reported back through the loop.
    await asyncio.to_thread(producer.join)

    x, y = await asyncio.gather(work('a', 0.02), work('b', 0.01))
    print('joined', x, y)

asyncio.run(main())
