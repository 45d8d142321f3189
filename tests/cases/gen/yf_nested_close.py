# PEP 380 close through three levels (generalises test_delegating_close): the innermost
# closes first; a value returned on GeneratorExit is ignored; the chain finishes.
def inner():
    try:
        yield "inner 1"
        yield "inner 2"
    except GeneratorExit:
        print("inner got GeneratorExit, returns 5")
        return 5
def middle():
    try:
        r = yield from inner()
        print("middle should not see", r)
    except GeneratorExit:
        print("middle got GeneratorExit")
        raise
    finally:
        print("middle finally")
def outer():
    try:
        yield "outer 0"
        yield from middle()
    finally:
        print("outer finally")
g = outer()
print(next(g))
print(next(g))
print("close ->", g.close())
print("finished:", g.gi_frame is None)
try:
    next(g)
except StopIteration as e:
    print("next ->", repr(e))
