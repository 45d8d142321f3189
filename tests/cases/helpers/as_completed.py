# asyncio.as_completed (test_tasks.py: test_as_completed, test_as_completed_with_timeout,
# test_as_completed_with_unused_timeout, test_as_completed_reverse_wait,
# test_as_completed_concurrent, test_as_completed_duplicate_coroutines), and a cancelled wait
# (asyncio.Queue.get's cleanup).
# Adapted: real 1/2/3 ms sleeps give the order instead of a test clock; a child that must
# miss the timeout awaits a future resolved at the end; children are tasks made explicitly.
import asyncio

loop = asyncio.new_event_loop()


async def sleeper(ms, x):
    await asyncio.sleep(ms / 1000)
    return x


async def failer(ms):
    await asyncio.sleep(ms / 1000)
    raise ZeroDivisionError("boom")


async def main():
    print("== completion order")
    a = loop.create_task(sleeper(1, 'a'))
    b = loop.create_task(sleeper(2, 'b'))
    c = loop.create_task(sleeper(3, 'c'))
    values = []
    for f in asyncio.as_completed([b, c, a]):
        values.append(await f)
    print(values)

    print("== errors come out of the wait")
    for f in asyncio.as_completed([loop.create_task(failer(1)), loop.create_task(sleeper(2, 'ok'))]):
        try:
            print("got", await f)
        except ZeroDivisionError as e:
            print("raised", repr(e))

    print("== timeout")
    release = loop.create_future()

    async def slow():
        await release
        return 'b'
    a = loop.create_task(sleeper(1, 'a'))
    b = loop.create_task(slow())
    values = []
    for f in asyncio.as_completed([a, b], timeout=0.02):
        try:
            v = await f
            values.append((1, v))
        except asyncio.TimeoutError as exc:
            values.append((2, exc))
    print(values, "b cancelled:", b.cancelled())
    release.set_result(None)
    print("b finishes later:", await b)

    print("== unused timeout")
    for f in asyncio.as_completed([loop.create_task(sleeper(1, 'a'))], timeout=10):
        print("got", await f)

    print("== waits are served in the order they are awaited")
    a = loop.create_task(sleeper(1, 'a'))
    b = loop.create_task(sleeper(3, 'b'))
    futs = list(asyncio.as_completed({a, b}))
    print("len", len(futs))
    print("second wait first:", await futs[1])
    print("then the first:", await futs[0])

    print("== concurrent waits")
    a = loop.create_task(sleeper(1, 'a'))
    b = loop.create_task(sleeper(1, 'b'))
    futs = list(asyncio.as_completed([a, b]))
    done, pending = await asyncio.wait([asyncio.ensure_future(f) for f in futs])
    print(sorted(f.result() for f in done), len(pending))

    print("== duplicates count once")
    c = loop.create_task(sleeper(0, 'ham'))
    result = []
    for f in asyncio.as_completed([c, c, loop.create_task(sleeper(0, 'spam'))]):
        result.append(await f)
    print(sorted(result), len(result))

    print("== a cancelled wait passes its turn on")
    a = loop.create_task(sleeper(1, 'a'))
    b = loop.create_task(sleeper(2, 'b'))
    first, second = asyncio.as_completed([a, b])
    w = loop.create_task(first)
    await asyncio.sleep(0)
    print("cancel the first wait:", w.cancel())
    try:
        await w
    except asyncio.CancelledError:
        print("first wait cancelled")
    print("the second wait gets", await second)
    await b

    print("== no children")
    print(list(asyncio.as_completed([])))

loop.run_until_complete(main())
loop.close()
