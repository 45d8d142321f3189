# Signals that cannot be handled: SIGKILL and SIGSTOP (RuntimeError), invalid numbers
# (ValueError, also for remove), a closed loop (RuntimeError, after the number check).
import asyncio
import signal


async def main():
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGKILL, signal.SIGSTOP):
        try:
            loop.add_signal_handler(sig, lambda: None)
        except RuntimeError as e:
            print("RuntimeError", e)
    for sig in (0, 32, 65):
        try:
            loop.add_signal_handler(sig, lambda: None)
        except ValueError as e:
            print("ValueError", e)
    try:
        loop.remove_signal_handler(0)
    except ValueError as e:
        print("remove: ValueError", e)
    print("remove SIGKILL", loop.remove_signal_handler(signal.SIGKILL))


loop = asyncio.new_event_loop()
loop.run_until_complete(main())
loop.close()
try:
    loop.add_signal_handler(signal.SIGUSR1, lambda: None)
except RuntimeError as e:
    print("closed: RuntimeError", e)
try:
    loop.add_signal_handler(0, lambda: None)
except ValueError as e:
    print("closed, invalid: ValueError", e)
