# test_base_events.py::test_set_exc_handler_broken: a handler that fails is reported by the
# default handler as 'Unhandled error in exception handler', with the original context.
import asyncio
import logging

loop = asyncio.new_event_loop()


class Capture(logging.Handler):
    def emit(self, record):
        lines = record.getMessage().split('\n')
        print("log", record.levelname, "|", lines[0],
              "| keys:", [line.split(':')[0] for line in lines[1:]],
              "| exception logged:", bool(record.exc_info and record.exc_info[0]))


log = logging.getLogger('asyncio')
log.addHandler(Capture())
log.propagate = False


def zero_error():
    1 / 0


def handler(lp, ctx):
    print("broken handler called for:", 'zero_error' in ctx['message'])
    raise AttributeError('spam')


loop.set_exception_handler(handler)
loop.call_soon(zero_error)
loop.call_soon(print, "the loop goes on")
loop.call_soon(loop.stop)
loop.run_forever()
loop.close()
