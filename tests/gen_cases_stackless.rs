//! The generator parity cases of gen_cases.rs (in gen_cases/cases.rs), run on the stackless
//! backend (`cargo +nightly test --features nightly`): the same bodies, the same recorded
//! Python traces.
#![feature(coroutines, coroutine_trait, try_blocks)]
mod common;

/// The backend under test: stackless generators on nightly coroutines.
type G<Y, S = (), R = ()> = tulip::stackless::Generator<Y, S, R>;

/// `def g(): body`; the handle's name is only there for the stackful backend.
macro_rules! generator {
    (<$($t:ty),+> $(move)? |$co:ident $(: $cot:ty)?| $body:expr) => {
        G::<$($t),+>::new(#[coroutine] static move |_| $body)
    };
    ($(move)? |$co:ident $(: $cot:ty)?| $body:expr) => {
        G::new(#[coroutine] static move |_| $body)
    };
}

/// `yield v`.
macro_rules! y {
    ($co:ident, $v:expr) => {
        tulip::yield_!($v)
    };
}

/// `yield from sub` (owned).
macro_rules! yf {
    ($co:ident, $sub:expr) => {
        tulip::yield_from!($sub)
    };
}

/// `yield from sub` (shared).
macro_rules! yf_ref {
    ($co:ident, $sub:expr) => {
        tulip::yield_from!($sub)
    };
}

/// A `try:` block: `?` inside leaves the block, not the body.
macro_rules! try_ {
    ($t:ty, $body:block) => {{
        let block: $t = try {
            let value: $t = $body;
            value?
        };
        block
    }};
}

/// A coroutine object (the type `coroutine!` of backend/stackless.rs makes).
type Coro<T> = tulip::stackless::Coroutine<T>;

/// `yield from iterable` of a plain iterator.
macro_rules! yf_iter {
    ($co:ident, $items:expr) => {
        tulip::yield_from!(tulip::stackless::from_iter($items))
    };
}

// The task macros (`run!`, `spawn!`, `wait!`, `coroutine!`, ...) for the cases with tasks.
include!("backend/stackless.rs");

include!("gen_cases/cases.rs");
