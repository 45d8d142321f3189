# test_generators: test_stopiteration_error, test_tutorial_stopiteration (PEP 479).
def gen():
    raise StopIteration
    yield
try:
    next(gen())
except RuntimeError as e:
    print("RuntimeError:", e)
def f():
    yield 1
    raise StopIteration
    yield 2
g = f()
print(next(g))
try:
    next(g)
except RuntimeError as e:
    print("RuntimeError:", e)
try:
    next(g)
except StopIteration as e:
    print("then", repr(e))
