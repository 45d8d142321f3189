# run_in_executor: a value, and an exception raised in the worker thread.
# (The Rust port's worker panics: a panic is tulip's exception in a thread, and arrives as
# tulip::Panic; both sides print only str(e), which is the message.)
import asyncio


def compute(x):
    return x * 2


def fail():
    raise ValueError("boom")


async def main():
    loop = asyncio.get_running_loop()
    fut = loop.run_in_executor(None, compute, 21)
    print("is future", isinstance(fut, asyncio.Future))
    print("result", await fut)
    try:
        await loop.run_in_executor(None, fail)
    except Exception as e:
        print("raised", str(e))
    print("after error", await loop.run_in_executor(None, compute, 1))


asyncio.run(main())
