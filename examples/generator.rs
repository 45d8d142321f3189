//! The talk's `demo_gen`: a generator prints `start`, yields 1, prints `stop` and returns 2.
//!
//! Run: `cargo run --example generator`. It prints what `tests/python/generator.py` prints:
//! `start`, `1`, `stop`, `2` (the last is the return value, Python's `StopIteration.value`).
use tulip::{Generator, GeneratorState};

fn main() -> anyhow::Result<()> {
    let generator = Generator::<i32, (), i32>::new(|co| {
        println!("start");
        co.yield_(1)?;
        println!("stop");
        Ok(2)
    });
    // not started yet: next() runs the body up to its first yield
    if let GeneratorState::Yielded(value) = generator.next()? {
        println!("{value}"); // print 1
    }
    // the body runs to its end: Python raises StopIteration(2), tulip returns Returned(2)
    if let GeneratorState::Returned(value) = generator.next()? {
        println!("{value}"); // print 2
    }
    Ok(())
}
