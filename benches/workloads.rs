//! tulip's side of the benchmark workloads (benches/python/workloads.py is the Python twin).
//!
//! `cargo bench --bench workloads -- [NAME...] [--scale F] [--with-fd]`
//!
//! NAME selects workloads by prefix (none: all). Each workload runs an untimed warm-up of n/20
//! operations, then the timed run, and prints one line in the peers' format:
//!
//! `name=sleep0 loop=tulip ops=5000000 seconds=0.9000 ops_per_s=5555555`
//!
//! `--with-fd` keeps one idle fd registered with `add_reader`, so that every loop iteration
//! polls (the lines are then named `NAME_fd`). `--scale` multiplies the op counts.

use std::time::{Duration, Instant};

/// The command line, once parsed.
struct Opts {
    names: Vec<String>,
    scale: f64,
    with_fd: bool,
}

impl Opts {
    fn parse() -> Opts {
        let mut o = Opts {
            names: Vec::new(),
            scale: 1.0,
            with_fd: false,
        };
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            match a.as_str() {
                "--bench" => {} // cargo passes it to every bench target
                "--with-fd" => o.with_fd = true,
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

fn report(name: &str, ops: u64, dt: Duration, extra: &str) {
    let s = dt.as_secs_f64();
    let sep = if extra.is_empty() { "" } else { " " };
    println!(
        "name={name} loop=tulip ops={ops} seconds={s:.4} ops_per_s={:.0}{sep}{extra}",
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

/// One workload: its name, its op count at scale 1, and how to run n ops of it.
struct Workload {
    name: &'static str,
    ops: u64,
    run: fn(u64, &Opts),
}

/// Every workload tulip can run today, in the peers' order. The loop, generator and task
/// layers each add theirs as they land.
const WORKLOADS: &[Workload] = &[];

fn main() {
    let opts = Opts::parse();
    let mut ran = 0;
    for w in WORKLOADS.iter().filter(|w| opts.wants(w.name)) {
        let n = opts.ops(w.ops);
        let dt = timed(n, |k| (w.run)(k, &opts));
        let name = if opts.with_fd {
            format!("{}_fd", w.name)
        } else {
            w.name.to_string()
        };
        report(&name, n, dt, "");
        ran += 1;
    }
    if ran == 0 {
        println!("# no workload of tulip's matches {:?}", opts.names);
    }
}
