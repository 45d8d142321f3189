# asyncio-cases.md case 11 (test_catching_exception_from_subgen_and_returning).
def inner(value):
    try:
        yield 1
    except ValueError:
        print("inner caught ValueError")
    return value
def outer(value):
    v = yield from inner(value)
    print("inner returned %r to outer" % (v,))
    yield v
for value in 2, (2,), StopIteration(2):
    g = outer(value)
    print(next(g))
    print(repr(g.throw(ValueError)))
