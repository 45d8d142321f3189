# Case 37 (test_tasks.py: cancel message getter, cancel before the first step): the message
# reaches CancelledError; a task cancelled before its first step never runs its body; the
# second result() of a cancelled task loses the message.
import asyncio

for cancel_args in [(), ('my message',)]:
    loop = asyncio.new_event_loop()

    async def sleep():
        await asyncio.sleep(10)

    async def coro():
        task = loop.create_task(sleep())
        await asyncio.sleep(0)
        task.cancel(*cancel_args)
        await task
    try:
        loop.run_until_complete(loop.create_task(coro()))
    except asyncio.CancelledError as exc:
        print(cancel_args, "->", repr(exc))
    loop.close()

loop = asyncio.new_event_loop()
started = []


async def body():
    started.append(True)

t = loop.create_task(body())
t.cancel('before start')
try:
    loop.run_until_complete(t)
except asyncio.CancelledError as e:
    print("cancel before first step: body ran?", bool(started), repr(e))


async def sleeper():
    await asyncio.sleep(10)


async def main():
    t = loop.create_task(sleeper())
    await asyncio.sleep(0)
    t.cancel('m')
    try:
        await t
    except asyncio.CancelledError:
        pass
    for i in range(2):
        try:
            t.result()
        except asyncio.CancelledError as e:
            print("result() call", i, "->", repr(e))

loop.run_until_complete(loop.create_task(main()))
loop.close()
