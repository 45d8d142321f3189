# Case 47 (test_tasks.py: GatherTestsBase.test_one_exception, test_return_exceptions;
# FutureGatherTests.test_one_cancellation, test_result_exception_one_cancellation;
# CoroutineGatherTests.test_duplicate_coroutines, test_constructor_heterogenous_futures):
# argument order, first exception, return_exceptions, a cancelled child, duplicates, loops.
# Adapted for Rust: the duplicated child is a task made beforehand (Rust has no coroutine
# object to pass twice; asyncio wraps it in one task anyway), and `is` compares errors.
import asyncio

loop = asyncio.new_event_loop()
other = asyncio.new_event_loop()


def run_briefly():
    loop.call_soon(loop.stop)
    loop.run_forever()


a, b, c = (loop.create_future() for _ in range(3))
g = asyncio.gather(a, b, c)
b.set_result(1); a.set_result(2); run_briefly()
print("partial done:", g.done())
c.set_result(3); run_briefly()
print("result in argument order:", g.result())

a, b, c, d, e = (loop.create_future() for _ in range(5))
g = asyncio.gather(a, b, c, d, e)
exc = ZeroDivisionError()
a.set_result(1); b.set_exception(exc); run_briefly()
print("first exception propagates immediately:", g.done(), g.exception() is exc,
      "c still pending:", not c.done())
c.set_result(3); d.cancel(); e.set_exception(RuntimeError()); e.exception()

a, b, c, d = (loop.create_future() for _ in range(4))
g = asyncio.gather(a, b, c, d, return_exceptions=True)
exc, exc2 = ZeroDivisionError(), RuntimeError()
b.set_result(1); c.set_exception(exc); a.set_result(3); run_briefly()
print("return_exceptions waits for all:", g.done())
d.set_exception(exc2); run_briefly()
print(g.result())

a, b = loop.create_future(), loop.create_future()
g = asyncio.gather(a, b)
a.set_result(1); b.cancel(); run_briefly()
print("child cancelled -> outer not cancelled:", g.cancelled(), "exception:", repr(g.exception()))

a, b = loop.create_future(), loop.create_future()
g = asyncio.gather(a, b, return_exceptions=True)
a.cancel('why'); b.set_result(2)
print(loop.run_until_complete(g))


async def coro(s):
    return s


async def dup():
    c = asyncio.ensure_future(coro('abc'))
    return await asyncio.gather(c, c, asyncio.ensure_future(coro('def')), c)

print("duplicates:", loop.run_until_complete(dup()))

try:
    asyncio.gather(loop.create_future(), other.create_future())
except ValueError as e:
    print("ValueError:", e)


async def empty():
    return await asyncio.gather()

print("empty gather:", loop.run_until_complete(empty()))
loop.close(); other.close()
