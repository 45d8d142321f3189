# test_yield_from: test_delegating_generators_claim_to_be_running (iteration, send, throw).
def one():
    yield 0
    yield from two()
    yield 3
def two():
    yield 1
    try:
        yield from g1
    except ValueError as e:
        print("two caught", repr(e))
    yield 2
g1 = one()
print(list(g1))
g1 = one()
res = [next(g1)]
try:
    while True:
        res.append(g1.send(None))
except StopIteration:
    pass
print(res)
class MyErr(Exception):
    pass
def one():
    try:
        yield 0
    except MyErr:
        pass
    yield from two()
    try:
        yield 3
    except MyErr:
        pass
def two():
    try:
        yield 1
    except MyErr:
        pass
    try:
        yield from g1
    except ValueError:
        print("running:", g1.gi_running)
    try:
        yield 2
    except MyErr:
        pass
g1 = one()
res = [next(g1)]
try:
    while True:
        res.append(g1.throw(MyErr()))
except StopIteration:
    pass
print(res)
