# test_generators: tutorial_tests.
def f():
    yield 1
    yield 2
for i in f():
    print(i)
g = f()
print(next(g))
print(next(g))
try:
    next(g)
except StopIteration as e:
    print("falling off the end:", repr(e))
def f2():
    yield 1
    return
    yield 2
g = f2()
print(next(g))
for _ in range(2):
    try:
        next(g)
    except StopIteration as e:
        print("stopped:", repr(e))
def yrange(n):
    for i in range(n):
        yield i
print(list(yrange(5)))
def creator():
    r = yrange(5)
    print("creator", next(r))
    return r
def caller():
    r = creator()
    for i in r:
        print("caller", i)
caller()
def zrange(n):
    for i in yrange(n):
        yield i
print(list(zrange(5)))
