//! Ports of CPython's generator behaviour (asyncio-cases.md cases 1–15, test_yield_from.py,
//! test_generators.py): each prints the trace its Python twin in tests/cases/gen/ prints.
//! The cases live in gen_cases/cases.rs, written with the macros below so that
//! gen_cases_stackless.rs runs the very same bodies on the stackless backend.
mod common;

/// The backend under test: stackful generators.
type G<Y, S = (), R = ()> = tulip::Generator<Y, S, R>;

/// `def g(): body`: a generator whose body gets the handle `co`.
macro_rules! generator {
    (<$($t:ty),+> $(move)? |$co:ident $(: $cot:ty)?| $body:expr) => {
        G::<$($t),+>::new(move |$co $(: $cot)?| $body)
    };
    ($(move)? |$co:ident $(: $cot:ty)?| $body:expr) => {
        G::new(move |$co $(: $cot)?| $body)
    };
}

/// `yield v`.
macro_rules! y {
    ($co:ident, $v:expr) => {
        $co.yield_($v)
    };
}

/// `yield from sub` (owned).
macro_rules! yf {
    ($co:ident, $sub:expr) => {
        $co.yield_from($sub)
    };
}

/// `yield from sub` (shared).
macro_rules! yf_ref {
    ($co:ident, $sub:expr) => {
        $co.yield_from_ref($sub)
    };
}

/// A `try:` block: `?` inside leaves the block, not the body.
macro_rules! try_ {
    ($t:ty, $body:block) => {
        (|| -> $t { $body })()
    };
}

/// A coroutine object (the type `coroutine!` of backend/stackful.rs makes).
type Coro<T> = tulip::Coroutine<T>;

/// `yield from iterable` of a plain iterator.
macro_rules! yf_iter {
    ($co:ident, $items:expr) => {
        $co.yield_from_iter($items)
    };
}

// The task macros (`run!`, `spawn!`, `wait!`, `coroutine!`, ...) for the cases with tasks.
include!("backend/stackful.rs");

include!("gen_cases/cases.rs");
