# call_soon_threadsafe: from the loop's thread it is FIFO with call_soon
# (test_call_soon_threadsafe_same_thread); from another thread it wakes a loop that waits in
# poll (test_call_soon_threadsafe); closed loop: RuntimeError (test_close). asyncio-cases.md
# case 31, the loop's part (executors are not ported).
import asyncio
import threading

loop = asyncio.new_event_loop()
results = []


def callback(arg):
    results.append(arg)
    if len(results) >= 2:
        loop.stop()


loop.call_soon_threadsafe(callback, 'hello')
loop.call_soon(callback, 'world')
loop.run_forever()
print(results)

results.clear()
started = threading.Event()


def run_in_thread():
    started.wait()
    loop.call_soon_threadsafe(callback, 'from thread')
    loop.call_soon_threadsafe(callback, 'second')


t = threading.Thread(target=run_in_thread)
t.start()
loop.call_soon(started.set)
safety = loop.call_later(30, loop.stop)
loop.run_forever()
t.join()
safety.cancel()
print(results)
loop.close()
try:
    loop.call_soon_threadsafe(print)
except RuntimeError as e:
    print("closed loop: RuntimeError:", e)
