# Debug mode's slow-callback report (issue #11): a callback or timer callback that runs longer
# than slow_callback_duration is logged as "Executing <Handle ...> took 0.040 seconds",
# at warning level; fast ones are not. Where a Python function is defined and where a handle
# was created (FILE:LINE) and the time taken are left out: they differ from run to run.
import asyncio
import logging
import re
import time


def norm(s):
    s = re.sub(r' at [^ >]+:\d+', '', s)
    s = re.sub(r'when=\S+', 'when=T', s)
    return re.sub(r'took \d+\.\d{3} seconds', 'took N.NNN seconds', s)


class Capture(logging.Handler):
    def emit(self, record):
        print(record.levelname, norm(record.getMessage()))


log = logging.getLogger('asyncio')
handler = Capture()
handler.setLevel(logging.WARNING)
log.addHandler(handler)
log.propagate = False

loop = asyncio.new_event_loop()
loop.set_debug(True)
loop.slow_callback_duration = 0.02


def slow():
    time.sleep(0.04)


loop.call_soon(slow)
loop.call_soon(lambda: None)
loop.call_later(0, slow)
loop.call_later(0.05, loop.stop)
loop.run_forever()
loop.close()
print("done")
