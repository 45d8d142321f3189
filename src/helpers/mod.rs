//! asyncio's helpers (layer 8), built on tasks and futures only: `sleep`, `run`, `gather`,
//! `shield`, `wait`/`as_completed`, timeouts and task groups.

pub(crate) mod asyncgen;
#[cfg(feature = "nightly")]
pub(crate) mod asyncgen_stackless;
pub(crate) mod gather;
pub(crate) mod runners;
pub(crate) mod shield;
pub(crate) mod sleep;
#[cfg(feature = "nightly")]
pub(crate) mod stackless;
pub(crate) mod std_future;
pub(crate) mod taskgroups;
pub(crate) mod timeouts;
pub(crate) mod wait;
