# Case 41 (test_tasks.py: task awaits on itself, other loop future, set methods): misuse
# errors thrown into the task at its next step. Reprs are cut at "<Task".
import asyncio
import re

loop = asyncio.new_event_loop()


def short(e):
    return type(e).__name__ + ": " + re.sub(r"<Task .*", "<Task ...>", str(e))[:70]


async def bare_yield():
    await asyncio.sleep(0)
    print("bare yield (None) just gives up one iteration")

loop.run_until_complete(loop.create_task(bare_yield()))


async def awaits_itself():
    await task

task = loop.create_task(awaits_itself())
try:
    loop.run_until_complete(task)
except RuntimeError as e:
    print(short(e))
other = asyncio.new_event_loop()


async def other_loop():
    await other.create_future()

try:
    loop.run_until_complete(loop.create_task(other_loop()))
except RuntimeError as e:
    print(re.sub(r"<Task .*?> got Future <Future .*?>", "<Task ...> got Future <Future ...>", str(e)))
other.close()


async def notmuch():
    return 'ko'

t = loop.create_task(notmuch())
for m in (t.set_result, t.set_exception):
    try:
        m(None)
    except RuntimeError as e:
        print(short(e))
print(loop.run_until_complete(t))
loop.close()
