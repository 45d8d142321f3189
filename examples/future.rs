//! A Future bound to the loop: its done callback runs through `call_soon`.
//!
//! Run: `cargo run --example future`. Prints `callback got 42`, then `result 42`
//! (as tests/python/future.py does).

use tulip::EventLoop;

fn main() -> anyhow::Result<()> {
    let lp = EventLoop::new()?;
    let fut = lp.create_future::<i32>();
    fut.add_done_callback(|f| println!("callback got {}", f.result().unwrap()));
    let setter = fut.clone();
    lp.call_soon(move || setter.set_result(42).unwrap())?;
    println!("result {}", lp.run_until_complete(&fut)?);
    lp.close()
}
