//! tulip's side of the benchmark workloads (benches/python/workloads.py is the Python twin).
//!
//! `cargo bench --bench workloads -- [NAME...] [--scale F] [--with-fd] [--echo-client PATH]`
//!
//! NAME selects workloads by prefix (none: all). Each workload runs an untimed warm-up of n/20
//! operations, then the timed run, and prints one line in the peers' format:
//!
//! `name=sleep0 loop=tulip ops=5000000 seconds=0.9000 ops_per_s=5555555`
//!
//! With `--features nightly` (`cargo +nightly bench --bench workloads --features nightly`),
//! the task workloads (future_pingpong, task_spawn, sleep0, tasks_suspended_*) run again with
//! stackless task bodies, printed with `loop=tulip-stackless`; `--loop tulip` or `--loop
//! tulip-stackless` keeps one backend only.
//!
//! `--with-fd` keeps one idle fd registered with `add_reader`, so that every loop iteration
//! polls (the lines are then named `NAME_fd`). `--scale` multiplies the op counts.
//!
//! The tcp_echo workloads run an echo server (streams) in this process, driven by the peers'
//! Rust load generator (`tokio-baseline echo-client`, built by `../shared/bench/run-peers
//! rust`): `--echo-client PATH`, else `$ECHO_CLIENT`; without either they are skipped with a
//! `#` line. Their timing is the client's (it excludes connecting and its warm-up).
//!
//! The tls_echo workloads are the same echo over TLS with both sides in this process: the
//! streams echo server behind `start_server_tls` and `--conns` clients (10 by default), with
//! a certificate authority and a server certificate made at run time (rcgen). The handshakes
//! and the warm-up are untimed.

#![cfg_attr(feature = "nightly", feature(coroutines, coroutine_trait))]

use std::cell::{Cell, RefCell};
use std::hint::black_box;
use std::net::SocketAddr;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tulip::{
    DEFAULT_LIMIT, DatagramOptions, DatagramProtocol, DatagramTransport, EventLoop, Future,
    Generator, Stdio, StreamReader, StreamWriter, TaskCo, TlsAcceptor, TlsConnector,
    create_datagram_endpoint, create_subprocess_exec, gather, get_running_loop,
    open_connection_tls_with, sleep, sock_recv, sock_sendall, start_server, start_server_tls,
};

/// The command line, once parsed.
struct Opts {
    names: Vec<String>,
    scale: f64,
    with_fd: bool,
    echo_client: Option<String>,
    /// Connections the echo client opens (`--conns`, the peers' option).
    conns: u64,
    /// `--loop NAME`: only the workloads of this backend (`tulip`, `tulip-stackless`).
    only_loop: Option<String>,
}

impl Opts {
    fn parse() -> Opts {
        let mut o = Opts {
            names: Vec::new(),
            scale: 1.0,
            with_fd: false,
            conns: ECHO_CONNS,
            echo_client: std::env::var("ECHO_CLIENT").ok().filter(|s| !s.is_empty()),
            only_loop: None,
        };
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            match a.as_str() {
                "--bench" => {} // cargo passes it to every bench target
                "--with-fd" => o.with_fd = true,
                "--conns" => {
                    let v = args.next().unwrap_or_default();
                    o.conns = v
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .unwrap_or_else(|| die(&format!("--conns takes a count, not {v:?}")));
                }
                "--echo-client" => {
                    let v = args.next().unwrap_or_default();
                    if v.is_empty() {
                        die("--echo-client takes a path");
                    }
                    o.echo_client = Some(v);
                }
                "--loop" => o.only_loop = Some(args.next().unwrap_or_default()),
                "--scale" => {
                    let v = args.next().unwrap_or_default();
                    o.scale = v
                        .parse()
                        .unwrap_or_else(|_| die(&format!("--scale takes a number, not {v:?}")));
                }
                s if s.starts_with('-') => die(&format!("unknown option {s}")),
                _ => o.names.push(a),
            }
        }
        o
    }

    fn wants(&self, name: &str) -> bool {
        self.names.is_empty() || self.names.iter().any(|p| name.starts_with(p.as_str()))
    }

    fn ops(&self, base: u64) -> u64 {
        ((base as f64 * self.scale) as u64).max(1)
    }
}

