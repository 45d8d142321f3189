# StreamReader.readexactly and IncompleteReadError (test_streams.py).
import asyncio


async def main():
    loop = asyncio.get_running_loop()
    r = asyncio.StreamReader()
    r.feed_data(b'abcdef')
    print(await r.readexactly(4))
    print(await r.readexactly(0))
    loop.call_soon(r.feed_data, b'gh')
    loop.call_later(0.01, r.feed_data, b'ijkl')
    print('across feeds:', await r.readexactly(6))
    print('left:', r._buffer)
    r.feed_data(b'mn')
    r.feed_eof()
    try:
        await r.readexactly(5)
    except asyncio.IncompleteReadError as e:
        print('IncompleteReadError:', e)
        print('partial', e.partial, 'expected', e.expected)
        print('is EOFError:', isinstance(e, EOFError))
    print('left:', r._buffer, 'at_eof', r.at_eof())

asyncio.run(main())
