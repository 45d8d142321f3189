//! `asyncio.to_thread`: a blocking computation runs in a worker thread while the loop keeps
//! ticking. The worker waits for the ticker's go, so the output order is fixed.
//!
//! Run: `cargo run --example to_thread`. Prints three loop ticks, `go`, then the thread's
//! result (as tests/python/to_thread.py does).

use std::sync::{Arc, Barrier};
use std::time::Duration;

use tulip::{get_running_loop, run, sleep, to_thread};

fn main() -> anyhow::Result<()> {
    run(|co| {
        // Python's threading.Event: here a barrier the worker and the ticker both reach.
        let go = Arc::new(Barrier::new(2));
        let release = go.clone();
        let t = get_running_loop()?.create_task(move |co| {
            for i in 0..3 {
                println!("loop tick {i}");
                sleep(co, Duration::ZERO)?; // await asyncio.sleep(0)
            }
            println!("go");
            release.wait();
            Ok(())
        })?;
        println!("start blocking_sum in a thread");
        // total = await asyncio.to_thread(blocking_sum, 1000)
        let total = to_thread(co, move || {
            go.wait(); // blocks this worker thread, not the loop
            (0..1000u64).map(|i| i * i).sum::<u64>()
        })?;
        println!("blocking_sum returned {total}");
        co.wait(&t)?;
        Ok(())
    })
}
