# Readers and writers: test_events.py::test_reader_callback, test_writer_callback; with a
# reader and a writer on one ready fd, READ runs before WRITE (selector_events._process_events).
import asyncio
import socket

loop = asyncio.new_event_loop()
safety = loop.call_later(30, loop.stop)
r, w = socket.socketpair()
r.setblocking(False)


def reader():
    try:
        data = r.recv(1024)
    except BlockingIOError:
        return
    if data:
        print("read", data)
        loop.stop()
    else:
        print("EOF: remove_reader ->", loop.remove_reader(r.fileno()))
        print("remove_reader again ->", loop.remove_reader(r.fileno()))
        loop.stop()


loop.add_reader(r.fileno(), reader)
loop.call_soon(w.send, b'abc')
loop.run_forever()
loop.call_soon(w.send, b'def')
loop.run_forever()
loop.call_soon(w.close)
loop.run_forever()
r.close()

r, w = socket.socketpair()
w.setblocking(False)


def writer(data):
    print("writer sent", w.send(data))
    loop.stop()


loop.add_writer(w.fileno(), writer, b'x' * 1024)
loop.run_forever()
print("remove_writer ->", loop.remove_writer(w.fileno()), loop.remove_writer(w.fileno()))
w.close()
print("read back", len(r.recv(2048)), "bytes")
r.close()

a, b = socket.socketpair()
a.setblocking(False)
b.send(b'q')
order = []


def on_read():
    order.append('read')
    a.recv(10)
    loop.remove_reader(a)


def on_write():
    order.append('write')
    loop.remove_writer(a)
    loop.stop()


loop.add_writer(a, on_write)
loop.add_reader(a, on_read)
loop.run_forever()
print("one fd, both ready:", order)
a.close()
b.close()
safety.cancel()
loop.close()
