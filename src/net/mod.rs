//! Networking (layer 8): the loop's low-level socket calls and asyncio's streams.

pub(crate) mod sockets;
pub(crate) mod streams;
