# StreamReader.readuntil: separators, LimitOverrunError, IncompleteReadError (test_streams.py).
import asyncio


async def main():
    r = asyncio.StreamReader()
    r.feed_data(b'lineAAA')
    print(await r.readuntil(b'AAA'))
    r.feed_data(b'lineAAAxxx')
    print(await r.readuntil(b'AAA'), r._buffer)
    try:
        await r.readuntil(b'')
    except ValueError as e:
        print('ValueError:', e)
    r.feed_data(b'AA')
    r.feed_eof()
    try:
        await r.readuntil(b'AAA')
    except asyncio.IncompleteReadError as e:
        print('IncompleteReadError:', e, e.partial, e.expected)

    r = asyncio.StreamReader(limit=3)
    r.feed_data(b'some dataAA')
    try:
        await r.readuntil(b'AAA')
    except asyncio.LimitOverrunError as e:
        print('LimitOverrunError:', e, 'consumed', e.consumed)
    print('left:', r._buffer)
    r = asyncio.StreamReader(limit=3)
    r.feed_data(b'some dataAAA')
    try:
        await r.readuntil(b'AAA')
    except asyncio.LimitOverrunError as e:
        print('LimitOverrunError:', e, 'consumed', e.consumed)
    print('left:', r._buffer)

asyncio.run(main())
