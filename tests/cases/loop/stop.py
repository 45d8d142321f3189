# stop() only sets a flag: the batch finishes, what it scheduled stays queued
# (asyncio-semantics.md R5, case 24's topic); stopped before run_forever: exactly one
# iteration, even with a timer far away (test_base_events.py::test_run_forever_pre_stopped,
# test_run_once); the flag is reset when run_forever returns.
import asyncio

loop = asyncio.new_event_loop()


def cb(name):
    print("run", name)


def stopper():
    print("stop() called")
    loop.stop()
    loop.call_soon(cb, 'scheduled after stop')


loop.call_soon(cb, 'a')
loop.call_soon(stopper)
loop.call_soon(cb, 'b (same batch: still runs)')
loop.run_forever()
print("run_forever returned; running:", loop.is_running())
print("the leftover runs in the next run_forever:")
loop.call_soon(loop.stop)
loop.run_forever()

loop.call_soon(lambda: (print("iteration 1"), loop.call_soon(cb, "iteration 2")))
loop.stop()
loop.run_forever()
print("pre-stopped run returned after one iteration")
h = loop.call_later(3600, cb, "never")
loop.stop()
loop.run_forever()
print("a timer an hour away does not block a pre-stopped run")
h.cancel()

n = 0


def tick():
    global n
    n += 1
    if n < 3:
        loop.call_soon(tick)
    else:
        loop.stop()


loop.call_soon(tick)
loop.run_forever()
print("the flag was reset: ticks =", n)
loop.close()
