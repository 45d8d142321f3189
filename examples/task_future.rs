//! The talk's Task waiting for a Future: the coroutine yields the future (Python's
//! `yield from future`, whose `__iter__` yields the future itself), and the task registers
//! its wake-up as the future's done callback.
//!
//! Run: `cargo run --example task_future`. Prints `wait future`, then `future result 5`
//! (as tests/python/task_future.py does).

use std::rc::Rc;

use tulip::{EventLoop, Future, Generator, GeneratorState};

/// The talk's Task: a coroutine that yields futures, stepped by their done callbacks.
struct Task {
    coro: Generator<Future<i32>>,
}

impl Task {
    fn step(self: Rc<Self>) {
        // Only a yielded future needs work: the task wakes up when it is done.
        if let Ok(GeneratorState::Yielded(fut)) = self.coro.next() {
            fut.add_done_callback(move |_| self.step());
        }
    }
}

fn main() -> anyhow::Result<()> {
    let lp = EventLoop::new()?;
    let future = lp.create_future::<i32>();
    let waited = future.clone();
    let task = Rc::new(Task {
        coro: Generator::new(move |co| {
            println!("wait future");
            co.yield_(waited.clone())?; // yield from future
            println!("future result {}", waited.result()?);
            Ok(())
        }),
    });
    task.step(); // prints "wait future"
    let setter = future.clone();
    lp.call_soon(move || setter.set_result(5).unwrap())?;
    lp.run_until_complete(&future)?; // the wake-up prints "future result 5"
    lp.close()
}
