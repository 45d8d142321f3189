# sock_connect to a closed port: ConnectionRefusedError "Connect call failed ...".
import asyncio
import socket


async def main():
    loop = asyncio.get_running_loop()
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    c = socket.socket()
    c.setblocking(False)
    try:
        await loop.sock_connect(c, ('127.0.0.1', port))
    except OSError as e:
        print(type(e).__name__, e.errno, str(e).replace(str(port), 'PORT'))
        print('is ConnectionError:', isinstance(e, ConnectionError))
    c.close()
    try:
        await asyncio.open_connection('127.0.0.1', port)
    except OSError as e:
        print('open_connection:', type(e).__name__, str(e).replace(str(port), 'PORT'))

asyncio.run(main())
