# test_yield_from: test_returning_value_from_delegated_throw.
class LunchError(Exception):
    pass
def g1():
    try:
        print("Starting g1")
        yield "g1 ham"
        yield from g2()
        yield "g1 eggs"
    finally:
        print("Finishing g1")
def g2():
    try:
        print("Starting g2")
        yield "g2 spam"
        yield "g2 more spam"
    except LunchError:
        print("Caught LunchError in g2")
        yield "g2 lunch saved"
        yield "g2 yet more spam"
g = g1()
for i in range(2):
    x = next(g)
    print("Yielded %s" % (x,))
print("throw ->", g.throw(LunchError("tomato ejected")))
for x in g:
    print("Yielded %s" % (x,))
