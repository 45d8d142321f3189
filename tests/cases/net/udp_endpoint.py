# create_datagram_endpoint: an echo server and a connected client, the protocol's calls in
# asyncio's order, get_extra_info, close (test_events.py's test_create_datagram_endpoint).
import asyncio

events = {'server': [], 'client': []}


class Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        events['server'].append('connection_made')
        self.transport = transport

    def datagram_received(self, data, addr):
        events['server'].append(f'datagram_received {data!r}')
        self.transport.sendto(data.upper(), addr)

    def connection_lost(self, exc):
        events['server'].append(f'connection_lost {exc}')


class Client(asyncio.DatagramProtocol):
    def __init__(self, done):
        self.done = done
        self.got = 0

    def connection_made(self, transport):
        events['client'].append('connection_made')

    def datagram_received(self, data, addr):
        events['client'].append(f'datagram_received {data!r}')
        self.got += 1
        if self.got == 3:
            self.done.set_result(None)

    def error_received(self, exc):
        events['client'].append(f'error_received {exc!r}')

    def connection_lost(self, exc):
        events['client'].append(f'connection_lost {exc}')


async def main():
    loop = asyncio.get_running_loop()
    server, _ = await loop.create_datagram_endpoint(Echo, local_addr=('127.0.0.1', 0))
    print('after create: server connection_made ran:', events['server'] == ['connection_made'])
    addr = server.get_extra_info('sockname')
    print('server sockname host:', addr[0])
    print('server peername:', server.get_extra_info('peername'))
    done = loop.create_future()
    client, _ = await loop.create_datagram_endpoint(
        lambda: Client(done), remote_addr=('127.0.0.1', addr[1]))
    print('client peername is the server:', client.get_extra_info('peername') == addr)
    print('client sockname host:', client.get_extra_info('sockname')[0])
    client.sendto(b'one')
    client.sendto(b'')  # nothing is sent
    client.sendto(b'two', addr)
    client.sendto(b'three', None)
    try:
        client.sendto(b'x', ('127.0.0.1', 9))
    except ValueError as e:
        print('ValueError:', str(e).replace(str(addr[1]), 'PORT'))
    print('write buffer size:', client.get_write_buffer_size())
    await done
    print('is_closing before close:', client.is_closing())
    client.close()
    print('is_closing after close:', client.is_closing())
    server.close()
    client.sendto(b'after close')
    await asyncio.sleep(0)
    for side in ('server', 'client'):
        for e in events[side]:
            print(side + ':', e)

asyncio.run(main())
