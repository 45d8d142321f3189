# Twin of examples/timers.rs: call_later(50 ms, hello), call_later(60 ms, stop).
import asyncio


def hello():
    print("Hello World")


loop = asyncio.new_event_loop()
loop.call_later(0.050, hello)
loop.call_later(0.060, loop.stop)
loop.run_forever()
loop.close()
