# test_yield_from: test_throwing_GeneratorExit_into_subgenerator_that_yields.
def f():
    try:
        print("Enter f")
        yield
        print("Exit f")
    except GeneratorExit:
        yield
def g():
    print("Enter g")
    yield from f()
    print("Exit g")
gi = g()
next(gi)
try:
    gi.throw(GeneratorExit())
except RuntimeError as e:
    print("caught", repr(e))
print("finished:", gi.gi_frame is None)
