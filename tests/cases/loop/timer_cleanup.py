# asyncio-cases.md case 27: cancelled timers are removed lazily: popped from the head, or
# the heap is rebuilt when it holds more than 100 entries and over half are cancelled; and
# test_base_events.py::test__run_once (a cancelled head is dropped). Not ported: the
# constants line; tulip shows the counts with timer_stats().
import asyncio

loop = asyncio.new_event_loop()


def run_once():
    loop.call_soon(loop.stop)
    loop.run_forever()


def cb():
    pass


loop.call_later(3000, cb)                      # blocks the head
for x in range(2):
    loop.call_later(3600, cb).cancel()         # cancelled, not at head
for x in range(2):
    loop.call_later(100, cb).cancel()          # cancelled, at head
print("before: scheduled", len(loop._scheduled), "cancelled_count", loop._timer_cancelled_count)
run_once()
print("after head-pop: scheduled", len(loop._scheduled), "cancelled_count", loop._timer_cancelled_count)
add_cancel = 51
add_keep = 100 - add_cancel
for x in range(add_keep):
    loop.call_later(3600, cb)
for x in range(add_cancel):
    loop.call_later(3600, cb).cancel()
print("before bulk: scheduled", len(loop._scheduled), "cancelled_count", loop._timer_cancelled_count)
run_once()
print("after bulk: scheduled", len(loop._scheduled), "cancelled_count", loop._timer_cancelled_count,
      "all live:", all(not h.cancelled() for h in loop._scheduled))
h = loop.call_later(10, cb)
h.cancel()
h.cancel()
print("double cancel counted once:", loop._timer_cancelled_count)
loop.close()

loop = asyncio.new_event_loop()
h1 = loop.call_later(5, cb)
h2 = loop.call_later(10, cb)
h1.cancel()
run_once()
print("test__run_once: scheduled", len(loop._scheduled), "cancelled_count", loop._timer_cancelled_count)
loop.close()
