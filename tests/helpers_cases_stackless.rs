//! The helpers' parity cases of helpers_cases.rs run with stackless task bodies (`cargo
//! +nightly test --features nightly`): the same files, with the macros of
//! backend/stackless.rs. Helpers that take `co` (`wait`, `wait_for`, `task_group`) are
//! called through a stackful coroutine (`call_co!`); the cases marked `stackful_only!` are
//! not ported yet.
#![feature(coroutines, coroutine_trait, stmt_expr_attributes)]
mod common;

include!("backend/stackless.rs");

// What only the stackful-only cases use is unused here.
#[allow(unused_imports, dead_code)]
#[path = "helpers_cases/gather.rs"]
mod gather;

// As above.
#[allow(unused_imports, dead_code)]
#[path = "helpers_cases/timeout.rs"]
mod timeout;
