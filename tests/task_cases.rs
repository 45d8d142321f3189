//! Future and Task cases ported from CPython's test_futures.py, test_tasks.py and
//! test_runners.py (the asyncio behaviour cases 17–45, 57, 59): each port prints
//! the same trace as its Python program in tests/cases/task/. The cases live in
//! task_cases/cases.rs, written with the macros of backend/stackful.rs, so that
//! task_cases_stackless.rs (with backend/stackless.rs) runs
//! the very same bodies as stackless tasks.
mod common;

include!("backend/stackful.rs");

include!("task_cases/cases.rs");
