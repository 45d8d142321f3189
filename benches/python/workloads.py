#!/usr/bin/env python3
"""The Python twins of tulip's benchmark workloads (benches/workloads.rs), on asyncio or uvloop.

    python3 benches/python/workloads.py [NAME...] [--loop asyncio|uvloop|none] [--scale F] [--with-fd]

NAME selects workloads by prefix (none given: all). Every workload first runs an untimed
warm-up of n/20 operations, then the timed run, and prints one line:

    name=sleep0 loop=asyncio ops=1000000 seconds=3.5000 ops_per_s=285714

--with-fd registers one idle fd (a socketpair end that never becomes readable) with
add_reader for the whole run, so that every loop iteration polls, as in a real server; those
lines are named NAME_fd. The generator workloads use no loop: they run under --loop asyncio
(the default) or --loop none and print loop=python. tasks_suspended_{1k,10k,30k,100k,1m}
keep N tasks suspended at once and add kib_per_task (resident memory per task, page tables
included: VmRSS + VmPTE) and maps (lines of /proc/self/maps); --scale leaves their N alone.
udp_pingpong bounces 1-byte datagrams over loopback between two datagram endpoints.
tls_echo_{1k,100k} echo messages of that size over TLS (ssl, a certificate authority and a
server certificate made at run time by the openssl command), the server and 10 clients in
this process; the handshakes and the warm-up are untimed.
"""
import argparse
import asyncio
import os
import random
import resource
import socket
import subprocess
import ssl
import sys
import tempfile
import time

# name -> default op count; the same counts as the peers' scripts
LOOP_WORKLOADS = {
    "callbacks_chain": 500_000,
    "callbacks_upfront": 500_000,
    "timers_fire": 300_000,
    "timers_cancel": 300_000,
    "future_pingpong": 300_000,
    "task_spawn": 300_000,
    "sleep0": 1_000_000,
}
# readiness I/O with a twin here (socketpair and tcp_echo come from the peers' programs);
# like SUSPENDED and TLS, left out of --with-fd (their own fds are polled anyway)
NET = {"udp_pingpong": 100_000}
# name -> (op count, message size): TLS echo, timed inside (the handshakes are not)
TLS = {"tls_echo_1k": (50_000, 1024), "tls_echo_100k": (10_000, 100 * 1024)}
TLS_CONNS = 10
SUSPENDED = {"tasks_suspended_1k": 1_000, "tasks_suspended_10k": 10_000, "tasks_suspended_30k": 30_000,
             "tasks_suspended_100k": 100_000, "tasks_suspended_1m": 1_000_000}
GENERATORS = {"generator_next": 20_000_000, "generator_yieldfrom10": 5_000_000}


def report(name, loop, ops, seconds, **extra):
    fields = [f"name={name}", f"loop={loop}", f"ops={ops}",
              f"seconds={seconds:.4f}", f"ops_per_s={ops / seconds:.0f}"]
    fields += [f"{k}={v}" for k, v in extra.items()]
    print(" ".join(fields), flush=True)


# ---- callbacks ----

async def callbacks_chain(n):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    left = n

    def cb():
        nonlocal left
        left -= 1
        if left:
            loop.call_soon(cb)
        else:
            done.set_result(None)

    loop.call_soon(cb)
    await done


async def callbacks_upfront(n):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    left = n

    def cb():
        nonlocal left
        left -= 1
        if not left:
            done.set_result(None)

    for _ in range(n):
        loop.call_soon(cb)
    await done


# ---- timers ----

async def timers_fire(n):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    rnd = random.Random(42)
    left = n

    def cb():
        nonlocal left
        left -= 1
        if not left:
            done.set_result(None)

    for _ in range(n):
        loop.call_later(rnd.random() * 0.010, cb)
    await done


async def timers_cancel(n):
    loop = asyncio.get_running_loop()
    rnd = random.Random(42)
    handles = [loop.call_later(10.0 + rnd.random(), print) for _ in range(n)]
    for h in handles:
        h.cancel()
    await asyncio.sleep(0)  # one loop iteration so the loop can purge cancelled timers


# ---- futures and tasks ----

async def _player(me, other, box, n):
    loop = asyncio.get_running_loop()
    for _ in range(n):
        await box[me]
        box[me] = loop.create_future()
        box[other].set_result(None)


