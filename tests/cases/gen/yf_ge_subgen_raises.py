# test_yield_from: test_throwing_GeneratorExit_into_subgen_that_raises.
def f():
    try:
        print("Enter f")
        yield
        print("Exit f")
    except GeneratorExit:
        raise ValueError("Vorpal bunny encountered")
def g():
    print("Enter g")
    yield from f()
    print("Exit g")
gi = g()
next(gi)
try:
    gi.throw(GeneratorExit())
except ValueError as e:
    print("caught", repr(e))
