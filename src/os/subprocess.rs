//! Subprocesses (layer 9): asyncio's `create_subprocess_exec` / `create_subprocess_shell`
//! and its `Process` (Linux only).
//!
//! [`Command`] is the builder (program, args, cwd, env, and each stream's [`Stdio`]), beside
//! asyncio's two functions, which are written with it.
//!
//! A child's exit is watched with a pidfd (`pidfd_open`, Linux 5.3+), which becomes readable
//! when the child exits: an ordinary level-triggered reader on the loop, with no `SIGCHLD`
//! handler and no watcher thread (asyncio 3.11 needs a child watcher for the same job). Where
//! `pidfd_open` is refused (`ENOSYS`/`EPERM` under some sandboxes and valgrind), a waiter
//! thread per child does it, as asyncio's `ThreadedChildWatcher` (see `child_watcher.rs`;
//! `TULIP_CHILD_WATCHER=thread` forces it). The pipes are non-blocking and read and written
//! from readers and writers too. Signals never hit a recycled pid.
//!
//! Every fd is removed from the loop before it is closed; what the loop still holds at
//! `close()` is dropped there (the selector is closed first, then the fds).

use std::cell::{Cell, RefCell};
use std::ffi::OsStr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;
use std::process::Command as Command_;
use std::rc::Rc;
use std::{fmt, io};

use anyhow::{Context, Result};

use crate::errors::{Exception, RuntimeError, ValueError};
use crate::event_loop::{EventLoop, get_running_loop};
use crate::futures::Future;
use crate::os::child_watcher::{Watch, try_reap};
use crate::sys;
use crate::tasks::TaskCo;

/// Where a child's standard stream goes: asyncio's `subprocess.PIPE`, `DEVNULL`, `STDOUT` (for
/// stderr), or `None` (inherited from this process, the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stdio {
    /// A pipe to the loop: `asyncio.subprocess.PIPE`.
    Piped,
    /// `/dev/null`: `asyncio.subprocess.DEVNULL`.
    Null,
    /// This process's own stream: `None`.
    #[default]
    Inherit,
    /// For stderr only: wherever stdout goes (`asyncio.subprocess.STDOUT`), so that the two
    /// interleave in one pipe as the child writes them.
    Stdout,
}

impl Stdio {
    fn to_std(self) -> std::process::Stdio {
        match self {
            Stdio::Piped => std::process::Stdio::piped(),
            Stdio::Null => std::process::Stdio::null(),
            Stdio::Inherit | Stdio::Stdout => std::process::Stdio::inherit(),
        }
    }
}

/// What [`Process::communicate`] returns: `(stdout, stderr)`, `None` for a stream that is
/// not piped.
pub type Communicated = (Option<Vec<u8>>, Option<Vec<u8>>);

/// One end of a pipe to the child, non-blocking. Shared (`Rc`) with the reader or writer
/// that uses it, which removes itself from the loop before the last reference closes it.
type Pipe = Rc<OwnedFd>;

fn pipe_of(fd: impl Into<OwnedFd>) -> Result<Pipe> {
    let fd: OwnedFd = fd.into();
    sys::set_nonblocking(fd.as_raw_fd())?;
    Ok(Rc::new(fd))
}

/// Reads `pipe` to its end on the loop's readiness; the future gets the bytes. The reader
/// removes itself at EOF or on an error, before the pipe can be closed.
fn read_to_end(lp: &EventLoop, pipe: Pipe) -> Result<Future<Vec<u8>>> {
    let fut = lp.create_future::<Vec<u8>>();
    let done = fut.clone();
    let mut buf = Vec::new();
    let lp2 = lp.clone();
    let fd = pipe.as_raw_fd();
    lp.add_reader(fd, move || {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let result = match sys::read(pipe.as_raw_fd(), &mut chunk) {
                Ok(0) => Ok(()),
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    continue;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                // level-triggered: called again when more arrives
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return,
                Err(err) => Err(err),
            };
            lp2.remove_reader(fd);
            if done.done() {
                return; // the waiter went away (cancelled)
            }
            let _ = match result {
                Ok(()) => done.set_result(std::mem::take(&mut buf)),
                Err(err) => done.set_exception(err.into()),
            };
            return;
        }
    })?;
    Ok(fut)
}

