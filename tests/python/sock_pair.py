# Twin of examples/sock_pair.rs: loop.sock_sendall/sock_recv over a socketpair.
import asyncio
import socket


async def main():
    loop = asyncio.get_running_loop()
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    await loop.sock_sendall(a, b'ping')
    print('b received', await loop.sock_recv(b, 100))
    await loop.sock_sendall(b, b'pong')
    print('a received', await loop.sock_recv(a, 100))
    a.close()
    print('b at EOF', await loop.sock_recv(b, 100))
    b.close()

asyncio.run(main())
