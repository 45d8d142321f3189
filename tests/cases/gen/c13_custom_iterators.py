# asyncio-cases.md case 13, the part that applies to tulip (which has no custom iterator
# classes): a sub that returns at once gives its value and yields nothing; an empty sub
# yields nothing; a sub with its own send/throw/close behaviour gets them forwarded.
def my_iter():
    return 42
    yield
def gen():
    ret = yield from my_iter()
    print("ret =", ret)
print(list(gen()))
def empty():
    yield from iter_nothing()
def iter_nothing():
    return
    yield
try:
    next(empty())
except StopIteration as e:
    print("empty -> StopIteration", e.args)
def my_gen():
    value = 42
    while True:
        try:
            what = yield value
            if what is not None:
                print("MyGen.send got", what)
                value = "sent-reply"
        except GeneratorExit:
            print("MyGen.close called")
            raise
        except Exception as e:
            print("MyGen.throw got", [type(e).__name__])
            return "from-throw"
def outer():
    v = yield from my_gen()
    print("outer resumed with", v)
    yield "after"
g = outer()
print(next(g))
print(g.send((1, 2, 3)))
print(g.throw(KeyError("k")))
g.close()
g = outer(); next(g); print("close ->", g.close())
