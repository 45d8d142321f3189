//! The guide: tulip beside asyncio, topic by topic.
//!
//! This module holds no code, only documentation; each submodule is one topic, with asyncio's
//! spelling beside tulip's and examples that `cargo test --doc` runs. The crate page has the
//! [quick start](crate#quick-start), the [layers](crate#the-layers) and
//! [the suspension hazard](crate#the-suspension-hazard); read that first.
//!
//! | topic | asyncio | tulip |
//! |---|---|---|
//! | [`event_loop`] | `loop.call_soon`, `call_later`, `add_reader`, `run_forever` | [`EventLoop`](crate::EventLoop) |
//! | [`generators`] | generators, `send`, `throw`, `close`, `yield from` | [`Generator`](crate::Generator), [`Co`](crate::Co) |
//! | [`tasks`] | `Future`, `Task`, `await`, cancellation, `asyncio.run` | [`Future`](crate::Future), [`Task`](crate::Task), [`Co::wait`](crate::Co::wait), [`run`](crate::run) |
//! | [`waiting`] | `gather`, `shield`, `wait`, `as_completed` | [`gather`](crate::gather), [`shield`](crate::shield), [`wait`](crate::wait()), [`as_completed`](crate::as_completed) |
//! | [`timeouts`] | `wait_for`, `timeout`, `TaskGroup` | [`wait_for`](crate::wait_for), [`timeout`](crate::timeout), [`TaskGroup`](crate::TaskGroup) |
//! | [`sync`] | `Lock`, `Event`, `Condition`, `Semaphore`, `Barrier`, `Queue` | [`Lock`](crate::Lock), [`Queue`](crate::Queue), … |
//! | [`net`] | `sock_recv`, `open_connection`, `start_server`, streams | [`open_connection`](crate::open_connection), [`start_server`](crate::start_server), … |
//! | [`os`] | `run_in_executor`, `to_thread`, subprocesses, signals | [`to_thread`](crate::to_thread), [`create_subprocess_exec`](crate::create_subprocess_exec), … |
//! | [`contextvars`] | `ContextVar`, `copy_context`, `context=` | [`ContextVar`](crate::ContextVar), [`copy_context`](crate::copy_context), [`create_task_in`](crate::EventLoop::create_task_in) |
//! | [`errors`] | exceptions, `except`, `raise ... from` | [`tulip::errors`](crate::errors), [`ErrorExt`](crate::ErrorExt) |
//! | [`debugging`] | debug mode, slow callbacks, `python -m asyncio pstree` | [`set_debug`](crate::EventLoop::set_debug), [`format_task_tree`](crate::EventLoop::format_task_tree) |
//! | [`differences`] | | what differs from asyncio, in one place |

pub mod contextvars;
pub mod debugging;
pub mod differences;
pub mod errors;
pub mod event_loop;
pub mod generators;
pub mod net;
pub mod os;
pub mod sync;
pub mod tasks;
pub mod timeouts;
pub mod waiting;