fn die(msg: &str) -> ! {
    eprintln!("workloads: {msg}");
    std::process::exit(2)
}

thread_local! {
    /// The `loop=` of the lines printed: which backend the task bodies are on.
    static LOOP: Cell<&'static str> = const { Cell::new("tulip") };
}

fn report(name: &str, ops: u64, dt: Duration, extra: &str) {
    let s = dt.as_secs_f64();
    let sep = if extra.is_empty() { "" } else { " " };
    println!(
        "name={name} loop={} ops={ops} seconds={s:.4} ops_per_s={:.0}{sep}{extra}",
        LOOP.get(),
        ops as f64 / s
    );
}

/// Untimed warm-up of n/20 operations, then the timed run of n.
fn timed(n: u64, mut run: impl FnMut(u64)) -> Duration {
    run((n / 20).max(1));
    let t0 = Instant::now();
    run(n);
    t0.elapsed()
}

// ---- the event loop: callbacks and timers ----

/// A fixed-seed xorshift64, so that every run draws the same delays.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// One callback shared by n calls, as Python schedules one function object n times: it
/// counts down and stops the loop at zero.
fn countdown(lp: &EventLoop, n: u64) -> Rc<dyn Fn()> {
    let (left, lp) = (Cell::new(n), lp.clone());
    Rc::new(move || {
        left.set(left.get() - 1);
        if left.get() == 0 {
            lp.stop();
        }
    })
}

/// Each callback schedules the next; the n-th stops the loop.
fn callbacks_chain(lp: &EventLoop, n: u64) {
    fn step(lp: EventLoop, left: u64) {
        if left == 1 {
            lp.stop();
        } else {
            let next = lp.clone();
            lp.call_soon(move || step(next, left - 1)).unwrap();
        }
    }
    let first = lp.clone();
    lp.call_soon(move || step(first, n)).unwrap();
    lp.run_forever().unwrap();
}

/// n callbacks scheduled at once.
fn callbacks_upfront(lp: &EventLoop, n: u64) {
    let cb = countdown(lp, n);
    for _ in 0..n {
        let cb = cb.clone();
        lp.call_soon(move || cb()).unwrap();
    }
    lp.run_forever().unwrap();
}

/// n timers, delays drawn in [0, 10 ms], all firing.
fn timers_fire(lp: &EventLoop, n: u64) {
    let (cb, mut rng) = (countdown(lp, n), Rng(0x2545_F491_4F6C_DD1D));
    for _ in 0..n {
        let cb = cb.clone();
        let delay = Duration::from_nanos(rng.below(10_000_000));
        lp.call_later(delay, move || cb()).unwrap();
    }
    lp.run_forever().unwrap();
}

/// n timers 10 s+ away, each cancelled, then one loop iteration (which may purge them).
fn timers_cancel(lp: &EventLoop, n: u64) {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let delay = Duration::from_secs(10) + Duration::from_nanos(rng.below(1_000_000_000));
            lp.call_later(delay, || {}).unwrap()
        })
        .collect();
    for h in &handles {
        h.cancel();
    }
    let stop = lp.clone();
    lp.call_soon(move || stop.stop()).unwrap();
    lp.run_forever().unwrap();
}

// ---- futures and tasks ----

/// Runs `body` as the main task, as Python runs the benchmark coroutine with
/// `run_until_complete`.
fn run_main(lp: &EventLoop, body: impl FnOnce(&TaskCo) -> anyhow::Result<()> + 'static) {
    let main = lp.create_task(body).unwrap();
    lp.run_until_complete(&main).unwrap();
}

/// Two tasks; each waits for its own future, replaces it with a fresh one, then resolves the
/// other's. One op is a round trip (two handoffs). The current futures live in a box, not a
/// chain, so nothing is ever deep.
fn future_pingpong(lp: &EventLoop, n: u64) {
    let futs = Rc::new([
        RefCell::new(lp.create_future::<()>()),
        RefCell::new(lp.create_future()),
    ]);
    futs[0].borrow().set_result(()).unwrap(); // A goes first
    let player = |me: usize, futs: Rc<[RefCell<Future<()>>; 2]>| {
        move |co: &TaskCo| {
            let lp = get_running_loop()?;
            for _ in 0..n {
                let mine = futs[me].borrow().clone();
                co.wait(&mine)?;
                *futs[me].borrow_mut() = lp.create_future();
                futs[1 - me].borrow().set_result(())?;
            }
            Ok(())
        }
    };
    let (a, b) = (player(0, futs.clone()), player(1, futs));
    run_main(lp, move |co| {
        let lp = get_running_loop()?;
        let players = [lp.create_task(a)?, lp.create_task(b)?];
        co.wait(&gather(&players)?)?;
        Ok(())
    });
}

