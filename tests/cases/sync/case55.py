import asyncio
async def main():
    lock = asyncio.Lock()
    result = []
    async def c(n):
        async with lock:
            result.append(n)
            await asyncio.sleep(0)
    await lock.acquire()
    tasks = [asyncio.create_task(c(i)) for i in (1, 2, 3)]
    await asyncio.sleep(0)
    print("locked:", lock.locked(), "repr:", repr(lock).split(' [')[1])
    lock.release()
    await asyncio.gather(*tasks)
    print("FIFO acquisition order:", result)
    try:
        lock.release()
    except RuntimeError as e:
        print("RuntimeError:", e)
    await lock.acquire()
    t = asyncio.create_task(lock.acquire())
    await asyncio.sleep(0)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        print("cancelled waiter removed:", lock._waiters is None or len(lock._waiters) == 0)
    lock.release()
    ev = asyncio.Event()
    async def w(n):
        await ev.wait(); print("event waiter", n, "woke")
    ts = [asyncio.create_task(w(i)) for i in (1, 2)]
    await asyncio.sleep(0)
    print("set() wakes all:"); ev.set(); await asyncio.gather(*ts)
    print("wait on set event returns immediately:", await ev.wait())
    try:
        asyncio.Semaphore(-1)
    except ValueError as e:
        print("ValueError:", e)
    bs = asyncio.BoundedSemaphore(1)
    try:
        bs.release()
    except ValueError as e:
        print("ValueError:", e)
    cond = asyncio.Condition()
    for op in (cond.wait(), ):
        try:
            await op
        except RuntimeError as e:
            print("RuntimeError:", e)
    try:
        cond.notify()
    except RuntimeError as e:
        print("RuntimeError:", e)
asyncio.run(main())
other = asyncio.new_event_loop()
lk = asyncio.Lock()
async def use():
    await lk.acquire(); t = asyncio.create_task(lk.acquire()); await asyncio.sleep(0); lk.release(); await t
asyncio.run(use())
try:
    other.run_until_complete(use())
except RuntimeError as e:
    print("RuntimeError:", str(e).split('> ')[-1])
other.close()
