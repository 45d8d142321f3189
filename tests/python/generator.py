# The talk's demo_gen; tulip's twin is examples/generator.rs.
def demo_gen():
    print("start")
    yield 1
    print("stop")
    return 2


gen = demo_gen()
# not started yet
print(next(gen))  # print 1
# gen stopped again
try:
    next(gen)
except StopIteration as exc:
    print(exc.value)  # print 2