/// Creates no-op tasks in batches of 1000 and gathers each batch.
fn task_spawn(lp: &EventLoop, n: u64) {
    run_main(lp, move |co| {
        let lp = get_running_loop()?;
        let mut left = n;
        while left > 0 {
            let k = left.min(1000);
            let batch = (0..k)
                .map(|_| lp.create_task(|_| Ok(())))
                .collect::<anyhow::Result<Vec<_>>>()?;
            co.wait(&gather(&batch)?)?;
            left -= k;
        }
        Ok(())
    });
}

/// `await asyncio.sleep(0)` n times in one task.
fn sleep0(lp: &EventLoop, n: u64) {
    run_main(lp, move |co| {
        for _ in 0..n {
            sleep(co, Duration::ZERO)?;
        }
        Ok(())
    });
}

// ---- readiness I/O ----

/// Two tasks bounce 1 byte over a socketpair with `sock_sendall` / `sock_recv`; one op is a
/// round trip (Python: `loop.sock_sendall`/`sock_recv` over `socket.socketpair()`).
fn socketpair_pingpong(lp: &EventLoop, n: u64) {
    run_main(lp, move |co| {
        let lp = get_running_loop()?;
        let (a, b) = UnixStream::pair()?;
        a.set_nonblocking(true)?;
        b.set_nonblocking(true)?;
        let pong = lp.create_task(move |co| {
            for _ in 0..n {
                sock_recv(co, &b, 1)?;
                sock_sendall(co, &b, b"y")?;
            }
            Ok(())
        })?;
        for _ in 0..n {
            sock_sendall(co, &a, b"x")?;
            sock_recv(co, &a, 1)?;
        }
        co.wait(&pong)?;
        Ok(())
    });
}

/// The UDP echo side of udp_pingpong: sends every datagram back.
struct UdpEcho(RefCell<Option<DatagramTransport>>);

impl DatagramProtocol for UdpEcho {
    fn connection_made(&self, transport: &DatagramTransport) -> anyhow::Result<()> {
        *self.0.borrow_mut() = Some(transport.clone());
        Ok(())
    }

    fn datagram_received(&self, data: &[u8], addr: SocketAddr) -> anyhow::Result<()> {
        let t = self.0.borrow().clone().expect("connection made");
        t.sendto(data, Some(addr))
    }
}

/// The pinging side of udp_pingpong: each reply sends the next ping until `left` is 0.
struct UdpPing {
    transport: RefCell<Option<DatagramTransport>>,
    left: Cell<u64>,
    done: Future<()>,
}

impl DatagramProtocol for UdpPing {
    fn connection_made(&self, transport: &DatagramTransport) -> anyhow::Result<()> {
        *self.transport.borrow_mut() = Some(transport.clone());
        Ok(())
    }

    fn datagram_received(&self, _data: &[u8], _addr: SocketAddr) -> anyhow::Result<()> {
        self.left.set(self.left.get() - 1);
        if self.left.get() == 0 {
            return self.done.set_result(());
        }
        let t = self.transport.borrow().clone().expect("connection made");
        t.sendto(b"x", None)
    }
}

/// 1-byte datagrams bounced over loopback between two `create_datagram_endpoint`
/// protocols (a server on 127.0.0.1 and a client connected to it); one op is a round trip.
fn udp_pingpong(lp: &EventLoop, n: u64) {
    run_main(lp, move |co| {
        let lp = get_running_loop()?;
        let opts = DatagramOptions::local("127.0.0.1", 0);
        let (server, _) = create_datagram_endpoint(co, || UdpEcho(RefCell::new(None)), opts)?;
        let port = server.local_addr().expect("bound").port();
        let done = lp.create_future::<()>();
        let ping = UdpPing {
            transport: RefCell::new(None),
            left: Cell::new(n),
            done: done.clone(),
        };
        let opts = DatagramOptions::remote("127.0.0.1", port);
        let (client, _) = create_datagram_endpoint(co, || ping, opts)?;
        client.sendto(b"x", None)?;
        co.wait(&done)?;
        client.close();
        server.close();
        Ok(())
    });
}

