//! Placeholder: prints what tests/python/hello.py prints. Run: `cargo run --example hello`.
fn main() {
    println!(
        "{}",
        tulip::py_repr(&anyhow::Error::new(tulip::CancelledError::default()))
    );
}
