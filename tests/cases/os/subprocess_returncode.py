# wait() returns the exit status; returncode keeps it; a signal after the exit is refused.
import asyncio


async def main():
    proc = await asyncio.create_subprocess_exec("sh", "-c", "exit 3")
    print("wait", await proc.wait())
    print("returncode", proc.returncode)
    print("wait again", await proc.wait())
    # The transport has finished (exit seen, no pipes): the process is gone for asyncio.
    try:
        proc.kill()
    except ProcessLookupError as e:
        print("kill after exit", repr(e))


asyncio.run(main())