/// The echo handler of `asyncio.start_server` in the Python twin: read(65536), write, drain.
fn echo(co: &TaskCo, r: StreamReader, w: StreamWriter) -> anyhow::Result<()> {
    loop {
        let data = r.read(co, 65536)?;
        if data.is_empty() {
            break;
        }
        w.write(&data)?;
        w.drain(co)?;
    }
    w.close();
    Ok(())
}

/// Raises the soft fd limit to the hard one when `conns` connections need more (each takes
/// an fd in the server; the client is another process with its own limit).
fn raise_fd_limit(conns: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid struct.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < conns + 100 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// The echo connections the client opens by default (the peers' setting).
const ECHO_CONNS: u64 = 10;

/// An echo server (streams) on 127.0.0.1 and the load generator as a child process: `msgs`
/// messages of `size` bytes over `conns` connections. Reports the client's own timing.
fn run_tcp_echo(name: &str, client: &str, size: usize, msgs: u64, conns: u64) {
    let client = client.to_string();
    let msgs = msgs.max(conns);
    raise_fd_limit(conns);
    let line = tulip::run(move |co| {
        let server = start_server(co, echo, "127.0.0.1", 0)?;
        let port = server.local_addr().expect("listening").port();
        let args = [
            "echo-client".to_string(),
            "--addr".into(),
            format!("127.0.0.1:{port}"),
            "--conns".into(),
            conns.to_string(),
            "--size".into(),
            size.to_string(),
            "--msgs".into(),
            msgs.to_string(),
        ];
        let p = create_subprocess_exec(
            co,
            &client,
            &args,
            Stdio::Inherit,
            Stdio::Piped,
            Stdio::Inherit,
        )?;
        let (out, _) = p.communicate(co, None)?;
        server.close();
        let out = String::from_utf8_lossy(&out.unwrap_or_default()).into_owned();
        Ok(out.lines().last().unwrap_or_default().to_string())
    })
    .unwrap_or_else(|e| die(&format!("{name}: {e:#}")));
    // `name=echo_client loop=tokio ops=N seconds=S ops_per_s=R mb_per_s=M`
    let field = |k: &str| {
        line.split(' ')
            .find_map(|f| f.strip_prefix(k)?.strip_prefix('='))
            .unwrap_or_else(|| die(&format!("{name}: no {k} in the client's line {line:?}")))
    };
    let ops = field("ops").parse().unwrap_or(0);
    let secs: f64 = field("seconds").parse().unwrap_or(0.0);
    let extra = format!(
        "mb_per_s={} conns={conns} size={size} client=rust",
        field("mb_per_s")
    );
    report(name, ops, Duration::from_secs_f64(secs), &extra);
}

/// A server acceptor and a client connector for `localhost`, from a certificate authority
/// and a server certificate made now (rcgen, ECDSA P-256 as the twin's `openssl`): nothing
/// checked in that expires.
fn tls_pair() -> anyhow::Result<(TlsAcceptor, TlsConnector)> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    use tulip::rustls::pki_types::PrivateKeyDer;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "bench CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()])?;
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    let key = KeyPair::generate()?;
    let cert = leaf.signed_by(&key, &issuer)?;
    let acceptor = TlsAcceptor::with_single_cert(
        vec![cert.der().clone()],
        PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )?;
    let connector = TlsConnector::with_root_certificates([ca_cert.der().clone()])?;
    Ok((acceptor, connector))
}

