# add_reader on an fd that has a reader replaces it (the old one never runs again); removing
# the reader keeps the writer; a reader may replace itself (selector_events.add_reader).
import asyncio
import socket

loop = asyncio.new_event_loop()
safety = loop.call_later(30, loop.stop)
a, b = socket.socketpair()
a.setblocking(False)


def first():
    print("first reader (replaced: must not run)")


def second():
    print("second reader got", a.recv(10))
    print("remove_reader ->", loop.remove_reader(a))
    print("remove_reader again ->", loop.remove_reader(a))
    loop.stop()


loop.add_reader(a, first)
loop.add_reader(a, second)
b.send(b'hi')
loop.run_forever()


def writer():
    print("writer still registered")
    print("remove_writer ->", loop.remove_writer(a))
    loop.stop()


loop.add_reader(a, first)
loop.add_writer(a, writer)
print("remove_reader ->", loop.remove_reader(a))
loop.run_forever()


def r1():
    print("r1 replaces itself with r2 and leaves the data")
    loop.add_reader(a, r2)


def r2():
    print("r2 got", a.recv(10))
    loop.remove_reader(a)
    loop.stop()


b.send(b'yo')
loop.add_reader(a, r1)
loop.run_forever()
safety.cancel()
loop.close()
a.close()
b.close()
