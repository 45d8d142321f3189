# Where in its iteration a gathering resolves: each child's callback is queued when the child
# finishes, between the callbacks queued around it, and the outer is resolved by the callback
# of the failing child (without return_exceptions) or of the last child to finish. Marker
# callbacks queued before and after print what they see. With return_exceptions, outcomes
# are read (exceptions marked retrieved) by the last callback only.
# Adapted for Rust: gc.collect() frees the gathering's reference cycle; tulip has none.
import asyncio
import gc

loop = asyncio.new_event_loop()


def run_briefly():
    loop.call_soon(loop.stop)
    loop.run_forever()


def marker(name, g):
    loop.call_soon(lambda: print(name, "sees done:", g.done()))


print("-- a failure among successes")
a, b, c, d = (loop.create_future() for _ in range(4))
g = asyncio.gather(a, b, c, d)
g.add_done_callback(lambda _: print("outer callback"))
marker("m1", g)
c.set_result(3)
marker("m2", g)
b.set_exception(ZeroDivisionError("b"))
marker("m3", g)
a.set_result(1)
marker("m4", g)
run_briefly()
print("exception:", repr(g.exception()))
run_briefly()
d.set_result(4)
run_briefly()

print("-- the last child resolves it")
a, b, c = (loop.create_future() for _ in range(3))
g = asyncio.gather(a, b, c)
g.add_done_callback(lambda _: print("outer callback"))
b.set_result(2)
marker("m1", g)
a.set_result(1)
marker("m2", g)
c.set_result(3)
marker("m3", g)
run_briefly()
run_briefly()
print("result:", g.result())

print("-- return_exceptions: only the last one resolves it")
a, b, c = (loop.create_future() for _ in range(3))
g = asyncio.gather(a, b, c, return_exceptions=True)
a.cancel("ca")
marker("m1", g)
b.set_exception(ZeroDivisionError("b"))
marker("m2", g)
run_briefly()
c.set_result(3)
marker("m3", g)
run_briefly()
print("result:", g.result())

print("-- the last child fails")
a, b = loop.create_future(), loop.create_future()
g = asyncio.gather(a, b)
a.set_result(1)
b.set_exception(ZeroDivisionError("last"))
marker("m1", g)
run_briefly()
print("exception:", repr(g.exception()))

loop.set_exception_handler(
    lambda _, ctx: print("exception handler:", ctx["message"], repr(ctx.get("exception"))))
print("-- return_exceptions reads outcomes at the end")
a, b = loop.create_future(), loop.create_future()
g = asyncio.gather(a, b, return_exceptions=True)
a.set_exception(ZeroDivisionError("never read"))
run_briefly()
print("outer done:", g.done())
del a, b, g
gc.collect()
a, b = loop.create_future(), loop.create_future()
g = asyncio.gather(a, b, return_exceptions=True)
a.set_exception(ZeroDivisionError("read"))
run_briefly()
b.set_result(2)
run_briefly()
print("result:", g.result())
del a, b, g
gc.collect()
print("(freed)")

loop.close()
