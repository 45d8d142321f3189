# test_events.py::test_call_later; test_base_events.py::test_call_later, test_time_and_call_at
# (only the lower bound: a timer never fires before its deadline).
import asyncio

loop = asyncio.new_event_loop()
results = []


def callback(arg):
    results.append(arg)
    loop.stop()


h = loop.call_later(0.1, callback, 'hello world')
print(type(h).__name__)
loop.run_forever()
print(results)

fired = []
t0 = loop.time()
when = t0 + 0.05
h = loop.call_at(when, lambda: (fired.append(loop.time()), loop.stop()))
print("when() is the deadline:", h.when() == when)
loop.run_forever()
print("fired:", len(fired), "| not before its deadline:", fired[0] >= when)
loop.close()
