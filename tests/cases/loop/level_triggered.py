# add_reader is level-triggered: a reader that leaves data unread is called again in the
# next iteration (asyncio-semantics.md §1.2, "readiness").
import asyncio
import socket

loop = asyncio.new_event_loop()
r, w = socket.socketpair()
r.setblocking(False)
w.send(b'0123456789')
calls = 0


def reader():
    global calls
    calls += 1
    print("reader call", calls, "reads", r.recv(2))
    if calls == 3:
        loop.remove_reader(r)
        loop.stop()


loop.add_reader(r, reader)
loop.run_forever()
print("left unread:", r.recv(100))
loop.close()
r.close()
w.close()
