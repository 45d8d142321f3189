//! The talk's `demo_gen` on the stackless backend: a generator prints `start`, yields 1,
//! prints `stop` and returns 2. The body is a nightly coroutine; `yield_!` is Python's `yield`.
//!
//! Run: `cargo +nightly run --example generator_stackless --features nightly`. It prints
//! what `tests/python/generator.py` prints (as `examples/generator.rs` does): `start`, `1`,
//! `stop`, `2`.
#![feature(coroutines)]

use tulip::stackless::Generator;
use tulip::{GeneratorState, yield_};

fn main() -> anyhow::Result<()> {
    let generator = Generator::<i32, (), i32>::new(
        #[coroutine]
        static |_| {
            println!("start");
            yield_!(1)?;
            println!("stop");
            Ok(2)
        },
    );
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
