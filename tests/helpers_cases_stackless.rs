//! The helpers' parity cases of helpers_cases.rs run with stackless task bodies (`cargo
//! +nightly test --features nightly`): the same files, with the macros of
//! backend/stackless.rs. The cases written against helpers that take `co` inside closures
//! (`stackful_only!`) and the timeout/TaskGroup group stay stackful.
#![feature(coroutines, coroutine_trait, stmt_expr_attributes)]
mod common;

include!("backend/stackless.rs");

// What only the stackful-only cases use is unused here.
#[allow(unused_imports, dead_code)]
#[path = "helpers_cases/gather.rs"]
mod gather;
