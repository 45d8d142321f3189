# test_generators: coroutine_tests (sending values, yield by itself, augmented assignment).
def f():
    print((yield 1))
    yield 2
g = f()
print(next(g))
print(g.send(42))
try:
    f().send(7)
except TypeError as e:
    print("TypeError:", e)
def f_none():
    yield
print(list(f_none()))
def coroutine(seq):
    count = 0
    while count < 200:
        count += yield
        seq.append(count)
seq = []
c = coroutine(seq)
next(c)
print(seq)
c.send(10)
print(seq)
c.send(10)
print(seq)
c.send(10)
print(seq)
