//! All 8 sync parity cases of sync_cases.rs (in sync_cases/cases.rs) with stackless task
//! bodies (`cargo +nightly test --features nightly`): the same bodies, the same recorded
//! Python traces. Locks, events, conditions, semaphores, barriers and queues are reached
//! through a stackful coroutine (`call_co!`).
#![feature(coroutines, coroutine_trait)]
mod common;

include!("backend/stackless.rs");

include!("sync_cases/cases.rs");
