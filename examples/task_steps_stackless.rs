//! The talk's hand-driven Task on the stackless backend: each `step()` resumes the
//! coroutine once.
//!
//! Run: `cargo +nightly run --example task_steps_stackless --features nightly`. Prints
//! `step 1`, then `step 2` (as tests/python/task_steps.py and examples/task_steps.rs do).
#![feature(coroutines)]

use tulip::stackless::Generator;
use tulip::yield_;

/// The talk's Task, before it meets the loop: `step()` is Python's `next(coro)`.
struct Task {
    coro: Generator<()>,
}

impl Task {
    fn step(&self) {
        // A StopIteration (the coroutine finished) just ends the task.
        let _ = self.coro.next();
    }
}

fn main() {
    let task = Task {
        coro: Generator::new(
            #[coroutine]
            static |_| {
                println!("step 1");
                yield_!(())?; // interrupt the coroutine
                println!("step 2");
                Ok(())
            },
        ),
    };
    task.step(); // prints "step 1"
    task.step(); // prints "step 2"
}
