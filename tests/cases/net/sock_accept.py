# sock_accept and sock_connect on 127.0.0.1 port 0; the accepted socket is non-blocking.
import asyncio
import socket


async def main():
    loop = asyncio.get_running_loop()
    lsock = socket.socket()
    lsock.bind(('127.0.0.1', 0))
    lsock.listen(10)
    lsock.setblocking(False)
    port = lsock.getsockname()[1]
    accepting = asyncio.create_task(loop.sock_accept(lsock))
    await asyncio.sleep(0.01)
    print('accept waiting:', not accepting.done())
    c = socket.socket()
    c.setblocking(False)
    await loop.sock_connect(c, ('127.0.0.1', port))
    conn, addr = await accepting
    print('accepted from', addr[0], 'port matches:', addr[1] == c.getsockname()[1])
    print('accepted socket blocking:', conn.getblocking())
    await loop.sock_sendall(c, b'ping')
    print('server got', await loop.sock_recv(conn, 10))
    await loop.sock_sendall(conn, b'pong')
    print('client got', await loop.sock_recv(c, 10))
    c.close()
    print('server sees EOF:', await loop.sock_recv(conn, 10))
    conn.close()
    lsock.close()

asyncio.run(main())
