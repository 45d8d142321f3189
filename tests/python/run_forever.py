# Twin of examples/run_forever.rs.
import asyncio


def hello():
    print("Hello World")


loop = asyncio.new_event_loop()
loop.call_soon(hello)
loop.call_soon(loop.stop)
loop.run_forever()
print("stopped")
loop.close()
