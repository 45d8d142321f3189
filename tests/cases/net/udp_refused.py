# A connected datagram endpoint whose peer has no socket: Linux answers with ICMP port
# unreachable and the next receive fails, which asyncio hands to error_received; the
# transport stays open.
import asyncio
import socket


class Client(asyncio.DatagramProtocol):
    def __init__(self, errors):
        self.errors = errors

    def connection_made(self, transport):
        print('connection_made')

    def datagram_received(self, data, addr):
        print('datagram_received', data)

    def error_received(self, exc):
        print('error_received', repr(exc), type(exc).__name__)
        self.errors.put_nowait(exc)

    def connection_lost(self, exc):
        print('connection_lost', exc)


async def main():
    loop = asyncio.get_running_loop()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    errors = asyncio.Queue()
    t, p = await loop.create_datagram_endpoint(
        lambda: Client(errors), remote_addr=('127.0.0.1', port))
    t.sendto(b'hello')
    await errors.get()
    print('still open:', not t.is_closing())
    t.sendto(b'again')
    await errors.get()
    t.close()
    await asyncio.sleep(0)
    print('closed')

asyncio.run(main())
