# add_signal_handler: os.kill(os.getpid(), SIGUSR1) reaches the handler as a loop callback,
# which resolves a future the main task waits for; a second signal calls it again.
import asyncio
import os
import signal


async def main():
    loop = asyncio.get_running_loop()
    calls = []
    fut = loop.create_future()

    def on_usr1():
        calls.append("usr1")
        print("handler called", len(calls))
        if not fut.done():
            fut.set_result(len(calls))

    loop.add_signal_handler(signal.SIGUSR1, on_usr1)
    print("sending SIGUSR1")
    os.kill(os.getpid(), signal.SIGUSR1)
    print("sent")
    print("future result", await fut)
    fut = loop.create_future()
    os.kill(os.getpid(), signal.SIGUSR1)
    print("second future result", await fut)
    print("calls", calls)
    print("removed", loop.remove_signal_handler(signal.SIGUSR1))


asyncio.run(main())
