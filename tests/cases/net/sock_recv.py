# loop.sock_recv before and after the data arrives, sock_recv_into (test_sock_lowlevel.py).
import asyncio
import socket


async def main():
    loop = asyncio.get_running_loop()
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    b.send(b'early')
    print('data already there:', await loop.sock_recv(a, 100))
    loop.call_later(0.01, b.send, b'late')
    print('data arrives later:', await loop.sock_recv(a, 100))
    b.send(b'xyz123')
    buf = bytearray(3)
    n = await loop.sock_recv_into(a, buf)
    print('recv_into:', n, bytes(buf))
    print('the rest:', await loop.sock_recv(a, 100))
    print('reader left behind:', loop.remove_reader(a))
    a.close()
    b.close()

asyncio.run(main())
