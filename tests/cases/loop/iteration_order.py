# asyncio-cases.md case 33: within one iteration, the callbacks already queued run first,
# then I/O callbacks, then expired timers. (The Rust port marks iterations by running one
# pre-stopped iteration at a time, which is the same _run_once with timeout 0.)
import asyncio
import socket


class TraceLoop(asyncio.SelectorEventLoop):
    n = 0

    def _run_once(self):
        self.n += 1
        print(f"-- iteration {self.n}")
        super()._run_once()


loop = TraceLoop()
r, w = socket.socketpair()
r.setblocking(False)
w.send(b'z')                                # fd already readable


def on_read():
    print("reader fired (level-triggered, data not consumed)")


loop.add_reader(r.fileno(), on_read)
loop.call_at(loop.time() - 1, print, "expired timer")
loop.call_soon(print, "ready callback")


def stop():
    print("stop")
    loop.remove_reader(r.fileno())
    loop.stop()


loop.call_soon(loop.call_soon, stop)        # stop in iteration 2
loop.run_forever()
r.close()
w.close()
loop.close()
