# test_generators: coroutine_tests, d[(yield "a")] = d[(yield "b")] = 27.
def f(d):
    d[(yield "a")] = d[(yield "b")] = 27
data = [1, 2]
g = f(data)
print(repr(g.send(None)))
print(data)
print(repr(g.send(0)))
print(data)
try:
    g.send(1)
except StopIteration:
    pass
print(data)