/// Writes all of `data` to `pipe`, then closes it (the child sees EOF). As asyncio's
/// `_feed_stdin`, a child that closed its end (`EPIPE`, `ECONNRESET`) is not an error.
fn write_all_and_close(lp: &EventLoop, pipe: Pipe, data: Vec<u8>) -> Result<Future<()>> {
    let fut = lp.create_future::<()>();
    let done = fut.clone();
    let lp2 = lp.clone();
    let fd = pipe.as_raw_fd();
    let mut pos = 0;
    // Held in an Option so the pipe is closed as soon as the writer is done with it.
    let mut pipe = Some(pipe);
    let mut finish = move |result: io::Result<()>| {
        lp2.remove_writer(fd);
        drop(pipe.take()); // after remove_writer: never close a registered fd
        if !done.done() {
            let _ = match result {
                Ok(()) => done.set_result(()),
                Err(e) => done.set_exception(e.into()),
            };
        }
    };
    if data.is_empty() {
        finish(Ok(()));
        return Ok(fut);
    }
    lp.add_writer(fd, move || {
        while pos < data.len() {
            let err = match sys::write(fd, &data[pos..]) {
                Ok(n) => {
                    pos += n;
                    continue;
                }
                Err(err) => err,
            };
            match err.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => return,
                io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => {
                    return finish(Ok(()));
                }
                _ => return finish(Err(err)),
            }
        }
        finish(Ok(()))
    })?;
    Ok(fut)
}

/// The loop-side state of a child.
struct ProcInner {
    lp: EventLoop,
    pid: u32,
    watch: Watch,
    /// Set once the child is reaped.
    returncode: Rc<Cell<Option<i32>>>,
    /// Resolved with the returncode when the child exits (asyncio's exit waiters).
    exited: Future<i32>,
    stdin: RefCell<Option<Pipe>>,
    stdout: RefCell<Option<Pipe>>,
    stderr: RefCell<Option<Pipe>>,
}

impl Drop for ProcInner {
    fn drop(&mut self) {
        // Never close a registered fd: the pidfd reader goes first (a no-op once it fired,
        // or once the loop is closed, whose selector is gone already).
        self.watch.stop(&self.lp);
        if self.returncode.get().is_some() {
            return;
        }
        // As asyncio's transport close(): a child still running when its Process goes away is
        // killed. Something must reap it or it stays a zombie: a waiter thread does already;
        // else a short-lived thread does, so that this drop never blocks.
        let _ = self.watch.signal(self.pid, libc::SIGKILL);
        if self.watch.is_thread() {
            return;
        }
        let pid = self.pid;
        if !matches!(try_reap(pid), Ok(Some(_))) {
            let _ = std::thread::Builder::new()
                .name("tulip-reaper".into())
                .spawn(move || {
                    let _ = sys::waitpid(pid, false);
                });
        }
    }
}

/// asyncio's `asyncio.subprocess.Process`: a child started by [`create_subprocess_exec`] or
/// [`create_subprocess_shell`]. A cheap clonable handle. Dropping the last handle while the
/// child runs kills it (asyncio's transport close).
#[derive(Clone)]
pub struct Process(Rc<ProcInner>);

impl fmt::Debug for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<Process {}>", self.0.pid)
    }
}

/// `await asyncio.create_subprocess_exec(program, *args, stdin=..., stdout=..., stderr=...)`:
/// starts `program` with `args` (looked up in `PATH` as `execvp` does). The child's exit is
/// watched on the running loop; `Stdio::Piped` streams are read and written through it.
///
/// # Examples
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use tulip::Stdio::{Inherit, Piped};
/// use tulip::create_subprocess_exec;
///
/// let out = tulip::run(|co| {
///     // asyncio: proc = await asyncio.create_subprocess_exec("echo", "hi", stdout=PIPE)
///     let proc = create_subprocess_exec(co, "echo", ["hi"], Inherit, Piped, Inherit)?;
///     let (stdout, stderr) = proc.communicate(co, None)?; // await proc.communicate()
///     assert_eq!(stderr, None); // not piped
///     assert_eq!(proc.returncode(), Some(0));
///     Ok(stdout)
/// })?;
/// assert_eq!(out.as_deref(), Some(&b"hi\n"[..]));
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// - The spawn's `io::Error` (e.g. `NotFound` for an unknown program), with the context
///   `cannot start <program>`.
/// - `RuntimeError` when neither a pidfd nor a waiter thread can watch the child (it is then
///   killed and reaped before returning).
/// - `RuntimeError("no running event loop")` outside a running loop.
pub fn create_subprocess_exec<I, S>(
    co: &TaskCo,
    program: impl AsRef<OsStr>,
    args: I,
    stdin: Stdio,
    stdout: Stdio,
    stderr: Stdio,
) -> Result<Process>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(program)
        .args(args)
        .stdin(stdin)
        .stdout(stdout)
        .stderr(stderr)
        .spawn(co)
}

