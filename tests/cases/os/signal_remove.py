# remove_signal_handler: True for a registered signal, False afterwards and for one never
# registered; the default disposition comes back.
import asyncio
import signal


async def main():
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR2, lambda: None)
    print("handler installed", signal.getsignal(signal.SIGUSR2) != signal.SIG_DFL)
    print("remove", loop.remove_signal_handler(signal.SIGUSR2))
    print("default again", signal.getsignal(signal.SIGUSR2) == signal.SIG_DFL)
    print("remove again", loop.remove_signal_handler(signal.SIGUSR2))
    print("never added", loop.remove_signal_handler(signal.SIGHUP))
    loop.add_signal_handler(signal.SIGUSR2, lambda: None)


loop = asyncio.new_event_loop()
loop.run_until_complete(main())
loop.close()
# close() removes every handler.
print("after close default", signal.getsignal(signal.SIGUSR2) == signal.SIG_DFL)
