# test_yield_from: test_delegation_of_next_to_non_generator, test_conversion_of_sendNone_to_next
# (with a generator in place of range).
def yrange(n):
    for i in range(n):
        yield i
def g():
    yield from yrange(3)
for x in g():
    print("Yielded %s" % (x,))
gi = g()
for x in range(3):
    y = gi.send(None)
    print("Yielded: %s" % (y,))
