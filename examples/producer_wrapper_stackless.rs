//! The talk's producer/wrapper on the stackless backend: `yield_from!` delegates to a
//! sub-generator, as Python's `yield from`.
//!
//! Run: `cargo +nightly run --example producer_wrapper_stackless --features nightly`. It
//! prints what `tests/python/producer_wrapper.py` prints (as `examples/producer_wrapper.rs`
//! does): `enter wrapper`, `Hello`, `World!`, `exit wrapper`.
#![feature(coroutines)]

use tulip::stackless::Generator;
use tulip::{yield_, yield_from};

fn producer() -> Generator<&'static str> {
    Generator::new(
        #[coroutine]
        static |_| {
            yield_!("Hello")?;
            yield_!("World!")?;
            Ok(())
        },
    )
}

fn wrapper() -> Generator<&'static str> {
    Generator::new(
        #[coroutine]
        static |_| {
            println!("enter wrapper");
            yield_from!(producer())?; // Python: yield from producer()
            println!("exit wrapper");
            Ok(())
        },
    )
}

fn main() -> anyhow::Result<()> {
    for item in wrapper() {
        println!("{}", item?);
    }
    Ok(())
}
