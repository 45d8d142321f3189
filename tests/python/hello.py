import asyncio
print(repr(asyncio.CancelledError()))
