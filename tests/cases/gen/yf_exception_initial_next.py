# test_yield_from: test_raising_exception_in_initial_next_call.
def g1():
    try:
        print("Starting g1")
        yield from g2()
    finally:
        print("Finishing g1")
def g2():
    try:
        print("Starting g2")
        raise ValueError("spanish inquisition occurred")
    finally:
        print("Finishing g2")
try:
    for x in g1():
        print("Yielded %s" % (x,))
except ValueError as e:
    print("caught", repr(e))
