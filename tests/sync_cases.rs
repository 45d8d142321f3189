//! Locks, events, conditions, semaphores, barriers and queues: case 55 of
//! the asyncio behaviour cases and behaviours from CPython 3.11's test_locks.py and
//! test_queues.py, each printing the same trace as its Python program in tests/cases/sync/.
//!
//! Python's tests read private fields (`lock._waiters`, `queue._getters`, `sem._value`); the
//! ports read the same numbers from the public repr (`waiters:N`, `_getters[N]`) or from
//! `Semaphore::value()`. Only the order of events is compared, never timing.
//! The cases live in sync_cases/cases.rs, written with the macros of backend/stackful.rs,
//! so that sync_cases_stackless.rs (with backend/stackless.rs) runs them with stackless
//! bodies and the native stackless waits.
mod common;

include!("backend/stackful.rs");

include!("sync_cases/cases.rs");
