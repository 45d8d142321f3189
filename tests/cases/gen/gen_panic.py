# tulip turns a panic inside a generator into an error (Panic) at the resume site; its
# Python twin raises an exception of that name. The generator is finished afterwards and a
# delegator sees the error at its yield from, where it may handle it.
class Panic(Exception):
    pass
def bad():
    print("bad starts")
    yield 1
    raise Panic("boom")
g = bad()
print(next(g))
try:
    next(g)
except Panic as e:
    print("caught", repr(e))
print("finished:", g.gi_frame is None)
def outer():
    try:
        yield from bad()
    except Panic as e:
        print("outer caught", repr(e))
    yield "outer goes on"
print(list(outer()))
