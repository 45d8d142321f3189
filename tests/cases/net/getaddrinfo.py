# loop.getaddrinfo: the tuples of numeric addresses (no DNS, so the same on every machine),
# filtered by type; 'localhost' from /etc/hosts resolves to a loopback address.
import asyncio
import socket


async def main():
    loop = asyncio.get_running_loop()
    for info in await loop.getaddrinfo('127.0.0.1', 80, type=socket.SOCK_STREAM):
        print(info)
    for info in await loop.getaddrinfo('::1', 53, type=socket.SOCK_DGRAM):
        print(info)
    infos = await loop.getaddrinfo('127.0.0.1', 8080)
    print(sorted(i[1] for i in infos))
    infos = await loop.getaddrinfo('localhost', 80, type=socket.SOCK_STREAM)
    print('localhost is loopback:', all(i[4][0] in ('127.0.0.1', '::1') for i in infos))

asyncio.run(main())
