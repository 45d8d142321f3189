# Misuse errors of the loop: asyncio-cases.md case 25 (the loop's part: run_until_complete
# belongs to the futures layer), test_events.py::test_close, test_close_running_event_loop,
# test_base_events.py::test_running_loop_within_a_loop.
import asyncio

loop = asyncio.new_event_loop()


def attempt(label, fn, *a):
    try:
        print(label, "->", fn(*a))
    except BaseException as e:
        print(label, "raises", type(e).__name__ + ":", e)


def inside():
    attempt("nested run_forever", loop.run_forever)
    attempt("close inside running loop", loop.close)
    other = asyncio.new_event_loop()
    attempt("another loop's run_forever", other.run_forever)
    other.close()
    print("running:", loop.is_running(),
          "| get_running_loop() is loop:", asyncio.get_running_loop() is loop)
    loop.stop()


print("running before:", loop.is_running())
loop.call_soon(inside)
loop.run_forever()
print("running after:", loop.is_running())
attempt("get_running_loop outside", asyncio.get_running_loop)
attempt("close", loop.close)
attempt("close again", loop.close)
print("closed:", loop.is_closed())
attempt("run_forever on closed", loop.run_forever)
attempt("call_soon on closed", loop.call_soon, print)
attempt("call_later on closed", loop.call_later, 1, print)
attempt("call_at on closed", loop.call_at, loop.time(), print)
attempt("call_soon_threadsafe on closed", loop.call_soon_threadsafe, print)
attempt("stop on closed", loop.stop)
