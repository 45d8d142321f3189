# test_yield_from: test_handling_exception_while_delegating_send.
def g1():
    print("Starting g1")
    x = yield "g1 ham"
    print("g1 received %s" % (x,))
    yield from g2()
    x = yield "g1 eggs"
    print("g1 received %s" % (x,))
    print("Finishing g1")
def g2():
    print("Starting g2")
    x = yield "g2 spam"
    print("g2 received %s" % (x,))
    raise ValueError("hovercraft is full of eels")
    x = yield "g2 more spam"
    print("g2 received %s" % (x,))
    print("Finishing g2")
g = g1()
y = next(g)
x = 1
try:
    while 1:
        y = g.send(x)
        print("Yielded %s" % (y,))
        x += 1
except StopIteration:
    print("StopIteration")
except ValueError as e:
    print("caught", repr(e))
print("finished:", g.gi_frame is None)
