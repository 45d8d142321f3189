//! The talk's "Call at (and call later)": run a function after a delay.
//!
//! Run: `cargo run --example timers`. After 50 ms it prints `Hello World`; at 60 ms the loop
//! stops.
//!
//! `call_later(delay, f)` is `call_at(loop.time() + delay, f)`: a timer in the loop's heap.
//! While nothing else is ready, the loop sleeps until the next deadline.
//! Python twin: `tests/python/timers.py`.
use std::time::Duration;

use tulip::EventLoop;

fn hello() {
    println!("Hello World");
}

fn main() -> anyhow::Result<()> {
    let lp = EventLoop::new()?;
    lp.call_later(Duration::from_millis(50), hello)?;
    let stopper = lp.clone();
    lp.call_later(Duration::from_millis(60), move || stopper.stop())?;
    lp.run_forever()?;
    lp.close()
}
