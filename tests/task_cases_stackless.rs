//! The task parity cases of task_cases.rs (in task_cases/cases.rs), run with stackless task
//! bodies (`cargo +nightly test --features nightly`): the same bodies, the same recorded
//! Python traces.
#![feature(coroutines)]
mod common;

/// `lp.create_task(body)`, stackless.
macro_rules! spawn {
    ($lp:expr, $(move)? |$co:ident| -> $ret:ty $body:block) => {
        $lp.create_task_stackless(
            #[coroutine]
            static move |_| -> $ret { $body },
        )
    };
    ($lp:expr, $(move)? |$co:ident| $body:expr) => {
        $lp.create_task_stackless(
            #[coroutine]
            static move |_| $body,
        )
    };
}

/// The test pattern `loop.run_until_complete(main())` on a new loop, closed after.
macro_rules! run_main {
    ($(move)? |$co:ident| -> $ret:ty $body:block) => {{
        let lp = tulip::EventLoop::new().unwrap();
        let task = lp
            .create_task_stackless(
                #[coroutine]
                static move |_| -> $ret { $body },
            )
            .unwrap();
        let result = lp.run_until_complete(&task);
        lp.close().unwrap();
        result
    }};
    ($(move)? |$co:ident| $body:expr) => {{
        let lp = tulip::EventLoop::new().unwrap();
        let task = lp
            .create_task_stackless(
                #[coroutine]
                static move |_| $body,
            )
            .unwrap();
        let result = lp.run_until_complete(&task);
        lp.close().unwrap();
        result
    }};
}

/// `asyncio.run(main())`.
macro_rules! run {
    ($(move)? |$co:ident| -> $ret:ty $body:block) => {
        tulip::stackless::run(
            #[coroutine]
            static move |_| -> $ret { $body },
        )
    };
    ($(move)? |$co:ident| $body:expr) => {
        tulip::stackless::run(
            #[coroutine]
            static move |_| $body,
        )
    };
}

/// `await aw`.
macro_rules! wait {
    ($co:ident, $aw:expr) => {
        tulip::await_!($aw)
    };
}

/// `await asyncio.sleep(d)`.
macro_rules! sleep {
    ($co:ident, $d:expr) => {
        tulip::yield_from!(tulip::stackless::sleep($d))
    };
}

/// A bare `yield` (one loop iteration).
macro_rules! bare_yield {
    ($co:ident) => {
        tulip::yield_now!()
    };
}

include!("task_cases/cases.rs");
