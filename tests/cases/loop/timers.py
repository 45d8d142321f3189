# asyncio-cases.md case 23: deadline order; expired timers run after the callbacks that were
# already ready. Not ported: the None checks (a Duration or an Instant cannot be None).
# Equal deadlines: asyncio documents their order as undefined (CPython's heap gives
# [0, 2, 6, 5, 7, 4, 1, 3]; tulip runs them FIFO), so both sides print only that all ran.
import asyncio

loop = asyncio.new_event_loop()
calls = []
loop.call_later(-1, calls.append, 'a')
loop.call_later(-2, calls.append, 'b')
loop.call_soon(loop.stop)
loop.run_forever()
print(calls)
calls.clear()
loop.call_later(0, calls.append, 'later(0)')
loop.call_soon(calls.append, 'soon')
loop.call_at(loop.time() - 5, calls.append, 'at(past)')
loop.call_soon(loop.stop)
loop.run_forever()
print(calls, "(expired timers run after already-ready callbacks, in deadline order)")
out = []
when = loop.time()
for i in range(8):
    loop.call_at(when, out.append, i)
loop.call_soon(loop.stop)
loop.run_forever()
print("equal deadlines, all ran:", sorted(out))
loop.close()
