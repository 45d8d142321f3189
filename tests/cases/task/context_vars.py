# contextvars with asyncio: tasks run in a copy of the context current at creation,
# callbacks in a copy of the context current when scheduled (or in the context given),
# done callbacks in the one current when added; to_thread carries the context; misuse errors.
import asyncio
import contextvars
import re

request_id = contextvars.ContextVar("request_id")
depth = contextvars.ContextVar("depth", default=0)


def clean(text):
    return re.sub(r"0x[0-9a-f]+", "0x...", text)


def show(label, f):
    try:
        print(f"{label} -> {f()!r}")
    except Exception as e:
        print(f"{label} raises {clean(repr(e))}")


print(clean(repr(request_id)), clean(repr(depth)))
show("request_id.get()", request_id.get)
show("depth.get()", depth.get)
show("request_id.get('none')", lambda: request_id.get("none"))
tok = request_id.set("top")
print("old value missing:", tok.old_value is contextvars.Token.MISSING)
request_id.reset(tok)
show("reset again", lambda: request_id.reset(tok))
tok = request_id.set("top")
show("reset with another var", lambda: depth.reset(tok))
ctx = contextvars.copy_context()
show("reset in another context", lambda: ctx.run(request_id.reset, tok))
show("enter twice", lambda: ctx.run(ctx.run, print))
print("copy sees:", ctx[request_id], request_id in ctx, len(ctx))
ctx.run(request_id.set, "in ctx")
print("ctx has:", ctx[request_id], "current has:", request_id.get())

loop = asyncio.new_event_loop()


def cb(label):
    print(f"{label}: request_id={request_id.get('-')} depth={depth.get()}")
    depth.set(99)


async def child(name):
    print(f"{name} starts with request_id={request_id.get('-')}")
    request_id.set(name)
    depth.set(depth.get() + 1)
    await asyncio.sleep(0)
    print(f"{name} after sleep: request_id={request_id.get()} depth={depth.get()}")
    return name


async def main():
    request_id.set("main")
    t1 = asyncio.create_task(child("child-1"))
    request_id.set("main-2")
    t2 = asyncio.create_task(child("child-2"))
    await asyncio.gather(t1, t2)
    print(f"main sees request_id={request_id.get()} depth={depth.get()}")

    loop = asyncio.get_running_loop()
    done = loop.create_future()
    loop.call_soon(cb, "call_soon")
    request_id.set("later")
    loop.call_later(0.001, cb, "call_later")
    loop.call_later(0.002, done.set_result, None)
    request_id.set("main")
    await done
    print(f"after callbacks: depth={depth.get()}")

    mine = contextvars.Context()
    loop.call_soon(cb, "call_soon in Context()", context=mine)
    await asyncio.sleep(0)
    print("the given context kept depth:", mine[depth])

    t = asyncio.create_task(child("in ctx"), context=mine)
    await t
    print("create_task(context=) kept:", mine[request_id], mine[depth])

    async def enter_own():
        show("a task enters its own context", lambda: mine.run(print))

    await asyncio.create_task(enter_own(), context=mine)
    loop.call_soon(
        show, "a callback enters its own context", lambda: mine.run(print), context=mine
    )
    await asyncio.sleep(0)

    fut = loop.create_future()
    request_id.set("at add_done_callback")
    fut.add_done_callback(lambda f: cb("done callback"))
    request_id.set("at set_result")
    fut.set_result(1)
    await asyncio.sleep(0)

    seen = await asyncio.to_thread(request_id.get)
    print("to_thread sees:", seen)

    print("sleep with result:", await asyncio.sleep(0.001, "slept"))
    print("handler before:", loop.get_exception_handler())
    handler = lambda loop, context: None
    loop.set_exception_handler(handler)
    print("handler set:", loop.get_exception_handler() is handler)


loop.run_until_complete(main())
loop.close()
print("outside the loop:", request_id.get(), depth.get())
