# Twin of examples/selector.rs: a reader on one end of a socketpair.
import asyncio
import socket

rsock, wsock = socket.socketpair()
rsock.setblocking(False)
loop = asyncio.new_event_loop()


def reader():
    print("Received:", rsock.recv(100))
    loop.remove_reader(rsock)
    loop.stop()


loop.add_reader(rsock, reader)
wsock.send(b'abc')
loop.run_forever()
loop.close()
rsock.close()
wsock.close()
