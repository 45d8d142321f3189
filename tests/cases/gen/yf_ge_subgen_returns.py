# test_yield_from: test_throwing_GeneratorExit_into_subgen_that_returns.
def f():
    try:
        print("Enter f")
        yield
        print("Exit f")
    except GeneratorExit:
        return
def g():
    print("Enter g")
    yield from f()
    print("Exit g")
gi = g()
next(gi)
try:
    gi.throw(GeneratorExit())
except GeneratorExit as e:
    print("caught", repr(e))
print("finished:", gi.gi_frame is None)
