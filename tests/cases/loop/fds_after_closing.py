# test_events.py::test_remove_fds_after_closing, test_add_fds_after_closing; removing an fd
# that was never added; an invalid fd.
import asyncio
import socket

loop = asyncio.new_event_loop()
r, w = socket.socketpair()


def cb():
    pass


loop.add_reader(r, cb)
loop.add_writer(w, cb)
loop.close()
print("remove_reader after close:", loop.remove_reader(r))
print("remove_writer after close:", loop.remove_writer(w))
for name in ("add_reader", "add_writer"):
    try:
        getattr(loop, name)(r, cb)
    except RuntimeError as e:
        print(name, "after close: RuntimeError:", e)
loop = asyncio.new_event_loop()
print("remove_reader of an fd never added:", loop.remove_reader(r))
print("remove_writer of an fd never added:", loop.remove_writer(r))
try:
    loop.add_reader(-1, cb)
except ValueError as e:
    print("add_reader(-1): ValueError:", e)
loop.close()
r.close()
w.close()
