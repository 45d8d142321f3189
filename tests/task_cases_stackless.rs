//! The task parity cases of task_cases.rs (in task_cases/cases.rs), run with stackless task
//! bodies (`cargo +nightly test --features nightly`): the same bodies, the same recorded
//! Python traces.
#![feature(coroutines, coroutine_trait)]
mod common;

include!("backend/stackless.rs");

include!("task_cases/cases.rs");
