# Twin of examples/unix_echo.rs: an echo server on a Unix socket and one client.
import asyncio
import os
import tempfile


async def handle_echo(reader, writer):
    while line := await reader.readline():
        writer.write(line)
        await writer.drain()
    writer.close()


async def main(path):
    server = await asyncio.start_unix_server(handle_echo, path)
    print('serving')
    reader, writer = await asyncio.open_unix_connection(path)
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

path = os.path.join(tempfile.gettempdir(), f'tulip-unix-echo-py-{os.getpid()}.sock')
asyncio.run(main(path))
# As asyncio 3.11, closing the server leaves the socket file.
os.remove(path)
