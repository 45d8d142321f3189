# Twin of examples/udp_echo.rs: a UDP echo server and a client on 127.0.0.1 port 0.
import asyncio


class EchoServer(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        print('server got:', data.decode())
        self.transport.sendto(data, addr)


class EchoClient(asyncio.DatagramProtocol):
    def __init__(self, replies):
        self.replies = replies

    def connection_made(self, transport):
        print('client ready')

    def datagram_received(self, data, addr):
        self.replies.put_nowait(data)

    def error_received(self, exc):
        print('error:', exc)

    def connection_lost(self, exc):
        print('client closed')


async def main():
    loop = asyncio.get_running_loop()
    server, _ = await loop.create_datagram_endpoint(
        EchoServer, local_addr=('127.0.0.1', 0))
    port = server.get_extra_info('sockname')[1]
    print('serving')
    replies = asyncio.Queue()
    client, _ = await loop.create_datagram_endpoint(
        lambda: EchoClient(replies), remote_addr=('127.0.0.1', port))
    for text in ['Hello', 'World!', 'bye']:
        client.sendto(text.encode())
        echo = await replies.get()
        print('echo:', echo.decode())
    client.close()
    server.close()
    await asyncio.sleep(0)  # connection_lost runs in the next iteration
    print('closed')

asyncio.run(main())
