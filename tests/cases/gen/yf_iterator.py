# PEP 380's path for an iterator that is not a generator (issue #12): next only; a sent
# non-None value is an AttributeError in the delegator; throw and close are not forwarded.
def over(items):
    print("start")
    r = yield from items
    print("yield from returned", r)
    return "done"


g = over([1, 2])
print([x for x in g])

g = over(range(10, 13))
print(next(g), g.send(None), next(g))
try:
    next(g)
except StopIteration as e:
    print("StopIteration", e.value)

for items in ([1, 2], (1, 2), range(3), {7}):
    g = over(items)
    next(g)
    try:
        g.send(5)
    except AttributeError as e:
        print(type(e).__name__, e)


def guarded(items):
    try:
        yield from items
    except ValueError as e:
        print("delegator caught", repr(e))
        yield "after throw"
    finally:
        print("delegator finally")


g = guarded([1, 2, 3])
next(g)
print(g.throw(ValueError("v")))
g.close()
g = guarded([1, 2, 3])
next(g)
print("close ->", g.close())
