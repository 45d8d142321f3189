//! The helpers' parity cases: ports of the Python programs in tests/cases/helpers/, each
//! printing the same trace as its twin. One test binary, a module per group of helpers.
mod common;

// The cases are written with the macros of backend/stackful.rs (`spawn!`, `wait!`, ...), so
// that helpers_cases_stackless.rs runs them with stackless bodies too.
include!("backend/stackful.rs");

#[path = "helpers_cases/gather.rs"]
mod gather;
#[path = "helpers_cases/timeout.rs"]
mod timeout;
