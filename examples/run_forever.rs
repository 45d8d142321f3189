//! The talk's "Run forever, stop": run until a callback stops the loop.
//!
//! Run: `cargo run --example run_forever`. It prints `Hello World`, then `stopped`.
//!
//! `run_forever()` repeats iterations until `stop()` is called; `stop()` only sets a flag, so
//! the iteration that called it finishes first.
//! Python twin: `tests/python/run_forever.py`.
use tulip::EventLoop;

fn hello() {
    println!("Hello World");
}

fn main() -> anyhow::Result<()> {
    let lp = EventLoop::new()?;
    lp.call_soon(hello)?;
    let stopper = lp.clone();
    lp.call_soon(move || stopper.stop())?;
    lp.run_forever()?;
    println!("stopped");
    lp.close()
}
