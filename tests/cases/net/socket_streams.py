# Streams on a socketpair (open_connection(sock=...)): read(n), read(-1), a peer closing
# mid-read gives IncompleteReadError.
import asyncio
import socket


async def main():
    loop = asyncio.get_running_loop()
    a, b = socket.socketpair()
    b.setblocking(False)
    reader, writer = await asyncio.open_connection(sock=a)
    await loop.sock_sendall(b, b'0123456789')
    print(await reader.readexactly(4))
    print(await reader.read(100))
    writer.write(b'from the stream')
    await writer.drain()
    print('peer got', await loop.sock_recv(b, 100))
    await loop.sock_sendall(b, b'abc')
    loop.call_later(0.01, b.close)
    try:
        await reader.readexactly(10)
    except asyncio.IncompleteReadError as e:
        print('peer closed mid-read:', e, e.partial)
    print('at_eof:', reader.at_eof())
    writer.close()
    await writer.wait_closed()
    print('closed')

asyncio.run(main())
