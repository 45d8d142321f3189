# create_datagram_endpoint's errors: no address at all, a port already bound
# is in use; close and abort twice.
import asyncio


async def main():
    loop = asyncio.get_running_loop()
    try:
        await loop.create_datagram_endpoint(asyncio.DatagramProtocol)
    except ValueError as e:
        print('ValueError:', e)
    t, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=('127.0.0.1', 0))
    port = t.get_extra_info('sockname')[1]
    try:
        await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=('127.0.0.1', port))
    except OSError as e:
        print(type(e).__name__, e.errno, e.strerror)
    t.close()
    t.close()
    t.abort()
    print('closing:', t.is_closing())
    await asyncio.sleep(0)

asyncio.run(main())
