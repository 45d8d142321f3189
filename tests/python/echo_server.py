# Twin of examples/echo_server.rs: an echo server on 127.0.0.1 port 0 and one client.
import asyncio


async def handle_echo(reader, writer):
    while line := await reader.readline():
        writer.write(line)
        await writer.drain()
    writer.close()


async def main():
    server = await asyncio.start_server(handle_echo, '127.0.0.1', 0)
    port = server.sockets[0].getsockname()[1]
    print('serving')
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    for text in ['Hello', 'World!', 'bye']:
        writer.write(text.encode() + b'\n')
        await writer.drain()
        echo = await reader.readline()
        print('echo:', echo.decode().rstrip())
    writer.close()
    await writer.wait_closed()
    server.close()
    await server.wait_closed()
    print('closed')

asyncio.run(main())
