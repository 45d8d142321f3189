//! The task tree: where each pending task waits and who awaits it (Python 3.14's
//! `python -m asyncio pstree` and `asyncio.format_call_graph`; 3.11 has neither, so this
//! example has a recorded output instead of a Python twin).
//!
//! `main` gathers two tasks: one sleeps, one waits for a lock that `main` holds. A callback
//! prints the tree while all three are suspended.

use std::time::Duration;

use tulip::{Lock, TaskCo, format_call_graph, gather, get_running_loop, sleep};

fn nap(co: &TaskCo) -> anyhow::Result<()> {
    sleep(co, Duration::from_millis(50))
}

fn take(co: &TaskCo, lock: &Lock) -> anyhow::Result<()> {
    lock.with(co, |_co| Ok(()))
}

fn main() -> anyhow::Result<()> {
    tulip::run(|co| {
        let lp = get_running_loop()?;
        let lock = Lock::new();
        lock.acquire(co)?;
        let sleeper = lp.create_task(nap)?;
        sleeper.set_name("sleeper");
        let l = lock.clone();
        let locker = lp.create_task(move |co| take(co, &l))?;
        locker.set_name("locker");
        let (lp2, s) = (lp.clone(), sleeper.as_any());
        lp.call_later(Duration::from_millis(10), move || {
            print!("{}", lp2.format_task_tree());
            println!();
            print!("{}", format_call_graph(&s));
        })?;
        let l = lock.clone();
        lp.call_later(Duration::from_millis(20), move || l.release().unwrap())?;
        co.wait(&gather(&[sleeper, locker])?)?;
        println!("done");
        Ok(())
    })
}
