# test_generators: pep_tests "Generators and Exception Propagation".
def f():
    return 1 // 0
def g():
    yield f()
    yield 42
k = g()
try:
    next(k)
except ZeroDivisionError as e:
    print("caught", repr(e))
try:
    next(k)
except StopIteration as e:
    print("cannot be resumed:", repr(e))
