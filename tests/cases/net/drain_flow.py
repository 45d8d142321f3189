# Write flow control: drain() waits while the buffer is over the high-water mark.
import asyncio

SIZE = 8 * 1024 * 1024


async def main():
    loop = asyncio.get_running_loop()
    go = loop.create_future()
    got = loop.create_future()

    async def handle(reader, writer):
        await go
        data = await reader.readexactly(SIZE)
        got.set_result(len(data))
        writer.close()

    server = await asyncio.start_server(handle, '127.0.0.1', 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    writer.write(b'z' * SIZE)
    size = writer.transport.get_write_buffer_size()
    print('buffered over the high-water mark:', size > 65536)
    drain = asyncio.create_task(writer.drain())
    await asyncio.sleep(0.05)
    print('drain waiting while nobody reads:', not drain.done())
    go.set_result(None)
    await drain
    print('drained to the low-water mark:', writer.transport.get_write_buffer_size() <= 16384)
    print('server read', await got)
    print('EOF from server:', await reader.read())
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()

asyncio.run(main())
