# The Python twin of examples/future.rs.
import asyncio

loop = asyncio.new_event_loop()
fut = loop.create_future()
fut.add_done_callback(lambda f: print("callback got", f.result()))
loop.call_soon(fut.set_result, 42)
print("result", loop.run_until_complete(fut))
loop.close()
