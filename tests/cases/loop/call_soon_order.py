# call_soon is FIFO; a cancelled handle keeps its place and is skipped; what a callback
# schedules runs in the next iteration, and stays queued if the loop stops first.
# (asyncio-cases.md case 22's topic; test_events.py::test_call_soon)
import asyncio

loop = asyncio.new_event_loop()
calls = []


def cb(name):
    calls.append(name)
    print("run", name)


h1 = loop.call_soon(cb, 'a')
h2 = loop.call_soon(cb, 'b')
h3 = loop.call_soon(cb, 'c')
h2.cancel()
print("cancelled:", h1.cancelled(), h2.cancelled(), h3.cancelled())


def nest():
    print("nest schedules d")
    loop.call_soon(cb, 'd')


loop.call_soon(nest)
loop.call_soon(loop.stop)
loop.run_forever()
print("after the first run:", calls)
loop.call_soon(loop.stop)
loop.run_forever()
print("after the second run:", calls)

results = []


def callback(arg1, arg2):
    results.append((arg1, arg2))
    loop.stop()


loop.call_soon(callback, 'hello', 'world')
loop.run_forever()
print(results)
loop.close()
