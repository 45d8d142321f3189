# asyncio-cases.md case 15 (test_send_non_none_to_new_gen, test_stopiteration_error,
# test_return_stopiteration, "generator ignored GeneratorExit"). tulip's RuntimeError from
# PEP 479 carries no __cause__, so that part is not printed.
def f():
    x = yield 1
    return x
g = f()
try:
    g.send(0)
except TypeError as e:
    print("TypeError:", e)
print("still usable:", next(g))
def pep479():
    yield 1
    raise StopIteration("x")
g = pep479(); next(g)
try:
    next(g)
except RuntimeError as e:
    print("RuntimeError:", e)
def ignores():
    try:
        yield
    except GeneratorExit:
        yield "foo!"
g = ignores(); next(g)
try:
    g.close()
except RuntimeError as e:
    print("RuntimeError:", e)
print("second close ->", g.close())
def unstarted():
    print("never printed")
    yield
g = unstarted()
g.close()
try: next(g)
except StopIteration: print("closed unstarted gen -> StopIteration on next")
g = unstarted()
try:
    g.throw(KeyError("early"))
except KeyError as e:
    print("throw into unstarted re-raises", repr(e), "frame None:", g.gi_frame is None)
g = f(); next(g)
try:
    g.send(StopIteration(2))
except StopIteration as e:
    print("return StopIteration(2) -> value", repr(e.value))
