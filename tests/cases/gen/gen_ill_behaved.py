# test_generators: coroutine_tests "ill-behaved generators", errors thrown during closing.
def f():
    try: yield
    except GeneratorExit:
        yield "foo!"
g = f()
next(g)
try:
    g.close()
except RuntimeError as e:
    print("RuntimeError:", e)
print("close again ->", g.close())
def f2():
    try: yield
    except GeneratorExit:
        raise TypeError("fie!")
g = f2()
next(g)
try:
    g.close()
except TypeError as e:
    print("TypeError:", e)
def f3():
    try: yield 1
    except GeneratorExit:
        print("f3 cleanup")
        return "ignored"
g = f3()
next(g)
print("close of a generator that returns ->", g.close())