/// A child process to start: the builder beside asyncio's functions, as std's and tokio's
/// `Command`. Set the program's arguments, working directory, environment and standard
/// streams, then [`spawn`](Command::spawn) it on the running loop (asyncio's
/// `create_subprocess_exec(program, *args, cwd=, env=, stdin=, stdout=, stderr=)`). A builder
/// may spawn several children.
///
/// # Examples
///
/// ```
/// use tulip::{Command, Stdio};
///
/// let out = tulip::run(|co| {
///     let proc = Command::new("sh")
///         .args(["-c", "echo $GREETING from $(pwd); echo oops >&2"])
///         .env("GREETING", "hello")
///         .current_dir("/")
///         .stdout(Stdio::Piped)
///         .stderr(Stdio::Stdout) // stderr=asyncio.subprocess.STDOUT
///         .spawn(co)?;
///     let (stdout, stderr) = proc.communicate(co, None)?;
///     assert_eq!(stderr, None); // it went to stdout
///     assert_eq!(proc.returncode(), Some(0));
///     Ok(stdout.unwrap_or_default())
/// })?;
/// assert_eq!(out, b"hello from /\noops\n");
/// # Ok::<(), anyhow::Error>(())
/// ```
#[derive(Debug)]
pub struct Command {
    inner: Command_,
    stdin: Stdio,
    stdout: Stdio,
    stderr: Stdio,
}

