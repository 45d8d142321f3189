//! The operating system (layer 8): threads (the default executor), subprocesses and signals.

pub(crate) mod child_watcher;
pub(crate) mod executor;
pub(crate) mod signals;
pub(crate) mod subprocess;
