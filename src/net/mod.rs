//! Networking (layer 8): the loop's low-level socket calls and asyncio's streams.

pub(crate) mod datagram;
pub(crate) mod io_traits;
pub(crate) mod reader;
pub(crate) mod resolve;
pub(crate) mod server;
pub(crate) mod sockets;
pub(crate) mod streams;
pub(crate) mod tls;
pub(crate) mod transport;
pub(crate) mod unix;
pub(crate) mod writer;
