//! The helpers' parity cases of helpers_cases.rs run with stackless task bodies (`cargo
//! +nightly test --features nightly`): the same files, with the macros of
//! backend/stackless.rs. `wait_for!`, `asyncio_wait!`, `next_done!`, `timeout_scope!`,
//! `group!` and the like are the native stackless helpers (`tulip::stackless::wait_for`,
//! ...), so no case holds a stack while it waits.
#![feature(coroutines, coroutine_trait, stmt_expr_attributes)]
mod common;

include!("backend/stackless.rs");

// Every helper a case waits in has a native form here: no case may fall back on a stackful
// coroutine.
#[allow(unused_macros)]
macro_rules! call_co {
    ($($any:tt)*) => {
        compile_error!("the helpers cases wait in the native stackless helpers, not `call_co!`")
    };
}

#[path = "helpers_cases/gather.rs"]
mod gather;
#[path = "helpers_cases/timeout.rs"]
mod timeout;
