//! The sync parity cases of sync_cases.rs (in sync_cases/cases.rs) with stackless task
//! bodies (`cargo +nightly test --features nightly`): the same bodies, the same recorded
//! Python traces. Locks and queues are reached through a stackful coroutine (`call_co!`).
#![feature(coroutines, coroutine_trait)]
// What only the stackful-only cases use is unused here.
#![allow(unused_imports, dead_code)]
mod common;

include!("backend/stackless.rs");

include!("sync_cases/cases.rs");
