//! Async generators (PEP 525): each case prints what its Python twin in tests/cases/task/
//! prints. The cases live in task_agen/cases.rs, written with the macros of
//! backend/stackful.rs, so that task_agen_stackless.rs (with backend/stackless.rs) runs the
//! very same bodies as stackless async generators and tasks.
mod common;

/// The async generator the cases make with `agen!`.
type AsyncGen<Y, S = ()> = tulip::AsyncGenerator<Y, S>;

include!("backend/stackful.rs");

include!("task_agen/cases.rs");
