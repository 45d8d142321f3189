# Handles: cancel() is idempotent and has no effect once the callback ran; a callback can
# cancel a later one of its own batch; a timer cancelled after it became due does not run;
# when() (test_events.py::HandleTests::test_handle, TimerTests::test_when).
import asyncio

loop = asyncio.new_event_loop()


def run_once():
    loop.call_soon(loop.stop)
    loop.run_forever()


out = []
h = loop.call_soon(out.append, 'x')
print(type(h).__name__, "cancelled:", h.cancelled())
h.cancel()
h.cancel()
print("cancelled twice:", h.cancelled())
run_once()
print("ran:", out)
h = loop.call_soon(out.append, 'y')
run_once()
h.cancel()
print("cancel after it ran:", out, h.cancelled())

later = None


def first():
    print("first cancels later")
    later.cancel()


loop.call_soon(first)
later = loop.call_soon(print, "later (must not run)")
loop.call_soon(print, "third")
run_once()

t = loop.call_at(loop.time() - 1, print, "due timer (must not run)")


def cancel_t():
    print("a ready callback cancels the due timer")
    t.cancel()


loop.call_soon(cancel_t)
run_once()
print("timer cancelled:", t.cancelled())
run_once()

when = loop.time() + 10
th = loop.call_at(when, print)
print(type(th).__name__, "when() is the deadline:", th.when() == when)
th.cancel()
loop.close()
