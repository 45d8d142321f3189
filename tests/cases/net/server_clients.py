# A server with several concurrent clients; close and wait_closed.
import asyncio


async def handle(reader, writer):
    name = (await reader.readline()).strip()
    await asyncio.sleep(0.001 * len(name))
    writer.write(b'hello ' + name + b'\n')
    await writer.drain()
    writer.close()


async def client(port, name):
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    writer.write(name.encode() + b'\n')
    line = await reader.readline()
    eof = await reader.read()
    writer.close()
    await writer.wait_closed()
    return line, eof


async def main():
    server = await asyncio.start_server(handle, '127.0.0.1', 0)
    port = server.sockets[0].getsockname()[1]
    print('serving:', server.is_serving(), 'sockets:', len(server.sockets))
    names = ['ann', 'bob', 'carmen', 'dee', 'eve', 'fitzgerald']
    for line, eof in await asyncio.gather(*(client(port, n) for n in names)):
        print(line, eof)
    server.close()
    print('serving:', server.is_serving(), 'sockets:', len(server.sockets))
    await server.wait_closed()
    try:
        await asyncio.open_connection('127.0.0.1', port)
    except ConnectionRefusedError as e:
        print('after close:', type(e).__name__)

asyncio.run(main())
