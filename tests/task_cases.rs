//! Future and Task cases ported from CPython's test_futures.py, test_tasks.py and
//! test_runners.py (the asyncio behaviour cases 17–45, 57, 59): each port prints
//! the same trace as its Python program in tests/cases/task/. The cases live in
//! task_cases/cases.rs, written with the macros below so that task_cases_stackless.rs runs
//! the very same bodies as stackless tasks.
mod common;

/// `lp.create_task(body)`.
macro_rules! spawn {
    ($lp:expr, $(move)? |$co:ident| -> $ret:ty $body:block) => {
        $lp.create_task(move |$co: &tulip::TaskCo| -> $ret { $body })
    };
    ($lp:expr, $(move)? |$co:ident| $body:expr) => {
        $lp.create_task(move |$co: &tulip::TaskCo| $body)
    };
}

/// The test pattern `loop.run_until_complete(main())` on a new loop, closed after.
macro_rules! run_main {
    ($(move)? |$co:ident| -> $ret:ty $body:block) => {
        common::run_main(move |$co: &tulip::TaskCo| -> $ret { $body })
    };
    ($(move)? |$co:ident| $body:expr) => {
        common::run_main(move |$co: &tulip::TaskCo| $body)
    };
}

/// `asyncio.run(main())`.
macro_rules! run {
    ($(move)? |$co:ident| -> $ret:ty $body:block) => {
        tulip::run(move |$co: &tulip::TaskCo| -> $ret { $body })
    };
    ($(move)? |$co:ident| $body:expr) => {
        tulip::run(move |$co: &tulip::TaskCo| $body)
    };
}

/// `await aw`.
macro_rules! wait {
    ($co:ident, $aw:expr) => {
        $co.wait(&$aw)
    };
}

/// `await asyncio.sleep(d)`.
macro_rules! sleep {
    ($co:ident, $d:expr) => {
        tulip::sleep($co, $d)
    };
}

/// A bare `yield` (one loop iteration).
macro_rules! bare_yield {
    ($co:ident) => {
        $co.yield_now()
    };
}

include!("task_cases/cases.rs");
