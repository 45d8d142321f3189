# kill() a sleeping child: returncode is -SIGKILL; terminate() gives -SIGTERM.
import asyncio
import signal


async def main():
    proc = await asyncio.create_subprocess_exec("sleep", "30")
    print("running", proc.returncode)
    proc.kill()
    print("wait", await proc.wait())
    print("is -SIGKILL", proc.returncode == -signal.SIGKILL)
    proc = await asyncio.create_subprocess_exec("sleep", "30")
    proc.terminate()
    print("terminate", await proc.wait())


asyncio.run(main())
