# test_generators: coroutine_tests "throw() conditions".
def f():
    while True:
        try:
            print((yield))
        except ValueError as v:
            print("caught ValueError (%s)" % (v))
g = f()
next(g)
g.throw(ValueError())
g.throw(ValueError("xyz"))
g.send(1)
try:
    g.throw(TypeError())  # terminate the generator
except TypeError as e:
    print("raised", repr(e))
print("finished:", g.gi_frame is None)
try:
    g.send(2)
except StopIteration as e:
    print("send ->", repr(e))
try:
    g.throw(ValueError("6"))  # throw on closed generator
except ValueError as e:
    print("closed re-raises", repr(e))
try:
    f().throw(ValueError("7"))  # throw on just-opened generator
except ValueError as e:
    print("just-opened re-raises", repr(e))
