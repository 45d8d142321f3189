//! std futures inside tulip tasks: a future woken by another thread, an `async-channel` fed by
//! a thread, and a `futures::join!` of two tulip tasks, all awaited with `co.wait_std`.
//!
//! Run: `cargo run --example std_future`. Python twin: `tests/python/std_future.py`, which
//! does the same with asyncio's own pieces (`call_soon_threadsafe` from a thread, an
//! `asyncio.Queue` fed with `run_coroutine_threadsafe`, `gather`).
use std::time::Duration;

use tulip::{get_running_loop, sleep};

fn main() -> anyhow::Result<()> {
    tulip::run(|co| {
        let lp = get_running_loop()?;

        // A std future completed by another thread: its waker crosses threads through the
        // loop's thread-safe queue.
        let (tx, rx) = futures::channel::oneshot::channel::<&str>();
        let thread = std::thread::spawn(move || tx.send("from a thread"));
        println!("{}", co.wait_std(rx)??);
        thread.join().expect("thread").expect("receiver alive");

        // An async-channel fed by a thread; the channel closes when the sender is dropped.
        let (sender, receiver) = async_channel::bounded::<u32>(2);
        let producer = std::thread::spawn(move || {
            for i in 1..=3 {
                sender.send_blocking(i).expect("receiver alive");
            }
        });
        while let Ok(v) = co.wait_std(receiver.recv())? {
            println!("got {v}");
        }
        println!("channel closed");
        producer.join().expect("producer");

        // futures::join! of two tulip tasks: a task is an IntoFuture (not a Future) of
        // anyhow::Result<T>, so join! gets their into_future()s.
        let a = lp.create_task(|co| {
            sleep(co, Duration::from_millis(20))?;
            Ok("a")
        })?;
        let b = lp.create_task(|co| {
            sleep(co, Duration::from_millis(10))?;
            Ok("b")
        })?;
        let (x, y) = co.wait_std(async { futures::join!(a.into_future(), b.into_future()) })?;
        println!("joined {} {}", x?, y?);
        Ok(())
    })
}