/// `msgs` echoed requests of `size` bytes spread over the connections (the first ones take
/// one more when they do not divide evenly), all connections at once; returns when every
/// echo is back.
fn tls_round(
    co: &TaskCo,
    conns: &[(StreamReader, StreamWriter)],
    msg: &Rc<[u8]>,
    msgs: u64,
) -> anyhow::Result<()> {
    let lp = get_running_loop()?;
    let k = conns.len() as u64;
    let mut tasks = Vec::with_capacity(conns.len());
    for (i, (r, w)) in conns.iter().enumerate() {
        let share = msgs / k + u64::from((i as u64) < msgs % k);
        let (r, w, msg) = (r.clone(), w.clone(), msg.clone());
        tasks.push(lp.create_task(move |co| {
            for _ in 0..share {
                w.write(&msg)?;
                w.drain(co)?;
                r.readexactly(co, msg.len())?;
            }
            Ok(())
        })?);
    }
    for t in &tasks {
        co.wait(t)?;
    }
    Ok(())
}

/// TLS echo in one process: the streams echo server of tcp_echo behind `start_server_tls`,
/// and `conns` TLS clients (`open_connection_tls_with`, server name `localhost`) that each
/// write a message of `size` bytes, drain, and read it back exactly; one op is one echoed
/// message. The handshakes and the warm-up (n/20 messages, same connections) are untimed.
fn run_tls_echo(name: &str, size: usize, msgs: u64, conns: u64) {
    let (acceptor, connector) = tls_pair().unwrap_or_else(|e| die(&format!("{name}: {e:#}")));
    let msgs = msgs.max(conns);
    raise_fd_limit(2 * conns);
    let (dt, cipher) = tulip::run(move |co| {
        let server = start_server_tls(co, echo, "127.0.0.1", 0, &acceptor)?;
        let port = server.local_addr().expect("listening").port();
        let mut pairs = Vec::new();
        for _ in 0..conns {
            pairs.push(open_connection_tls_with(
                co,
                "127.0.0.1",
                port,
                &connector,
                "localhost",
                DEFAULT_LIMIT,
            )?);
        }
        let ssl = pairs[0].1.ssl_object().expect("TLS");
        let cipher = format!("{}/{}", ssl.version(), ssl.cipher());
        let msg: Rc<[u8]> = vec![b'x'; size].into();
        let dt = timed(msgs, |k| {
            tls_round(co, &pairs, &msg, k).unwrap_or_else(|e| die(&format!("{e:#}")))
        });
        for (_, w) in &pairs {
            w.close();
            w.wait_closed(co)?;
        }
        server.close();
        server.wait_closed(co)?;
        Ok((dt, cipher))
    })
    .unwrap_or_else(|e| die(&format!("{name}: {e:#}")));
    let mb = (msgs * size as u64) as f64 / dt.as_secs_f64() / 1e6;
    let extra = format!("mb_per_s={mb:.1} conns={conns} size={size} tls={cipher}");
    report(name, msgs, dt, &extra);
}

// ---- memory: N tasks suspended at once ----

/// This process's resident memory, page tables included (VmRSS + VmPTE): a suspended
/// task's stack costs page tables too.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |field: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (kib("VmRSS:") + kib("VmPTE:")) * 1024
}

/// Lines of /proc/self/maps: the memory mappings, which Linux caps at vm.max_map_count.
fn maps_lines() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .map(|m| m.lines().count())
        .unwrap_or(0)
}

