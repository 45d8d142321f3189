# A callback that fails goes to the exception handler and the batch goes on (R12, case 26's
# topic); test_base_events.py::test_set_exc_handler_custom, test_default_exc_handler_callback.
# The Python callback raises ZeroDivisionError, the Rust one panics (Panic); Python's message
# adds the source location, tulip's the type path: both print what they share.
import asyncio
import logging

loop = asyncio.new_event_loop()


def zero_error():
    print("zero_error runs")
    1 / 0


def handler(lp, ctx):
    print("handler: same loop:", lp is loop)
    print("  callback named:", ctx['message'].startswith('Exception in callback ')
          and 'zero_error' in ctx['message'])
    print("  keys:", sorted(ctx))
    print("  has exception:", ctx.get('exception') is not None)


loop.set_exception_handler(handler)
loop.call_soon(print, "before")
loop.call_soon(zero_error)
loop.call_soon(print, "after: the batch goes on")
loop.call_soon(loop.stop)
loop.run_forever()
print("direct call:")
loop.call_exception_handler({'message': 'custom', 'future': '<Future pending>'})


class Capture(logging.Handler):
    def emit(self, record):
        lines = record.getMessage().split('\n')
        print("log", record.levelname, "| first line:", lines[0].startswith('Exception in callback '),
              "| keys:", [line.split(':')[0] for line in lines[1:]],
              "| exception logged:", bool(record.exc_info and record.exc_info[0]))


log = logging.getLogger('asyncio')
log.addHandler(Capture())
log.propagate = False
loop.set_exception_handler(None)
print("default handler:")
loop.call_soon(zero_error)
loop.call_soon(print, "after")
loop.call_soon(loop.stop)
loop.run_forever()
loop.close()
