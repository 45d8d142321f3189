# asyncio-cases.md case 7 (test_generator_return_value, test_exception_value_crash).
def g1():
    print("Starting g1")
    yield "g1 ham"
    ret = yield from g2()
    print("g2 returned %r" % (ret,))
    for v in 1, (2,), StopIteration(3):
        ret = yield from g2(v)
        print("g2 returned %r" % (ret,))
    yield "g1 eggs"
    print("Finishing g1")
def g2(v=None):
    print("Starting g2")
    yield "g2 spam"
    yield "g2 more spam"
    print("Finishing g2")
    if v:
        return v
for x in g1():
    print("Yielded", x)
