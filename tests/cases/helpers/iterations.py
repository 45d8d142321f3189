# R11: what the helpers cost in loop iterations. Children done in iteration k: gather's
# callbacks resolve the outer in k+1 and its awaiter resumes in k+2; wait, as_completed and
# shield cost the same. A ticker callback that re-schedules itself marks the iterations.
# Adapted for Rust: children are tasks made explicitly.
import asyncio

loop = asyncio.new_event_loop()
n = 0


def tick():
    global n
    n += 1
    print(f"-- iteration {n}")
    if n < 40:
        loop.call_soon(tick)


async def child(x):
    print(f"child {x} done")
    return x


async def main():
    print("gather")
    r = await asyncio.gather(loop.create_task(child(1)), loop.create_task(child(2)))
    print("gather ->", r)
    print("gather, return_exceptions")
    r = await asyncio.gather(loop.create_task(child(3)), return_exceptions=True)
    print("gather ->", r)
    print("gather of a done future")
    done = loop.create_future()
    done.set_result(4)
    r = await asyncio.gather(done)
    print("gather ->", r)
    print("shield")
    r = await asyncio.shield(loop.create_task(child(5)))
    print("shield ->", r)
    print("wait")
    d, p = await asyncio.wait([loop.create_task(child(6))])
    print("wait ->", [t.result() for t in d], len(p))
    print("as_completed")
    for f in asyncio.as_completed([loop.create_task(child(7)), loop.create_task(child(8))]):
        print("as_completed ->", await f)
    print("main returns")

loop.call_soon(tick)
loop.run_until_complete(main())
loop.close()
