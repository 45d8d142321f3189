# test_yield_from: test_next_and_return_with_value.
def f(r):
    gi = g(r)
    next(gi)
    try:
        print("f resuming g")
        next(gi)
        print("f SHOULD NOT BE HERE")
    except StopIteration as e:
        print("f caught %r" % (e,))
def g(r):
    print("g starting")
    yield
    print("g returning %r" % (r,))
    return r
f(None)
f(1)
f((2,))
f(StopIteration(3))
