//! A Task on the loop, with a stackless body: it awaits a future that a timer resolves, and
//! completes with twice the value.
//!
//! Run: `cargo +nightly run --example loop_task_stackless --features nightly`. Prints
//! `wait future`, `future result 5`, `task result 10` (as tests/python/loop_task.py and
//! examples/loop_task.rs do).
#![feature(coroutines)]

use std::time::Duration;

use tulip::{EventLoop, await_};

fn main() -> anyhow::Result<()> {
    let lp = EventLoop::new()?;
    let fut = lp.create_future::<i32>();
    let waited = fut.clone();
    let task = lp.create_task_stackless(
        #[coroutine]
        static move |_| {
            println!("wait future");
            let result = await_!(waited)?; // Python: result = await fut
            println!("future result {result}");
            Ok(result * 2)
        },
    )?;
    lp.call_later(Duration::from_millis(10), move || {
        fut.set_result(5).unwrap()
    })?;
    println!("task result {}", lp.run_until_complete(&task)?);
    lp.close()
}
