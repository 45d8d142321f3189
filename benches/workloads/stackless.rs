//! The task workloads with stackless task bodies (`loop=tulip-stackless`): the same work as
//! their stackful twins in workloads.rs, with `await_!` for `co.wait` and `yield_now!` for
//! `sleep(co, 0)` (a bare yield, which is what `sleep(0)` is). A file of its own: the
//! coroutine syntax must not even be parsed by a stable build.

use std::cell::{Cell, RefCell};
use std::ops::Coroutine;
use std::rc::Rc;

use tulip::stackless::Sent;
use tulip::{EventLoop, Future, Suspend, await_, gather, get_running_loop, yield_now};

use super::{Kind, Workload, maps_lines, rss_bytes};

pub const LOOP_NAME: &str = "tulip-stackless";

pub const WORKLOADS: &[Workload] = &[
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

fn run_main(
    lp: &EventLoop,
    body: impl Coroutine<Sent<()>, Yield = Suspend, Return = anyhow::Result<()>> + 'static,
) {
    let main = lp.create_task_stackless(body).unwrap();
    lp.run_until_complete(&main).unwrap();
}

fn future_pingpong(lp: &EventLoop, n: u64) {
    let futs = Rc::new([
        RefCell::new(lp.create_future::<()>()),
        RefCell::new(lp.create_future()),
    ]);
    futs[0].borrow().set_result(()).unwrap(); // A goes first
    let player = |me: usize, futs: Rc<[RefCell<Future<()>>; 2]>| {
        #[coroutine]
        static move |_| {
            let lp = get_running_loop()?;
            for _ in 0..n {
                let mine = futs[me].borrow().clone();
                await_!(mine)?;
                *futs[me].borrow_mut() = lp.create_future();
                futs[1 - me].borrow().set_result(())?;
            }
            Ok(())
        }
    };
    let (a, b) = (player(0, futs.clone()), player(1, futs));
    run_main(
        lp,
        #[coroutine]
        static move |_| {
            let lp = get_running_loop()?;
            let players = [lp.create_task_stackless(a)?, lp.create_task_stackless(b)?];
            await_!(gather(&players)?)?;
            Ok(())
        },
    );
}

fn task_spawn(lp: &EventLoop, n: u64) {
    run_main(
        lp,
        #[coroutine]
        static move |_| {
            let lp = get_running_loop()?;
            let mut left = n;
            while left > 0 {
                let k = left.min(1000);
                let batch = (0..k)
                    .map(|_| {
                        lp.create_task_stackless(
                            #[coroutine]
                            static |_| Ok(()),
                        )
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                await_!(gather(&batch)?)?;
                left -= k;
            }
            Ok(())
        },
    );
}

fn sleep0(lp: &EventLoop, n: u64) {
    run_main(
        lp,
        #[coroutine]
        static move |_| {
            for _ in 0..n {
                yield_now!()?; // await asyncio.sleep(0)
            }
            Ok(())
        },
    );
}

pub fn tasks_suspended(lp: &EventLoop, n: u64) -> (f64, usize) {
    let seen = Rc::new(Cell::new((0.0, 0)));
    let out = seen.clone();
    run_main(
        lp,
        #[coroutine]
        static move |_| {
            let lp = get_running_loop()?;
            let fut = lp.create_future::<()>();
            let before = rss_bytes();
            let tasks = (0..n)
                .map(|_| {
                    let fut = fut.clone();
                    lp.create_task_stackless(
                        #[coroutine]
                        static move |_| await_!(fut),
                    )
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            yield_now!()?; // every task runs to its wait and suspends
            let per_task = (rss_bytes().saturating_sub(before)) as f64 / n as f64;
            out.set((per_task, maps_lines()));
            fut.set_result(())?;
            await_!(gather(&tasks)?)?;
            Ok(())
        },
    );
    seen.get()
}