/// n tasks all waiting for one future: let them all suspend, note the resident memory they
/// added (bytes per task) and the mappings, then resolve the future and wait for every task.
fn tasks_suspended(lp: &EventLoop, n: u64) -> (f64, usize) {
    #[cfg(feature = "nightly")]
    if LOOP.get() == stackless::LOOP_NAME {
        return stackless::tasks_suspended(lp, n);
    }
    let seen = Rc::new(Cell::new((0.0, 0)));
    let out = seen.clone();
    run_main(lp, move |co| {
        let lp = get_running_loop()?;
        let fut = lp.create_future::<()>();
        let before = rss_bytes();
        let tasks = (0..n)
            .map(|_| {
                let fut = fut.clone();
                lp.create_task(move |co| co.wait(&fut))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        co.yield_now()?; // every task runs to its wait and suspends
        let per_task = (rss_bytes().saturating_sub(before)) as f64 / n as f64;
        out.set((per_task, maps_lines()));
        fut.set_result(())?;
        co.wait(&gather(&tasks)?)?;
        Ok(())
    });
    seen.get()
}

/// Runs one memory workload in this process: warm-up, then the measured run.
fn run_suspended(name: &str, n: u64) {
    let lp = EventLoop::new().unwrap();
    tasks_suspended(&lp, (n / 20).max(1));
    let t0 = Instant::now();
    let (per_task, maps) = tasks_suspended(&lp, n);
    let dt = t0.elapsed();
    lp.close().unwrap();
    report(
        name,
        n,
        dt,
        &format!("kib_per_task={:.2} maps={maps}", per_task / 1024.0),
    );
}

// ---- generators, no loop ----

/// `while True: yield 1`
fn leaf() -> Generator<u64> {
    Generator::new(|co| {
        loop {
            co.yield_(1)?;
        }
    })
}

/// `return (yield from inner)`
fn relay(inner: Generator<u64>) -> Generator<u64> {
    Generator::new(move |co| co.yield_from(inner))
}

fn generator_next() -> Generator<u64> {
    leaf()
}

/// Ten generators stacked: relay(relay(... leaf())).
fn generator_yieldfrom10() -> Generator<u64> {
    (1..10).fold(leaf(), |g, _| relay(g))
}

/// Runs one generator workload: `next()` n times on one generator.
fn run_generator(name: &str, n: u64, make: fn() -> Generator<u64>) {
    let g = make();
    let dt = timed(n, |k| {
        for _ in 0..k {
            black_box(g.next().unwrap());
        }
    });
    report(name, n, dt, "");
}

/// What a workload needs to run.
#[derive(Clone, Copy)]
enum Kind {
    /// Runs on a loop (made once per workload, for the warm-up and the timed run).
    Loop(fn(&EventLoop, u64)),
    /// Resumes one generator (no loop).
    Generator(fn() -> Generator<u64>),
    /// N tasks suspended at once, in a process of its own (memory freed by earlier
    /// workloads would be reused and hide the tasks' cost); the op count is N, never scaled.
    Suspended,
    /// TCP echo of messages of this many bytes, driven by the external client.
    Echo(usize),
    /// TLS echo of messages of this many bytes, client and server in this process.
    Tls(usize),
}

/// One workload: its name, its op count at scale 1, and how to run n ops of it.
struct Workload {
    name: &'static str,
    ops: u64,
    kind: Kind,
}

/// Every workload, in the peers' order; the loop workloads take tokio's op counts.
const WORKLOADS: &[Workload] = &[
    Workload {
        name: "generator_next",
        ops: 20_000_000,
        kind: Kind::Generator(generator_next),
    },
    Workload {
        name: "generator_yieldfrom10",
        ops: 20_000_000,
        kind: Kind::Generator(generator_yieldfrom10),
    },
    Workload {
        name: "callbacks_chain",
        ops: 5_000_000,
        kind: Kind::Loop(callbacks_chain),
    },
    Workload {
        name: "callbacks_upfront",
        ops: 2_000_000,
        kind: Kind::Loop(callbacks_upfront),
    },
    Workload {
        name: "timers_fire",
        ops: 1_000_000,
        kind: Kind::Loop(timers_fire),
    },
    Workload {
        name: "timers_cancel",
        ops: 1_000_000,
        kind: Kind::Loop(timers_cancel),
    },
    Workload {
        name: "future_pingpong",
        ops: 2_000_000,
        kind: Kind::Loop(future_pingpong),
    },
    Workload {
        name: "task_spawn",
        ops: 2_000_000,
        kind: Kind::Loop(task_spawn),
    },
    Workload {
        name: "sleep0",
        ops: 5_000_000,
        kind: Kind::Loop(sleep0),
    },
    Workload {
        name: "socketpair_pingpong",
        ops: 200_000,
        kind: Kind::Loop(socketpair_pingpong),
    },
    Workload {
        name: "udp_pingpong",
        ops: 100_000,
        kind: Kind::Loop(udp_pingpong),
    },
    Workload {
        name: "tcp_echo_streams_1k",
        ops: 100_000,
        kind: Kind::Echo(1024),
    },
    Workload {
        name: "tcp_echo_streams_100k",
        ops: 20_000,
        kind: Kind::Echo(100 * 1024),
    },
    Workload {
        name: "tls_echo_1k",
        ops: 50_000,
        kind: Kind::Tls(1024),
    },
    Workload {
        name: "tls_echo_100k",
        ops: 10_000,
        kind: Kind::Tls(100 * 1024),
    },
    Workload {
        name: "tasks_suspended_1k",
        ops: 1_000,
        kind: Kind::Suspended,
    },
    Workload {
        name: "tasks_suspended_10k",
        ops: 10_000,
        kind: Kind::Suspended,
    },
    Workload {
        name: "tasks_suspended_30k",
        ops: 30_000,
        kind: Kind::Suspended,
    },
    Workload {
        name: "tasks_suspended_100k",
        ops: 100_000,
        kind: Kind::Suspended,
    },
    Workload {
        name: "tasks_suspended_1m",
        ops: 1_000_000,
        kind: Kind::Suspended,
    },
];

/// Runs one loop workload, with the idle fd registered when asked.
fn run_on_loop(name: &str, n: u64, run: fn(&EventLoop, u64), with_fd: bool) {
    let lp = EventLoop::new().unwrap();
    // one end of a socketpair nobody writes to: never readable, but polled every iteration
    let idle = with_fd.then(|| UnixStream::pair().unwrap());
    if let Some((a, _)) = &idle {
        lp.add_reader(a, || {}).unwrap();
    }
    let dt = timed(n, |k| run(&lp, k));
    if let Some((a, _)) = &idle {
        lp.remove_reader(a);
    }
    lp.close().unwrap();
    let name = if with_fd {
        format!("{name}_fd")
    } else {
        name.to_string()
    };
    report(&name, n, dt, "");
}

/// The workloads of one backend, by its `loop=` name.
fn backends() -> Vec<(&'static str, &'static [Workload])> {
    #[allow(unused_mut)] // one backend without the nightly feature
    let mut all: Vec<(&'static str, &'static [Workload])> = vec![("tulip", WORKLOADS)];
    #[cfg(feature = "nightly")]
    all.push((stackless::LOOP_NAME, stackless::WORKLOADS));
    all
}

fn main() {
    let opts = Opts::parse();
    let chosen: Vec<(&'static str, &Workload)> = backends()
        .into_iter()
        .filter(|(lp, _)| opts.only_loop.as_deref().is_none_or(|only| only == *lp))
        .flat_map(|(lp, ws)| ws.iter().map(move |w| (lp, w)))
        .filter(|(_, w)| opts.wants(w.name))
        .collect();
    let mut ran = 0;
    for &(loop_name, w) in &chosen {
        LOOP.set(loop_name);
        let n = opts.ops(w.ops);
        match w.kind {
            Kind::Loop(run) => run_on_loop(w.name, n, run, opts.with_fd),
            // no loop, so no idle fd to poll: as the Python twin, left out of --with-fd
            Kind::Generator(_) if opts.with_fd => continue,
            Kind::Generator(make) => run_generator(w.name, n, make),
            Kind::Suspended if opts.with_fd => continue,
            // its fds are polled anyway
            Kind::Echo(_) | Kind::Tls(_) if opts.with_fd => continue,
            Kind::Tls(size) => run_tls_echo(w.name, size, n, opts.conns),
            Kind::Echo(size) => match &opts.echo_client {
                Some(client) => run_tcp_echo(w.name, client, size, n, opts.conns),
                None => println!(
                    "# {} skipped: no echo client (pass --echo-client PATH or set ECHO_CLIENT \
                     to tokio-baseline, built by ../shared/bench/run-peers rust)",
                    w.name
                ),
            },
            Kind::Suspended if chosen.len() == 1 => run_suspended(w.name, w.ops),
            Kind::Suspended => {
                let exe = std::env::current_exe().unwrap();
                let status = std::process::Command::new(exe)
                    .args([w.name, "--loop", loop_name])
                    .status()
                    .unwrap();
                assert!(status.success(), "{} failed: {status}", w.name);
            }
        }
        ran += 1;
    }
    if ran == 0 {
        println!("# no workload of tulip's matches {:?}", opts.names);
    }
}

/// The task workloads with stackless task bodies (feature `nightly`).
#[cfg(feature = "nightly")]
#[path = "workloads/stackless.rs"]
mod stackless;
