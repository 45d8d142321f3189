# communicate(): cat echoes its piped stdin; stderr is not piped, so it comes back as None.
import asyncio
from asyncio.subprocess import PIPE


async def main():
    proc = await asyncio.create_subprocess_exec("cat", stdin=PIPE, stdout=PIPE)
    print("returncode before", proc.returncode)
    out, err = await proc.communicate(b"hello\nworld\n")
    print("stdout", out)
    print("stderr", err)
    print("returncode", proc.returncode)
    shell = await asyncio.create_subprocess_shell(
        "echo out; echo err >&2", stdout=PIPE, stderr=PIPE
    )
    out, err = await shell.communicate()
    print("shell", out, err, shell.returncode)


asyncio.run(main())
