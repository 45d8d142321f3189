# The talk's producer/wrapper; tulip's twin is examples/producer_wrapper.rs.
def producer():
    yield "Hello"
    yield "World!"


def wrapper():
    print("enter wrapper")
    yield from producer()
    print("exit wrapper")


for item in wrapper():
    print(item)
