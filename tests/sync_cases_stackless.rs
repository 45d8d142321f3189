//! All 8 sync parity cases of sync_cases.rs (in sync_cases/cases.rs) with stackless task
//! bodies (`cargo +nightly test --features nightly`): the same bodies, the same recorded
//! Python traces. Every wait on a lock, event, condition, semaphore, barrier or queue is the
//! native stackless one (`sync!`, `with!`: `lock.acquire_stackless()`, ...), with no stackful
//! coroutine; only `task_group` and `wait_for_fn` are reached through `call_co!`.
#![feature(coroutines, coroutine_trait, try_blocks)]
mod common;

include!("backend/stackless.rs");

include!("sync_cases/cases.rs");
