//! The talk's Task waiting for a Future, on the stackless backend: the coroutine yields the
//! future (Python's `yield from future`, whose `__iter__` yields the future itself), and the
//! task registers its wake-up as the future's done callback.
//!
//! Run: `cargo +nightly run --example task_future_stackless --features nightly`. Prints
//! `wait future`, then `future result 5` (as tests/python/task_future.py and
//! examples/task_future.rs do).
#![feature(coroutines)]

use std::rc::Rc;

use tulip::stackless::Generator;
use tulip::{EventLoop, Future, GeneratorState, yield_};

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
        coro: Generator::new(
            #[coroutine]
            static move |_| {
                println!("wait future");
                yield_!(waited.clone())?; // yield from future
                println!("future result {}", waited.result()?);
                Ok(())
            },
        ),
    });
    task.step(); // prints "wait future"
    let setter = future.clone();
    lp.call_soon(move || setter.set_result(5).unwrap())?;
    lp.run_until_complete(&future)?; // the wake-up prints "future result 5"
    lp.close()
}
