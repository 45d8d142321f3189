//! asyncio's synchronization primitives (layer 8): locks, events, conditions, semaphores,
//! barriers and queues, for tasks of one loop.

pub(crate) mod locks;
pub(crate) mod queues;
