//! The talk's producer/wrapper: `yield from` delegates to a sub-generator.
//!
//! Run: `cargo run --example producer_wrapper`. It prints what
//! `tests/python/producer_wrapper.py` prints: `enter wrapper`, `Hello`, `World!`,
//! `exit wrapper`.
use tulip::Generator;

fn producer() -> Generator<&'static str> {
    Generator::new(|co| {
        co.yield_("Hello")?;
        co.yield_("World!")?;
        Ok(())
    })
}

fn wrapper() -> Generator<&'static str> {
    Generator::new(|co| {
        println!("enter wrapper");
        co.yield_from(producer())?; // Python: yield from producer()
        println!("exit wrapper");
        Ok(())
    })
}

fn main() -> anyhow::Result<()> {
    for item in wrapper() {
        println!("{}", item?);
    }
    Ok(())
}
