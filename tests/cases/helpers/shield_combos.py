# shield with gather and with tasks (test_tasks.py: test_shield_gather, test_gather_shield),
# plus cancelling from outside (the awaiting task) and from inside (the shielded task).
import asyncio

loop = asyncio.new_event_loop()


def run_briefly():
    loop.call_soon(loop.stop)
    loop.run_forever()


print("== shield(gather): cancelling the shield leaves the gathering alone")
child1 = loop.create_future()
child2 = loop.create_future()
parent = asyncio.gather(child1, child2)
outer = asyncio.shield(parent)
run_briefly()
print("outer.cancel():", outer.cancel())
run_briefly()
print("outer cancelled:", outer.cancelled())
child1.set_result(1)
child2.set_result(2)
run_briefly()
run_briefly()
print("parent result:", parent.result())

print("== gather(shield, shield): cancelling the gathering cancels only the shields")
child1 = loop.create_future()
child2 = loop.create_future()
inner1 = asyncio.shield(child1)
inner2 = asyncio.shield(child2)
parent = asyncio.gather(inner1, inner2)
run_briefly()
print("parent.cancel():", parent.cancel())
run_briefly()
print("parent exception:", repr(parent.exception()))
print("shields cancelled:", inner1.cancelled(), inner2.cancelled())
print("children cancelled:", child1.cancelled(), child2.cancelled())
child1.set_result(1)
child2.set_result(2)
run_briefly()

print("== cancel from outside: the awaiting task is cancelled, the shielded one goes on")
release = loop.create_future()


async def work():
    await release
    return "work result"


async def caller(t):
    try:
        return await asyncio.shield(t)
    except asyncio.CancelledError:
        print("caller cancelled; waiting for the work itself")
        return await t

t = loop.create_task(work())
c = loop.create_task(caller(t))
run_briefly()
print("cancel caller:", c.cancel())
run_briefly()
print("work cancelled:", t.cancelled(), "work done:", t.done())
release.set_result(None)
print("caller result:", loop.run_until_complete(c))

print("== cancel from inside: the shielded task is cancelled, so is the shield")


async def victim():
    await loop.create_future()


async def caller2(t):
    try:
        await asyncio.shield(t)
    except asyncio.CancelledError as e:
        print("caller2 got", repr(e))
        return "caught"

t = loop.create_task(victim())
c = loop.create_task(caller2(t))
run_briefly()
print("cancel victim:", t.cancel("inner msg"))
print("caller2 result:", loop.run_until_complete(c))

print("== the shielded task's error reaches the awaiter")


async def broken():
    await asyncio.sleep(0)
    raise ZeroDivisionError("inside")


async def caller3():
    try:
        await asyncio.shield(loop.create_task(broken()))
    except ZeroDivisionError as e:
        print("caller3 got", repr(e))

loop.run_until_complete(caller3())
loop.close()
