# test_generators: ExceptionTest.test_except_throw (the thrown error can be raised back).
def store_raise_exc_generator():
    try:
        yield "first"
    except Exception as exc:
        print("caught", repr(exc))
        yield "second"
        yield "third"
        raise
make = store_raise_exc_generator()
print(next(make))
print("throw ->", make.throw(ValueError("v")))
print(next(make))
try:
    next(make)
except ValueError as e:
    print("raised back", repr(e))
