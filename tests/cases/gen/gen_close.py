# test_generators: coroutine_tests "closing a generator" and finalization.
def f():
    try: yield
    except GeneratorExit:
        print("exiting")
g = f()
next(g)
g.close()
g.close()  # should be no-op now
f().close()  # close on just-opened generator should be fine
def f2(): yield
f2().close()
g = f2()
next(g)
g.close()
print("closed normally")
def f3():
    try: yield
    finally:
        print("exiting")
g = f3()
next(g)
del g
def f4():
    try: yield
    except Exception:
        print('except')
    finally:
        print('finally')
g = f4()
next(g)
del g
