# test_yield_from: test_exception_in_initial_next_call; PEP 255 exception propagation.
def g1():
    print("g1 about to yield from g2")
    yield from g2()
    print("g1 should not be here")
def g2():
    yield 1 // 0
gi = g1()
try:
    next(gi)
except ZeroDivisionError as e:
    print("caught", repr(e))
try:
    next(gi)
except StopIteration as e:
    print("then", repr(e))
