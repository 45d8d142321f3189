# The Python twin of examples/subprocess_exec.rs: run `echo hello`, then `cat` with stdin piped.
import asyncio
from asyncio.subprocess import PIPE


async def main():
    echo = await asyncio.create_subprocess_exec("echo", "hello", stdout=PIPE)
    out, _ = await echo.communicate()
    print("echo said", out.decode().strip())
    print("echo returncode", echo.returncode)

    cat = await asyncio.create_subprocess_exec("cat", stdin=PIPE, stdout=PIPE)
    out, _ = await cat.communicate(b"through the pipe")
    print("cat said", out.decode())
    print("cat returncode", cat.returncode)


asyncio.run(main())
