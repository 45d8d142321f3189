# A closed peer: sock_recv gives b'' (at once, or after waiting); sock_sendall raises.
import asyncio
import socket


async def main():
    loop = asyncio.get_running_loop()
    a, b = socket.socketpair()
    a.setblocking(False)
    loop.call_later(0.01, b.close)
    print('waiting recv at EOF:', await loop.sock_recv(a, 100))
    print('recv after EOF:', await loop.sock_recv(a, 100))
    try:
        await loop.sock_sendall(a, b'x' * 10)
    except OSError as e:
        print('sendall to a closed peer:', type(e).__name__, e)
    a.close()

asyncio.run(main())
