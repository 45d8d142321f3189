# asyncio-cases.md case 9 (test_attempted_yield_from_loop, PEP 255 "generator already executing").
def g1():
    print("g1: starting")
    yield "y1"
    print("g1: about to yield from g2")
    yield from g2()
    print("g1 should not be here")
def g2():
    print("g2: starting")
    yield "y2"
    print("g2: about to yield from g1")
    yield from gi
    print("g2 should not be here")
gi = g1()
try:
    for y in gi:
        print("Yielded:", y)
except ValueError as e:
    print("caught", repr(e))
def me_gen():
    i = next(me)
    yield i
me = me_gen()
try:
    next(me)
except ValueError as e:
    print("caught", repr(e))
