//! tulip: asyncio's event loop rebuilt in Rust, with coroutines that behave like Python
//! generators.
//!
//! The crate is built in layers, each one module, dependencies pointing down only:
//! errors (0), callbacks (1), timers (2), selector (3), the loop (4), futures (5),
//! generators (6), tasks (7), and the helpers above them (8+).

pub mod callbacks;
pub mod errors;
pub mod event_loop;
pub mod executor;
pub mod futures;
pub mod gather;
pub mod generator;
pub mod locks;
mod pool;
pub mod queues;
pub mod runners;
pub mod selector;
pub mod shield;
pub mod signals;
pub mod sleep;
pub mod sockets;
pub mod streams;
pub mod subprocess;
pub mod taskgroups;
pub mod tasks;
pub mod timeouts;
pub mod timers;
pub mod wait;

pub use callbacks::Handle;
pub use errors::{
    CancelledError, ErrorExt, Exception, ExceptionGroup, GeneratorExit, InvalidStateError, Panic,
    RaisedFrom, RuntimeError, SharedError, StopIteration, TimeoutError, TypeError, ValueError,
    cause, py_bytes_repr, py_repr, py_str, raise_from,
};
pub use event_loop::{EventLoop, ExceptionContext, ExceptionHandler, LoopHandle, get_running_loop};
pub use executor::{ConcurrentFuture, run_coroutine_threadsafe, run_in_executor, to_thread};
pub use futures::{Awaitable, CallbackId, Future, Suspend};
pub use gather::{Gathering, gather, gather_settled};
pub use generator::{Co, Generator, GeneratorState};
pub use locks::{
    Barrier, BarrierState, BoundedSemaphore, BrokenBarrierError, Condition, Event, Lock, Semaphore,
};
pub use queues::{LifoQueue, PriorityQueue, Queue, QueueEmpty, QueueFull};
pub use runners::run;
pub use selector::FdLike;
pub use shield::shield;
pub use signals::{add_signal_handler, remove_signal_handler};
pub use sleep::sleep;
pub use sockets::{
    Listener, OsError, py_addr, sock_accept, sock_connect, sock_recv, sock_recv_into, sock_sendall,
};
pub use streams::{
    IncompleteReadError, LimitOverrunError, Server, ServerOptions, StreamReader, StreamWriter,
    open_connection, open_connection_with, start_server, start_server_with, wrap_stream,
};
pub use subprocess::{Process, Stdio, create_subprocess_exec, create_subprocess_shell};
pub use taskgroups::{TaskGroup, task_group};
pub use tasks::{AnyTask, Coroutine, Task, TaskCo, all_tasks, current_task};
pub use timeouts::{Timeout, TimeoutState, timeout, timeout_at, wait_for, wait_for_fn};
pub use timers::TimerHandle;
pub use wait::{AsCompleted, NextDone, ReturnWhen, as_completed, wait};
