# StreamReader.readline (test_streams.py: readline, readline_limit, readline_eof).
import asyncio


async def main():
    loop = asyncio.get_running_loop()
    r = asyncio.StreamReader()
    r.feed_data(b'line1\nline2\npart')
    print(await r.readline())
    print(await r.readline())
    loop.call_soon(r.feed_data, b'ial\n')
    print('waited for:', await r.readline())
    r.feed_data(b'no newline')
    r.feed_eof()
    print('at EOF:', await r.readline())
    print('after EOF:', await r.readline())

    r = asyncio.StreamReader(limit=5)
    r.feed_data(b'0123456789\nok\n')
    try:
        await r.readline()
    except ValueError as e:
        print('ValueError:', e)
    print('left:', r._buffer)
    print(await r.readline())
    r.feed_data(b'0123456789')
    try:
        await r.readline()
    except ValueError as e:
        print('ValueError:', e)
    print('left:', r._buffer)

asyncio.run(main())
