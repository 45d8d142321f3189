# After shutdown_default_executor() the loop refuses new work; after close() the closed
# check comes first (base_events.run_in_executor calls _check_closed before
# _check_default_executor).
import asyncio


async def main():
    loop = asyncio.get_running_loop()
    print("before", await loop.run_in_executor(None, lambda: 1))
    await loop.shutdown_default_executor()
    print("shut down")
    try:
        loop.run_in_executor(None, lambda: 2)
    except RuntimeError as e:
        print("RuntimeError", e)
    await loop.shutdown_default_executor()
    print("second shutdown ok")


loop = asyncio.new_event_loop()
loop.run_until_complete(main())
loop.close()
try:
    loop.run_in_executor(None, lambda: 3)
except RuntimeError as e:
    print("after close: RuntimeError", e)