impl Command {
    /// A command running `program` (looked up in `PATH` as `execvp` does), with no arguments,
    /// this process's working directory and environment, and inherited streams.
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        Command {
            inner: Command_::new(program),
            stdin: Stdio::Inherit,
            stdout: Stdio::Inherit,
            stderr: Stdio::Inherit,
        }
    }

    /// Adds one argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Self {
        self.inner.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.inner.args(args);
        self
    }

    /// `cwd=`: the child's working directory.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Self {
        self.inner.current_dir(dir);
        self
    }

    /// Sets one environment variable of the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Self {
        self.inner.env(key, value);
        self
    }

    /// Sets environment variables of the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.inner.envs(vars);
        self
    }

    /// Removes one environment variable from the child's.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Self {
        self.inner.env_remove(key);
        self
    }

    /// Starts the child with an empty environment, plus what [`Command::env`] sets afterwards
    /// (Python's `env={...}` is `env_clear()` and then `envs(...)`).
    pub fn env_clear(&mut self) -> &mut Self {
        self.inner.env_clear();
        self
    }

    /// `stdin=`: [`Stdio::Piped`], [`Stdio::Null`] or [`Stdio::Inherit`] (the default).
    pub fn stdin(&mut self, stdio: Stdio) -> &mut Self {
        self.stdin = stdio;
        self
    }

    /// `stdout=`: [`Stdio::Piped`], [`Stdio::Null`] or [`Stdio::Inherit`] (the default).
    pub fn stdout(&mut self, stdio: Stdio) -> &mut Self {
        self.stdout = stdio;
        self
    }

    /// `stderr=`: as stdout, or [`Stdio::Stdout`] for the same place as stdout.
    pub fn stderr(&mut self, stdio: Stdio) -> &mut Self {
        self.stderr = stdio;
        self
    }

    /// `await asyncio.create_subprocess_exec(...)` with this command: starts the child and
    /// watches its exit on the running loop; [`Stdio::Piped`] streams are read and written
    /// through the loop.
    ///
    /// # Errors
    ///
    /// - `ValueError("STDOUT can only be used for stderr")` for `Stdio::Stdout` elsewhere.
    /// - The spawn's `io::Error` (e.g. `NotFound` for an unknown program, or a `cwd` that does
    ///   not exist), with the context `cannot start <program>`.
    /// - `RuntimeError` when neither a pidfd nor a waiter thread can watch the child (it is
    ///   then killed and reaped before returning).
    /// - `RuntimeError("no running event loop")` outside a running loop.
    pub fn spawn(&mut self, co: &TaskCo) -> Result<Process> {
        // A coroutine in asyncio; starting a child does not suspend, so `co` is only the proof
        // that a task of the running loop calls it.
        let _ = co;
        let lp = get_running_loop()?;
        if self.stdin == Stdio::Stdout || self.stdout == Stdio::Stdout {
            return Err(ValueError::new("STDOUT can only be used for stderr").into());
        }
        let program = self.inner.get_program().to_string_lossy().into_owned();
        let context = || format!("cannot start {program}");
        self.inner
            .stdin(self.stdin.to_std())
            .stdout(self.stdout.to_std())
            .stderr(self.stderr.to_std());
        // stderr=STDOUT: both get one pipe (or /dev/null, or our stdout).
        let mut merged_reader = None;
        if self.stderr == Stdio::Stdout {
            match self.stdout {
                Stdio::Piped => {
                    let (r, w) = std::io::pipe().with_context(context)?;
                    self.inner
                        .stdout(w.try_clone().with_context(context)?)
                        .stderr(w);
                    merged_reader = Some(OwnedFd::from(r));
                }
                Stdio::Null => {
                    self.inner.stderr(std::process::Stdio::null());
                }
                _ => {
                    let out = std::io::stdout()
                        .as_fd()
                        .try_clone_to_owned()
                        .with_context(context)?;
                    self.inner.stderr(out);
                }
            }
        }
        let spawned = self.inner.spawn();
        // Our copies of the merged pipe's write end must close now, or the reader never sees
        // EOF: the builder keeps what it was given until it is given something else.
        self.inner
            .stdin(std::process::Stdio::inherit())
            .stdout(std::process::Stdio::inherit())
            .stderr(std::process::Stdio::inherit());
        let mut child = spawned.with_context(context)?;
        let pid = child.id();
        // From here on the pid is ours to reap (std's `Child` never waits on drop).
        let stdin = child.stdin.take().map(pipe_of).transpose()?;
        let stdout = match merged_reader {
            Some(r) => Some(pipe_of(r)?),
            None => child.stdout.take().map(pipe_of).transpose()?,
        };
        let stderr = child.stderr.take().map(pipe_of).transpose()?;

        let returncode = Rc::new(Cell::new(None));
        let exited = lp.create_future::<i32>();
        let (rc, ex) = (returncode.clone(), exited.clone());
        let watch = Watch::start(&lp, pid, move |code| {
            rc.set(Some(code));
            if !ex.done() {
                let _ = ex.set_result(code);
            }
        });
        let watch = match watch {
            Ok(w) => w,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RuntimeError::new(format!(
                    "cannot watch the child: {e}; tulip needs Linux 5.3 or later"
                ))
                .into());
            }
        };
        drop(child);
        Ok(Process(Rc::new(ProcInner {
            lp,
            pid,
            watch,
            returncode,
            exited,
            stdin: RefCell::new(stdin),
            stdout: RefCell::new(stdout),
            stderr: RefCell::new(stderr),
        })))
    }
}

/// `await asyncio.create_subprocess_shell(cmd, ...)`: `/bin/sh -c cmd`.
///
/// # Errors
///
/// As [`create_subprocess_exec`].
pub fn create_subprocess_shell(
    co: &TaskCo,
    cmd: impl AsRef<OsStr>,
    stdin: Stdio,
    stdout: Stdio,
    stderr: Stdio,
) -> Result<Process> {
    create_subprocess_exec(
        co,
        "/bin/sh",
        [OsStr::new("-c"), cmd.as_ref()],
        stdin,
        stdout,
        stderr,
    )
}

impl Process {
    /// `proc.pid`.
    pub fn pid(&self) -> u32 {
        self.0.pid
    }

    /// `proc.returncode`: `None` while running (until the loop has seen the exit), the exit
    /// code, or `-N` for a child killed by signal `N`.
    pub fn returncode(&self) -> Option<i32> {
        self.0.returncode.get()
    }

    /// `await proc.wait()`: waits for the child to exit and returns its returncode. As in
    /// asyncio, a child that fills a pipe nobody reads never exits: use `communicate`.
    ///
    /// # Errors
    ///
    /// `CancelledError` when the waiting task is cancelled (the child keeps running).
    pub fn wait(&self, co: &TaskCo) -> Result<i32> {
        co.wait(&self.0.exited)
    }

