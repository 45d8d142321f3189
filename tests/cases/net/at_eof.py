# StreamReader.at_eof, read(n), read(-1), exception() and set_exception (test_streams.py).
import asyncio


async def main():
    loop = asyncio.get_running_loop()
    r = asyncio.StreamReader()
    print('new:', r.at_eof())
    r.feed_data(b'some data\n')
    print('data:', r.at_eof())
    r.feed_eof()
    print('eof fed, data left:', r.at_eof())
    print(await r.read(4))
    print(await r.read(-1))
    print('all read:', r.at_eof())
    print('read at EOF:', await r.read(10))

    r = asyncio.StreamReader()
    t = asyncio.create_task(r.read(10))
    await asyncio.sleep(0)
    r.set_exception(ValueError('boom'))
    try:
        await t
    except ValueError as e:
        print('waiting read:', repr(e))
    print('exception():', repr(r.exception()))
    try:
        await r.readline()
    except ValueError as e:
        print('later readline:', repr(e))

asyncio.run(main())
