# Async generators (PEP 525, issue #12): a ticker consumed by a task, a pipeline of two,
# asend/athrow/aclose, and asyncio's errors.
import asyncio


async def ticker(n):
    try:
        for i in range(n):
            await asyncio.sleep(0)
            x = yield i
            if x is not None:
                print("ticker got", x)
    finally:
        print("ticker finally")


async def doubled(source):
    async for x in source:
        yield x * 2


async def main():
    async for i in ticker(3):
        print("tick", i)
    print([x async for x in doubled(ticker(3))])

    t = ticker(5)
    print("anext ->", await anext(t))
    print("asend ->", await t.asend("hello"))
    try:
        await t.athrow(ValueError("stop"))
    except ValueError as e:
        print("athrow raised", repr(e))
    for name, call in (("anext", lambda: anext(t)), ("athrow", lambda: t.athrow(ValueError("x"))),
                       ("aclose", lambda: t.aclose())):
        try:
            print(name, "->", await call())
        except StopAsyncIteration as e:
            print(name, "raised", repr(e))

    t = ticker(5)
    print("anext ->", await anext(t))
    print("aclose ->", await t.aclose())

    t = ticker(5)
    await anext(t)
    busy = asyncio.ensure_future(anext(t))
    await asyncio.sleep(0)
    for name, call in (("anext", lambda: anext(t)), ("asend", lambda: t.asend(None)),
                       ("athrow", lambda: t.athrow(ValueError("x"))), ("aclose", lambda: t.aclose())):
        try:
            await call()
        except RuntimeError as e:
            print(name, "raised", type(e).__name__, e)
    print("busy ->", await busy)
    await t.aclose()

    async def ignores():
        try:
            yield 1
        except GeneratorExit:
            yield 2

    g = ignores()
    await anext(g)
    try:
        await g.aclose()
    except RuntimeError as e:
        print("aclose raised", type(e).__name__, e)

    async def raises(exc):
        yield 1
        raise exc

    for exc in (StopAsyncIteration, StopIteration):
        g = raises(exc)
        await anext(g)
        try:
            await anext(g)
        except RuntimeError as e:
            print("anext raised", type(e).__name__, e)

    t = ticker(5)
    try:
        await t.asend(1)
    except TypeError as e:
        print("asend raised", type(e).__name__, e)
    try:
        await t.athrow(KeyError("early"))
    except KeyError as e:
        print("athrow before start raised", repr(e))
    try:
        await anext(t)
    except StopAsyncIteration:
        print("then anext raised StopAsyncIteration")


asyncio.run(main())
