# sock_sendall of a large buffer to a slow reader (test_sock_lowlevel.py's large sendall).
import asyncio
import socket

SIZE = 4 * 1024 * 1024


async def slow_reader(loop, sock):
    got = bytearray()
    while True:
        chunk = await loop.sock_recv(sock, 65536)
        if not chunk:
            return bytes(got)
        got += chunk
        await asyncio.sleep(0.0005)


async def main():
    loop = asyncio.get_running_loop()
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    data = bytes(i % 251 for i in range(SIZE))
    reader = asyncio.create_task(slow_reader(loop, b))
    await loop.sock_sendall(a, data)
    print('sendall returned; reader done?', reader.done())
    a.close()
    got = await reader
    print('received', len(got), 'bytes; equal:', got == data)
    b.close()

asyncio.run(main())
