# create_subprocess_exec's keywords, which tulip's Command builder sets: cwd, env (a whole
# environment), stderr=STDOUT, DEVNULL; a cwd that does not exist.
import asyncio
import os
from asyncio.subprocess import DEVNULL, PIPE, STDOUT


async def main():
    p = await asyncio.create_subprocess_exec(
        'sh', '-c', 'echo $GREETING; pwd; echo err >&2', cwd='/',
        env={'GREETING': 'hi', 'PATH': os.environ['PATH']}, stdout=PIPE, stderr=STDOUT)
    out, err = await p.communicate()
    print(out, err, p.returncode)
    p = await asyncio.create_subprocess_exec(
        'sh', '-c', 'echo out; echo err >&2; exit 4', stdout=DEVNULL, stderr=PIPE)
    print(await p.communicate(), p.returncode)
    p = await asyncio.create_subprocess_exec('/usr/bin/env', env={'A': '1'}, stdout=PIPE)
    print(await p.communicate())
    try:
        await asyncio.create_subprocess_exec('true', cwd='/no/such/dir')
    except FileNotFoundError as e:
        print(type(e).__name__, e.errno)

asyncio.run(main())
