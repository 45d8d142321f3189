# Case 45 (test_tasks.py: log destroyed pending task): a pending task that can never run
# again is reported. Python finds it with the garbage collector; tulip when the loop closes.
import asyncio
import gc

loop = asyncio.new_event_loop()


def handler(loop_, ctx):
    print("handler:", ctx['message'], "| keys:", sorted(ctx), "| task pending:", not ctx['task'].done())

loop.set_exception_handler(handler)


async def kill_me():
    future = loop.create_future()
    await future  # only reference to the task is future's callback list
    raise Exception("code never reached")

task = loop.create_task(kill_me())
print("all_tasks:", len(asyncio.all_tasks(loop)))
loop.call_soon(loop.stop)
loop.run_forever()
task = None
gc.collect()
loop.close()
print("all_tasks after close:", len(asyncio.all_tasks(loop)))
