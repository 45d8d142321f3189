# Implicit exception context (__context__): an exception raised while the body handles one
# that was delivered into it (throw, close's GeneratorExit, a task's cancellation).
import asyncio
import traceback


def show(e):
    return f"{e!r} context={e.__context__!r} cause={e.__cause__!r}"


def catcher():
    try:
        yield 1
    except ValueError:
        raise KeyError("k")


g = catcher()
next(g)
try:
    g.throw(ValueError("v"))
except KeyError as e:
    print("throw:", show(e))
    print("".join(traceback.format_exception_only(type(e.__context__), e.__context__)).strip())


def closer():
    try:
        yield 1
    except GeneratorExit:
        raise RuntimeError("cleanup failed")


g = closer()
next(g)
try:
    g.close()
except RuntimeError as e:
    print("close:", show(e))


def reraiser():
    try:
        yield 1
    except ValueError:
        raise


g = reraiser()
next(g)
try:
    g.throw(ValueError("same"))
except ValueError as e:
    print("re-raise:", show(e))


def chained():
    try:
        yield 1
    except ValueError as exc:
        raise TimeoutError() from exc


g = chained()
next(g)
try:
    g.throw(ValueError("v"))
except TimeoutError as e:
    print("from:", show(e))


def after_yield():
    try:
        yield 1
    except ValueError:
        print("handled")
    yield 2
    raise KeyError("later")


g = after_yield()
next(g)
print("yielded", g.throw(ValueError("v")))
try:
    next(g)
except KeyError as e:
    print("later:", show(e))


async def main():
    async def worker():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            raise RuntimeError("cancelled badly")

    t = asyncio.create_task(worker())
    await asyncio.sleep(0)
    t.cancel("stop")
    try:
        await t
    except RuntimeError as e:
        print("task:", show(e))

    async def thrown():
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            raise RuntimeError("thrown in")

    t = asyncio.create_task(thrown())
    await asyncio.sleep(0)
    t.cancel()
    try:
        await t
    except RuntimeError as e:
        print("bare yield:", show(e))


asyncio.run(main())