async def future_pingpong(n):
    # the two current futures live in a dict: resolving each with the next would build a
    # chain n deep whose recursive free overflows the C stack
    loop = asyncio.get_running_loop()
    box = {"a": loop.create_future(), "b": loop.create_future()}
    box["a"].set_result(None)  # A goes first
    await asyncio.gather(_player("a", "b", box, n), _player("b", "a", box, n))


async def _noop():
    pass


async def task_spawn(n):
    loop = asyncio.get_running_loop()
    for i in range(0, n, 1000):
        await asyncio.gather(*[loop.create_task(_noop()) for _ in range(min(1000, n - i))])


async def sleep0(n):
    for _ in range(n):
        await asyncio.sleep(0)


# ---- readiness I/O ----

class _UdpEcho(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(data, addr)


class _UdpPing(asyncio.DatagramProtocol):
    def __init__(self, n, done):
        self.left = n
        self.done = done

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.left -= 1
        if not self.left:
            self.done.set_result(None)
        else:
            self.transport.sendto(b"x")


async def udp_pingpong(n):
    """1-byte datagrams bounced over loopback between two create_datagram_endpoint
    protocols; one op is a round trip."""
    loop = asyncio.get_running_loop()
    server, _ = await loop.create_datagram_endpoint(_UdpEcho, local_addr=("127.0.0.1", 0))
    port = server.get_extra_info("sockname")[1]
    done = loop.create_future()
    client, _ = await loop.create_datagram_endpoint(
        lambda: _UdpPing(n, done), remote_addr=("127.0.0.1", port))
    client.sendto(b"x")
    await done
    client.close()
    server.close()


_tls_contexts = None


def tls_contexts():
    """A server and a client SSLContext for localhost, from a certificate authority and a
    server certificate made now by the openssl command (ECDSA P-256, as rcgen's on tulip's
    side), once per process."""
    global _tls_contexts
    if _tls_contexts:
        return _tls_contexts
    with tempfile.TemporaryDirectory() as d:
        def run(*args):
            subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=bench CA")
        run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
        with open(os.path.join(d, "ext.cnf"), "w") as f:
            f.write("subjectAltName=DNS:localhost\n")
        run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
        server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server.load_cert_chain(os.path.join(d, "server.pem"), os.path.join(d, "server.key"))
        client = ssl.create_default_context(cafile=os.path.join(d, "ca.pem"))
    _tls_contexts = server, client
    return _tls_contexts


async def _echo(reader, writer):
    # the handler of tulip's side (and of the peers' tcp_echo servers): read, write, drain
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


async def _tls_round(conns, msg, n):
    async def one(reader, writer, share):
        for _ in range(share):
            writer.write(msg)
            await writer.drain()
            await reader.readexactly(len(msg))

    k = len(conns)
    await asyncio.gather(*[one(r, w, n // k + (i < n % k)) for i, (r, w) in enumerate(conns)])


async def tls_echo(n, size):
    """n echoed messages of size bytes over TLS_CONNS TLS connections to a streams echo
    server in this process (start_server with ssl=); one op is one echoed message. Returns
    the seconds of the timed run (after the handshakes and a warm-up of n/20) and the
    protocol/cipher."""
    server_ctx, client_ctx = tls_contexts()
    n = max(n, TLS_CONNS)
    server = await asyncio.start_server(_echo, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    conns = [await asyncio.open_connection("127.0.0.1", port, ssl=client_ctx, server_hostname="localhost")
             for _ in range(TLS_CONNS)]
    obj = conns[0][1].get_extra_info("ssl_object")
    msg = b"x" * size
    await _tls_round(conns, msg, max(1, n // 20))
    t0 = time.perf_counter()
    await _tls_round(conns, msg, n)
    dt = time.perf_counter() - t0
    for _, w in conns:
        w.close()
        await w.wait_closed()
    server.close()
    await server.wait_closed()
    return n, dt, f"{obj.version()}/{obj.cipher()[0]}"


# ---- memory: N tasks suspended at once ----

def rss_bytes():
    """Resident memory, page tables included (VmRSS + VmPTE), as tulip's side measures it."""
    try:
        with open("/proc/self/status") as f:
            kib = {k: int(v.split()[0]) for k, v in (l.split(":", 1) for l in f) if k in ("VmRSS", "VmPTE")}
        return (kib["VmRSS"] + kib.get("VmPTE", 0)) * 1024
    except (OSError, KeyError):  # not Linux: the peak is the best we have
        scale = 1 if sys.platform == "darwin" else 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


async def _suspended(fut):
    await fut


def maps_lines():
    try:
        with open("/proc/self/maps") as f:
            return sum(1 for _ in f)
    except OSError:
        return 0


async def tasks_suspended(n, rss=None):
    """Create n tasks that all wait on one future, let them all suspend, then finish them."""
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    before = rss_bytes()
    tasks = [loop.create_task(_suspended(fut)) for _ in range(n)]
    await asyncio.sleep(0)  # every task runs to its await and suspends
    if rss is not None:
        rss.append((rss_bytes() - before) / n)
        rss.append(maps_lines())
    fut.set_result(None)
    await asyncio.gather(*tasks)


# ---- generators: pure Python, no loop ----

def _leaf():
    while True:
        yield 1


def _relay(inner):
    return (yield from inner)


def _chain(depth):
    g = _leaf()
    for _ in range(depth - 1):
        g = _relay(g)
    return g


def bench_generator(name, n):
    g = _leaf() if name == "generator_next" else _chain(10)
    nxt = g.__next__
    for _ in range(max(1, n // 20)):
        nxt()
    t0 = time.perf_counter()
    for _ in range(n):
        nxt()
    report(name, "python", n, time.perf_counter() - t0)


# ---- the runner ----

async def run_loop_workloads(names, kind, scale, with_fd, fresh):
    loop = asyncio.get_running_loop()
    idle = None
    if with_fd:
        idle = socket.socketpair()
        loop.add_reader(idle[0].fileno(), lambda: None)
    suffix = "_fd" if with_fd else ""
    try:
        for name in names:
            if name in SUSPENDED and fresh:
                # a process of its own: memory freed by earlier workloads would be reused
                # and hide the cost of the tasks
                sys.stdout.flush()
                subprocess.run([sys.executable, __file__, name, "--loop", kind], check=True)
                continue
            if name in SUSPENDED:
                n = SUSPENDED[name]
                await tasks_suspended(max(1, n // 20))
                rss = []
                t0 = time.perf_counter()
                await tasks_suspended(n, rss)
                dt = time.perf_counter() - t0
                report(name, kind, n, dt, kib_per_task=f"{rss[0] / 1024:.2f}", maps=rss[1])
                continue
            if name in TLS:
                base, size = TLS[name]
                n, dt, tls = await tls_echo(max(1, int(base * scale)), size)
                report(name, kind, n, dt, mb_per_s=f"{n * size / dt / 1e6:.1f}", conns=TLS_CONNS,
                       size=size, tls=tls)
                continue
            n = max(1, int({**LOOP_WORKLOADS, **NET}[name] * scale))
            fn = globals()[name]
            await fn(max(1, n // 20))  # untimed warm-up
            t0 = time.perf_counter()
            await fn(n)
            report(name + suffix, kind, n, time.perf_counter() - t0)
    finally:
        if idle:
            loop.remove_reader(idle[0].fileno())
            idle[0].close()
            idle[1].close()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("names", nargs="*", help="workload name prefixes (default: all)")
    p.add_argument("--loop", choices=["asyncio", "uvloop", "none"], default="asyncio")
    p.add_argument("--scale", type=float, default=1.0, help="multiply the op counts")
    p.add_argument("--with-fd", action="store_true", help="keep one idle fd registered (NAME_fd)")
    a = p.parse_args()

    def wanted(table):
        return [k for k in table if not a.names or any(k.startswith(x) for x in a.names)]

    if a.loop in ("asyncio", "none") and not a.with_fd:
        for name in wanted(GENERATORS):
            bench_generator(name, max(1, int(GENERATORS[name] * a.scale)))
    if a.loop == "none":
        return
    names = wanted(LOOP_WORKLOADS)
    if not a.with_fd:
        names += wanted(NET) + wanted(TLS) + wanted(SUSPENDED)
    if not names:
        return
    if a.loop == "uvloop":
        try:
            import uvloop
        except ImportError:
            print("# uvloop is not installed for this python (pip install uvloop): skipping", flush=True)
            return
        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()  # the default selector (epoll) loop
    try:
        loop.run_until_complete(run_loop_workloads(names, a.loop, a.scale, a.with_fd, len(names) > 1))
    finally:
        loop.close()


if __name__ == "__main__":
    main()