    /// `proc.send_signal(sig)`. An exit the loop has not seen yet is silently ignored
    /// (Python's `Popen.send_signal`).
    ///
    /// # Errors
    ///
    /// - `ProcessLookupError()` once the loop has seen the exit (as asyncio's finished
    ///   transport).
    /// - `ValueError("invalid signal number N")`.
    pub fn send_signal(&self, sig: i32) -> Result<()> {
        if self.returncode().is_some() {
            return Err(Exception::bare("ProcessLookupError").into());
        }
        match self.0.watch.signal(self.0.pid, sig) {
            Ok(()) => Ok(()),
            // Exited, not yet seen by the loop: as if it had been.
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                Err(ValueError::new(format!("invalid signal number {sig}")).into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// `proc.terminate()`: `SIGTERM`.
    pub fn terminate(&self) -> Result<()> {
        self.send_signal(libc::SIGTERM)
    }

    /// `proc.kill()`: `SIGKILL`.
    pub fn kill(&self) -> Result<()> {
        self.send_signal(libc::SIGKILL)
    }

    /// `await proc.communicate(input)`: writes `input` to stdin and closes it, reads stdout
    /// and stderr to their ends (all at once, through the loop), waits for the exit, and
    /// returns `(stdout, stderr)`: `None` for a stream that is not piped. As in asyncio 3.11,
    /// with `input` `None` a piped stdin stays open. A child that exits without reading its
    /// input is not an error.
    ///
    /// # Errors
    ///
    /// - `ValueError("communicate(input) needs stdin=PIPE (and only once)")`.
    /// - The `io::Error` of a pipe's read or write.
    /// - `CancelledError` when the waiting task is cancelled.
    pub fn communicate(&self, co: &TaskCo, input: Option<&[u8]>) -> Result<Communicated> {
        let lp = &self.0.lp;
        let feed = match input {
            Some(data) => {
                let pipe = self.0.stdin.borrow_mut().take().ok_or_else(|| {
                    ValueError::new("communicate(input) needs stdin=PIPE (and only once)")
                })?;
                Some(write_all_and_close(lp, pipe, data.to_vec())?)
            }
            None => None,
        };
        let out = self.start_read(&self.0.stdout)?;
        let err = self.start_read(&self.0.stderr)?;
        // The three run together, driven by the loop; waiting for them in turn is gather.
        if let Some(feed) = &feed {
            co.wait(feed)?;
        }
        let out = out.map(|f| co.wait(&f)).transpose()?;
        let err = err.map(|f| co.wait(&f)).transpose()?;
        self.wait(co)?;
        Ok((out, err))
    }

    fn start_read(&self, pipe: &RefCell<Option<Pipe>>) -> Result<Option<Future<Vec<u8>>>> {
        let pipe = pipe.borrow_mut().take();
        pipe.map(|p| read_to_end(&self.0.lp, p)).transpose()
    }

    /// `await proc.stdout.read()`: the child's stdout to its end. `ValueError` when stdout is
    /// not piped or was already read.
    pub fn read_stdout(&self, co: &TaskCo) -> Result<Vec<u8>> {
        let fut = self
            .start_read(&self.0.stdout)?
            .ok_or_else(|| ValueError::new("stdout is not piped (or was already read)"))?;
        co.wait(&fut)
    }

    /// `await proc.stderr.read()`: as [`Process::read_stdout`], for stderr.
    pub fn read_stderr(&self, co: &TaskCo) -> Result<Vec<u8>> {
        let fut = self
            .start_read(&self.0.stderr)?
            .ok_or_else(|| ValueError::new("stderr is not piped (or was already read)"))?;
        co.wait(&fut)
    }

    /// `proc.stdin.write(data); await proc.stdin.drain(); proc.stdin.close()`: writes `data`
    /// and closes stdin. A child that closed its end first is not an error.
    pub fn write_stdin_and_close(&self, co: &TaskCo, data: &[u8]) -> Result<()> {
        let pipe = self
            .0
            .stdin
            .borrow_mut()
            .take()
            .ok_or_else(|| ValueError::new("stdin is not piped (or was already closed)"))?;
        co.wait(&write_all_and_close(&self.0.lp, pipe, data.to_vec())?)
    }

    /// `proc.stdin.close()`: the child reads EOF. Whether stdin was open.
    pub fn close_stdin(&self) -> bool {
        // Not registered with the loop while idle: dropping closes it.
        self.0.stdin.borrow_mut().take().is_some()
    }
}
