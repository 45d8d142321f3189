# Case 21 (test_futures.py: exception never retrieved): a failed future collected without
# anyone reading its exception is reported to the exception handler. (Rust reports on drop.)
import asyncio
import gc

loop = asyncio.new_event_loop()


def handler(loop, ctx):
    print("handler:", ctx['message'], "| exception:", repr(ctx.get('exception')),
          "| keys:", sorted(ctx))


loop.set_exception_handler(handler)
f = loop.create_future()
f.set_exception(ValueError('unseen'))
del f
gc.collect()
f = loop.create_future()
f.set_exception(ValueError('seen'))
f.exception()
del f
gc.collect()
print("(retrieved via exception(): no report)")
f = loop.create_future()
f.set_result(1)
del f
gc.collect()
print("(result set: no report)")


async def boom():
    raise ZeroDivisionError('task')

t = loop.create_task(boom())
loop.call_soon(loop.stop)
loop.run_forever()
loop.call_soon(loop.stop)
loop.run_forever()
print("task done:", t.done())
del t
gc.collect()
loop.close()
