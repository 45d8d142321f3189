//! The talk's hand-driven Task: each `step()` resumes the coroutine once.
//!
//! Run: `cargo run --example task_steps`. Prints `step 1`, then `step 2`
//! (as tests/python/task_steps.py does).

use tulip::Generator;

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
        coro: Generator::new(|co| {
            println!("step 1");
            co.yield_(())?; // interrupt the coroutine
            println!("step 2");
            Ok(())
        }),
    };
    task.step(); // prints "step 1"
    task.step(); // prints "step 2"
}
