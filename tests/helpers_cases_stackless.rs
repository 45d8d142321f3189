//! The helpers' parity cases of helpers_cases.rs run with stackless task bodies (`cargo
//! +nightly test --features nightly`): the same files, with the macros of
//! backend/stackless.rs. Helpers that take `co` (`wait`, `as_completed`'s waits,
//! `wait_for`, `timeout`, `task_group`) are called through a stackful coroutine
//! (`call_co!`); the tasks, the children of the task groups included, are stackless.
#![feature(coroutines, coroutine_trait, stmt_expr_attributes)]
mod common;

include!("backend/stackless.rs");

#[path = "helpers_cases/gather.rs"]
mod gather;
#[path = "helpers_cases/timeout.rs"]
mod timeout;
