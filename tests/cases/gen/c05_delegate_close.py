# asyncio-cases.md case 5 (test_delegating_close, test_handing_exception_while_delegating_close).
# tulip's errors carry no __context__, so the ValueError's context is not printed.
def g2(bad):
    try:
        print("Starting g2")
        yield "g2 spam"
        yield "g2 more spam"
    except GeneratorExit as e:
        print("g2 got", type(e).__name__)
        raise
    finally:
        print("Finishing g2")
        if bad:
            raise ValueError("nybbles have exploded with delight")
def g1(bad):
    try:
        print("Starting g1")
        yield "g1 ham"
        yield from g2(bad)
        yield "g1 eggs"
    except GeneratorExit:
        print("g1 got GeneratorExit")
        raise
    finally:
        print("Finishing g1")
for bad in (False, True):
    print("--- bad =", bad)
    g = g1(bad)
    for i in range(2):
        print("Yielded", next(g))
    try:
        print("close() ->", g.close())
    except ValueError as e:
        print("close raised", repr(e))
    print("gi_frame is None:", g.gi_frame is None)
