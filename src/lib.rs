//! tulip: asyncio's event loop rebuilt in Rust, with coroutines that behave like Python
//! generators.
//!
//! The crate is built in layers, each one module, dependencies pointing down only:
//! errors (0), callbacks (1), timers (2), selector (3), the loop (4), futures (5),
//! generators (6), tasks (7), and the helpers above them (8+).

mod callbacks;
pub mod errors;
mod event_loop;
mod futures;
pub mod generator;
mod helpers;
mod net;
mod os;
mod recycle;
mod selector;
mod sync;
mod sys;
mod tasks;
mod timers;

pub use errors::{
    BrokenBarrierError, CancelledError, ErrorExt, Exception, ExceptionGroup, GeneratorExit,
    IncompleteReadError, InvalidStateError, LimitOverrunError, OsError, Panic, QueueEmpty,
    QueueFull, RaisedFrom, RuntimeError, SharedError, StopIteration, TimeoutError, TypeError,
    ValueError, cause, py_bytes_repr, py_repr, py_str, raise_from,
};
pub use event_loop::{
    EventLoop, ExceptionContext, ExceptionHandler, Handle, LoopHandle, TimerHandle,
    get_running_loop,
};
pub use futures::{Awaitable, CallbackId, Future, Suspend};
pub use generator::{Co, Generator, GeneratorState};
pub use helpers::gather::{Gathering, gather, gather_settled};
pub use helpers::runners::run;
pub use helpers::shield::shield;
pub use helpers::sleep::sleep;
pub use helpers::std_future::FutureAwait;
pub use helpers::taskgroups::{TaskGroup, task_group};
pub use helpers::timeouts::{Timeout, TimeoutState, timeout, timeout_at, wait_for, wait_for_fn};
pub use helpers::wait::{AsCompleted, NextDone, ReturnWhen, as_completed, wait};
pub use net::reader::StreamReader;
pub use net::server::{Server, ServerOptions, start_server, start_server_with};
pub use net::sockets::{
    Listener, py_addr, sock_accept, sock_connect, sock_recv, sock_recv_into, sock_sendall,
};
pub use net::streams::{DEFAULT_LIMIT, open_connection, open_connection_with, wrap_stream};
pub use net::transport::StreamSocket;
pub use net::unix::{
    open_unix_connection, open_unix_connection_with, start_unix_server, start_unix_server_with,
};
pub use net::writer::StreamWriter;
pub use os::executor::{ConcurrentFuture, run_coroutine_threadsafe, to_thread};
pub use os::subprocess::{
    Communicated, Process, Stdio, create_subprocess_exec, create_subprocess_shell,
};
pub use selector::FdLike;
pub use sync::queues::{LifoQueue, PriorityQueue, Queue};
pub use sync::{Barrier, BarrierState, BoundedSemaphore, Condition, Event, Lock, Semaphore};
pub use tasks::{AnyTask, Coroutine, Task, TaskCo, all_tasks, current_task};
