# Ctrl-C under asyncio.run (3.11's Runner): the first SIGINT cancels the main task, which
# cleans up, and run raises KeyboardInterrupt; a second SIGINT leaves the loop at once, and
# the shutdown cancels what is left. The program sends itself the signals.
import asyncio
import os
import signal


# A shell may start a background job with SIGINT ignored: take the default back.
signal.signal(signal.SIGINT, signal.default_int_handler)


async def main():
    print("main: Ctrl-C")
    os.kill(os.getpid(), signal.SIGINT)
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        print("main: cancelled, cleaning up")
        await asyncio.sleep(0)
        print("main: cleaned up")
        raise


try:
    asyncio.run(main())
except KeyboardInterrupt:
    print("run raised KeyboardInterrupt")


async def stubborn():
    loop = asyncio.get_running_loop()
    print("stubborn: Ctrl-C")
    os.kill(os.getpid(), signal.SIGINT)
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        print("stubborn: cancelled; a second Ctrl-C comes while it cleans up")
        loop.call_later(0.01, os.kill, os.getpid(), signal.SIGINT)
        try:
            await asyncio.sleep(10)
        finally:
            print("stubborn: the shutdown cancels it")


try:
    asyncio.run(stubborn())
except KeyboardInterrupt:
    print("run raised KeyboardInterrupt at once")
print("SIGINT handler restored:", signal.getsignal(signal.SIGINT) is signal.default_int_handler)
