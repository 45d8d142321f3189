# Exceptions carry a tuple of values as their arguments: repr and str as Python prints them,
# through a task's result; isinstance across the hierarchy asyncio relies on.
import asyncio


async def fail(exc):
    await asyncio.sleep(0)
    raise exc


async def main():
    for exc in [
        Exception("spam", "eggs"),
        Exception(),
        ZeroDivisionError("division by zero"),
        LookupError(3),
        ValueError("x", 2, 1.5, None, True, b"\x00"),
    ]:
        t = asyncio.create_task(fail(exc))
        try:
            await t
        except Exception as e:
            print(f"{e!r} str={str(e)!r}")
    print("CancelledError is an Exception:", issubclass(asyncio.CancelledError, Exception))
    print("BrokenBarrierError is a RuntimeError:",
          issubclass(asyncio.BrokenBarrierError, RuntimeError))
    print("KeyboardInterrupt is an Exception:", issubclass(KeyboardInterrupt, Exception))


asyncio.run(main())
