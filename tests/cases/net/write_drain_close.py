# StreamWriter write/drain/write_eof/close/wait_closed against start_server (test_streams.py).
import asyncio


async def handle(reader, writer):
    line = await reader.readline()
    writer.write(line.upper())
    await writer.drain()
    rest = await reader.read()
    print('server: rest after EOF', rest)
    writer.write(b'bye\n')
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(handle, '127.0.0.1', 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection('127.0.0.1', port)
    print('peer is the server:', writer.get_extra_info('peername')[1] == port)
    writer.write(b'hello\n')
    await writer.drain()
    print('client got', await reader.readline())
    writer.writelines([b'tail', b'-end'])
    writer.write_eof()
    try:
        writer.write(b'more')
    except RuntimeError as e:
        print('write after write_eof:', e)
    print('client got', await reader.readline())
    print('client EOF:', await reader.read(), reader.at_eof())
    print('closing?', writer.is_closing())
    writer.close()
    print('closing?', writer.is_closing())
    await writer.wait_closed()
    try:
        await writer.drain()
    except ConnectionResetError as e:
        print('drain after close:', repr(e))
    server.close()
    await server.wait_closed()
    print('done')

asyncio.run(main())
