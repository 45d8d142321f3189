# test_generators: test_return_tuple, test_return_stopiteration, "yield by itself yields None".
def g():
    return (yield 1)
gen = g()
print(next(gen))
try:
    gen.send((2,))
except StopIteration as e:
    print("value", repr(e.value))
gen = g()
print(next(gen))
try:
    gen.send(StopIteration(2))
except StopIteration as e:
    print("value", repr(e.value))
