# loop.sock_sendto / sock_recvfrom / sock_recvfrom_into on plain UDP sockets: a datagram
# already queued, one that arrives later, one cut to the size asked (test_sock_lowlevel.py).
import asyncio
import socket


async def main():
    loop = asyncio.get_running_loop()
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for s in (a, b):
        s.setblocking(False)
        s.bind(('127.0.0.1', 0))
    addr_a, addr_b = a.getsockname(), b.getsockname()
    n = await loop.sock_sendto(b, b'early', addr_a)
    print('sent:', n)
    data, frm = await loop.sock_recvfrom(a, 100)
    print('queued:', data, frm == addr_b)
    loop.call_later(0.01, b.sendto, b'late', addr_a)
    data, frm = await loop.sock_recvfrom(a, 100)
    print('arrives later:', data, frm == addr_b)
    await loop.sock_sendto(b, b'0123456789', addr_a)
    await loop.sock_sendto(b, b'next', addr_a)
    data, frm = await loop.sock_recvfrom(a, 4)
    print('cut to 4:', data)
    data, frm = await loop.sock_recvfrom(a, 100)
    print('the next one whole:', data)
    await loop.sock_sendto(a, b'into', addr_b)
    buf = bytearray(10)
    nbytes, frm = await loop.sock_recvfrom_into(b, buf)
    print('recvfrom_into:', nbytes, bytes(buf[:nbytes]), frm == addr_a)
    print('reader left behind:', loop.remove_reader(a))
    a.close()
    b.close()

asyncio.run(main())
