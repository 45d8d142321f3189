# SystemExit and KeyboardInterrupt (BaseException) raised in a task: the task is marked
# failed and the error leaves run_until_complete at once (Task.__step re-raises them); the
# rest of the iteration stays queued and runs when the loop runs again.
import asyncio

loop = asyncio.new_event_loop()


async def boom():
    print("boom raises KeyboardInterrupt")
    raise KeyboardInterrupt


t = loop.create_task(boom())
loop.call_soon(print, "callback queued after the step")
try:
    loop.run_until_complete(t)
except KeyboardInterrupt as e:
    print("run_until_complete raised", repr(e))
print("task done:", t.done(), "exception:", repr(t.exception()))
print("running:", loop.is_running())


async def nothing():
    await asyncio.sleep(0)
    print("nothing ran")

loop.run_until_complete(nothing())


async def child():
    print("child raises SystemExit(3)")
    raise SystemExit(3)


async def main():
    c = asyncio.create_task(child())
    try:
        await c
    except SystemExit as e:
        print("main caught", repr(e))
        return "main done"


m = loop.create_task(main())
try:
    loop.run_until_complete(m)
except SystemExit as e:
    print("run_until_complete raised", repr(e), "code", e.code)
print("main done?", m.done())
print(loop.run_until_complete(m))
loop.close()
