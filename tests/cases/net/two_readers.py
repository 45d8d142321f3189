# Two coroutines reading one StreamReader: RuntimeError (test_streams.py).
import asyncio


async def main():
    r = asyncio.StreamReader()
    first = asyncio.create_task(r.read(10))
    await asyncio.sleep(0)
    for name, coro in [('readline', r.readline()), ('read', r.read(5)),
                       ('readexactly', r.readexactly(2)), ('readuntil', r.readuntil(b'x'))]:
        try:
            await coro
        except RuntimeError as e:
            print(name, '->', e)
    r.feed_data(b'data')
    print('first reader got', await first)

asyncio.run(main())
