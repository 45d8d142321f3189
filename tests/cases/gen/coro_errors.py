# Coroutine objects raise their own errors where a generator's say "generator" (issue #12).
import asyncio


async def sub():
    print("sub runs")
    return 1


async def ignores():
    try:
        await asyncio.sleep(0)
    except GeneratorExit:
        print("ignoring GeneratorExit")
        await asyncio.sleep(0)


async def raises_stop():
    raise StopIteration(3)


async def main():
    c = sub()
    print("first await ->", await c)
    try:
        await c
    except RuntimeError as e:
        print("second await:", type(e).__name__, e)
    for op in ("send", "throw", "close"):
        try:
            if op == "send":
                c.send(None)
            elif op == "throw":
                c.throw(ValueError("x"))
            else:
                print("close ->", c.close())
        except RuntimeError as e:
            print(op, "on a finished coroutine:", type(e).__name__, e)
    c = ignores()
    c.send(None)
    try:
        c.close()
    except RuntimeError as e:
        print("close:", type(e).__name__, e)
    try:
        await raises_stop()
    except RuntimeError as e:
        print("await:", type(e).__name__, e)


asyncio.run(main())


async def awaits_itself():
    print("awaiting itself")
    await me


me = awaits_itself()
try:
    me.send(None)
except ValueError as e:
    print("send:", type(e).__name__, e)
