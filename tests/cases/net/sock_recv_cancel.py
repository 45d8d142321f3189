# A cancelled sock_recv leaves no reader behind; the socket works afterwards.
import asyncio
import socket


async def main():
    loop = asyncio.get_running_loop()
    a, b = socket.socketpair()
    a.setblocking(False)
    t = asyncio.create_task(loop.sock_recv(a, 100))
    await asyncio.sleep(0.01)
    print('waiting:', not t.done())
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        print('recv cancelled:', t.cancelled())
    print('reader left behind:', loop.remove_reader(a))
    b.send(b'after')
    print('next recv:', await loop.sock_recv(a, 100))
    a.close()
    b.close()

asyncio.run(main())
