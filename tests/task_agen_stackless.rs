//! The async generator parity cases of task_agen.rs (in task_agen/cases.rs) on the stackless
//! backend (`cargo +nightly test --features nightly`): stackless async generators
//! (`tulip::stackless::AsyncGenerator`) consumed by stackless tasks, the same bodies, the
//! same recorded Python traces.
#![feature(coroutines, coroutine_trait, stmt_expr_attributes)]
mod common;

/// The async generator the cases make with `agen!`.
type AsyncGen<Y, S = ()> = tulip::stackless::AsyncGenerator<Y, S>;

include!("backend/stackless.rs");

include!("task_agen/cases.rs");
