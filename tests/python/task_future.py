# The Python twin of examples/task_future.rs: the talk's Task waking up when the
# future it yielded is done; the future is resolved by a loop callback.
import asyncio


class Task:
    def __init__(self, coro):
        self.coro = coro

    def step(self):
        try:
            result = next(self.coro)
        except StopIteration:
            return
        if isinstance(result, asyncio.Future):
            result.add_done_callback(self.wakeup)

    def wakeup(self, fut):
        self.step()


def coroutine(future):
    print("wait future")
    yield from future
    print("future result", future.result())


loop = asyncio.new_event_loop()
future = loop.create_future()
task = Task(coroutine(future))
task.step()  # print "wait future"
loop.call_soon(future.set_result, 5)
loop.run_until_complete(future)  # the wake-up prints "future result 5"
loop.close()
