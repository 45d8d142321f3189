//! The helpers' parity cases: ports of the Python programs in tests/cases/helpers/, each
//! printing the same trace as its twin. One test binary, a module per group of helpers.
mod common;

#[path = "helpers_cases/gather.rs"]
mod gather;
#[path = "helpers_cases/timeout.rs"]
mod timeout;
