//! A Task on the loop: its coroutine waits for a future that a timer resolves, and the
//! task completes with twice the value.
//!
//! Run: `cargo run --example loop_task`. Prints `wait future`, `future result 5`,
//! `task result 10` (as tests/python/loop_task.py does).

use std::time::Duration;

use tulip::EventLoop;

fn main() -> anyhow::Result<()> {
    let lp = EventLoop::new()?;
    let fut = lp.create_future::<i32>();
    let waited = fut.clone();
    let task = lp.create_task(move |co| {
        println!("wait future");
        let result = co.wait(&waited)?; // Python: result = await fut
        println!("future result {result}");
        Ok(result * 2)
    })?;
    lp.call_later(Duration::from_millis(10), move || {
        fut.set_result(5).unwrap()
    })?;
    println!("task result {}", lp.run_until_complete(&task)?);
    lp.close()
}
