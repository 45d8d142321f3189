# Case 17 (test_futures.py: initial state, result, exception, cancel), the C Future's
# messages. Rust cannot set an exception *class*, so set_exception gets an instance.
import asyncio

loop = asyncio.new_event_loop()


def attempt(label, fn, *a):
    try:
        r = fn(*a)
        print(f"  {label} -> {r!r}")
    except BaseException as e:
        print(f"  {label} raises {type(e).__name__}({str(e)!r})")


f = loop.create_future()
print("  pending: done", f.done(), "cancelled", f.cancelled())
attempt("result()", f.result)
attempt("exception()", f.exception)
attempt("set_exception(StopIteration)", f.set_exception, StopIteration())
f.set_result(42)
attempt("result()", f.result)
attempt("exception()", f.exception)
attempt("set_result again", f.set_result, 1)
attempt("cancel()", f.cancel)
g = loop.create_future()
g.set_exception(RuntimeError())
attempt("result()", g.result)
h = loop.create_future()
attempt("cancel()", h.cancel)
attempt("cancel() again", h.cancel)
attempt("result()", h.result)
attempt("exception()", h.exception)
attempt("set_result", h.set_result, None)
print("  done", h.done(), "cancelled", h.cancelled())
m = loop.create_future()
m.cancel("why")
attempt("result() with message", m.result)
attempt("result() again", m.result)
loop.close()
