//! The talk's first snippet, "Callback": schedule a function, then run what is ready.
//!
//! Run: `cargo run --example callbacks`. It prints `Hello World`.
//!
//! The talk's `CallbackEventLoop` keeps a list of callbacks and `execute_callback()` runs the
//! ones queued so far. tulip's `call_soon` does the same; `stop()` before `run_forever()`
//! makes the loop run exactly one iteration, which is `execute_callback()`.
//! Python twin: `tests/python/callbacks.py`.
use tulip::EventLoop;

fn hello() {
    println!("Hello World");
}

fn main() -> anyhow::Result<()> {
    let lp = EventLoop::new()?;
    lp.call_soon(hello)?;
    // One iteration: run the callbacks that are ready now.
    lp.stop();
    lp.run_forever()?;
    lp.close()
}
