# The loop keeps running while a child runs: a ticker makes progress between the start and
# the exit; the child exits only once the ticker closed its stdin.
import asyncio
from asyncio.subprocess import PIPE


async def main():
    proc = await asyncio.create_subprocess_exec("cat", stdin=PIPE, stdout=PIPE)

    async def ticker():
        for i in range(3):
            print("tick", i)
            await asyncio.sleep(0)
        print("closing stdin")
        proc.stdin.close()

    t = asyncio.create_task(ticker())
    print("reading stdout")
    out = await proc.stdout.read()
    print("stdout", out)
    print("wait", await proc.wait())
    await t


asyncio.run(main())
