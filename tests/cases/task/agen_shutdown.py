# asyncio.run closes the async generators left unfinished (loop.shutdown_asyncgens); an
# error while closing goes to the exception handler. One per run: asyncio keeps them in a
# WeakSet, whose order is not defined.
import asyncio

keep = []


async def agen():
    try:
        yield 1
        yield 2
    finally:
        print("finally, awaiting")
        await asyncio.sleep(0)
        print("closed")


async def bad():
    try:
        yield 1
    finally:
        raise ValueError("bad close")


def handler(lp, ctx):
    print("handler:", ctx["message"].split(" <")[0], repr(ctx["exception"]))


async def main(make):
    asyncio.get_running_loop().set_exception_handler(handler)
    g = make()
    keep.append(g)
    print("anext ->", await anext(g))
    print("main done")


asyncio.run(main(agen))
print("after run")
asyncio.run(main(bad))
print("after run")
