# test_base_events.py::test_single_selecter_event_callback_after_stopping (bpo-25593): a
# stopped loop must not run an I/O callback twice. A reader that consumes its data runs once
# over two single-iteration runs.
import asyncio
import socket

loop = asyncio.new_event_loop()
r, w = socket.socketpair()
r.setblocking(False)
calls = 0


def reader():
    global calls
    calls += 1
    print("reader got", r.recv(10))


loop.add_reader(r, reader)
w.send(b'x')
for i in range(1, 3):
    loop.call_soon(loop.stop)
    loop.run_forever()
    print(f"run {i}/2: calls={calls}")
loop.remove_reader(r)
loop.close()
r.close()
w.close()
