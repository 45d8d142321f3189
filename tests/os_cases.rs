//! Threads, subprocesses and signals, ported from Python programs in tests/cases/os/ (after
//! CPython 3.11's test_asyncio/test_threads.py, test_subprocess.py and test_unix_events.py):
//! each port prints the same trace as its twin. Only the order of events is compared, never
//! timing. Worker threads never print: the trace belongs to the loop's thread.
mod common;
use common::py_bool;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use anyhow::Result;
use tulip::Stdio::{Inherit, Piped};
use tulip::errors::py_str;
use tulip::{
    ErrorExt, EventLoop, RuntimeError, ValueError, create_subprocess_exec, create_subprocess_shell,
    get_running_loop, py_repr, run, run_coroutine_threadsafe, sleep, to_thread,
};

/// No arguments for `create_subprocess_exec`.
const NO_ARGS: [&str; 0] = [];

#[test]
fn executor_result() {
    common::check_case("os/executor_result", || {
        run(|co| {
            let lp = get_running_loop()?;
            let fut = lp.run_in_executor(|| 21 * 2)?;
            // A tulip::Future, by type: what `isinstance(fut, asyncio.Future)` checks.
            let _: &tulip::Future<i32> = &fut;
            tprint!("is future True");
            tprint!("result {}", co.wait(&fut)?);
            // Python raises ValueError in the thread; a Rust thread panics.
            let failed = lp.run_in_executor(|| -> i32 { panic!("boom") })?;
            match co.wait(&failed) {
                Err(e) if e.isinstance::<tulip::Panic>() => tprint!("raised {}", py_str(&e)),
                other => panic!("unexpected {other:?}"),
            }
            tprint!("after error {}", co.wait(&lp.run_in_executor(|| 2)?)?);
            Ok(())
        })
        .unwrap();
    });
}

#[test]
fn to_thread_order() {
    common::check_case("os/to_thread_order", || {
        run(|co| {
            let lp = get_running_loop()?;
            // threading.Event: a barrier of two, the worker and the ticker's release.
            let go = Arc::new(Barrier::new(2));
            let release = go.clone();
            let t = lp.create_task(move |co| {
                for i in 0..3 {
                    tprint!("tick {i}");
                    sleep(co, Duration::ZERO)?;
                }
                tprint!("release");
                // Python's `go.set()`; the barrier also waits for the worker to reach
                // `go.wait()`, which it does on its own, without the loop.
                release.wait();
                Ok(())
            })?;
            tprint!("to_thread start");
            let r = to_thread(co, move || {
                go.wait();
                (0..100u32).sum::<u32>()
            })?;
            tprint!("to_thread result {r}");
            co.wait(&t)?;
            tprint!("ticker done {}", py_bool(t.done()));
            Ok(())
        })
        .unwrap();
    });
}

#[test]
fn executor_shutdown() {
    common::check_case("os/executor_shutdown", || {
        let lp = EventLoop::new().unwrap();
        let lp2 = lp.clone();
        let main = lp
            .create_task(move |co| {
                let lp = lp2;
                tprint!("before {}", co.wait(&lp.run_in_executor(|| 1)?)?);
                lp.shutdown_default_executor(co)?;
                tprint!("shut down");
                match lp.run_in_executor(|| 2) {
                    Err(e) if e.isinstance::<RuntimeError>() => {
                        tprint!("RuntimeError {}", py_str(&e))
                    }
                    other => panic!("unexpected {:?}", other.map(|_| ())),
                }
                lp.shutdown_default_executor(co)?;
                tprint!("second shutdown ok");
                Ok(())
            })
            .unwrap();
        lp.run_until_complete(&main).unwrap();
        lp.close().unwrap();
        match lp.run_in_executor(|| 3) {
            Err(e) if e.isinstance::<RuntimeError>() => {
                tprint!("after close: RuntimeError {}", py_str(&e))
            }
            other => panic!("unexpected {:?}", other.map(|_| ())),
        }
    });
}

#[test]
fn run_coroutine_threadsafe_from_a_thread() {
    common::check_case("os/run_coroutine_threadsafe", || {
        run(|co| {
            let handle = get_running_loop()?.threadsafe_handle()?;
            let (r, err, done) = to_thread(co, move || {
                let fut = run_coroutine_threadsafe(&handle, |co| {
                    sleep(co, Duration::ZERO)?;
                    Ok(41 + 1)
                })
                .unwrap();
                let r = fut.result(Some(Duration::from_secs(10))).unwrap();
                let bad = run_coroutine_threadsafe(&handle, |co| -> Result<i32> {
                    sleep(co, Duration::ZERO)?;
                    Err(ValueError::new("bad").into())
                })
                .unwrap();
                let err = match bad.result(Some(Duration::from_secs(10))) {
                    Err(e) if e.isinstance::<ValueError>() => format!("ValueError {}", py_str(&e)),
                    other => panic!("unexpected {other:?}"),
                };
                (r, err, fut.done())
            })?;
            tprint!("result {r}");
            tprint!("error {err}");
            tprint!("done {}", py_bool(done));
            Ok(())
        })
        .unwrap();
    });
}

static SIGNALS: Mutex<()> = Mutex::new(());

/// Python's `repr(bytes)`.
fn b(bytes: &[u8]) -> String {
    tulip::py_bytes_repr(bytes)
}

fn opt_b(bytes: &Option<Vec<u8>>) -> String {
    bytes.as_deref().map_or("None".to_string(), b)
}

fn opt(code: Option<i32>) -> String {
    code.map_or("None".to_string(), |c| c.to_string())
}

#[test]
fn subprocess_communicate() {
    common::check_case("os/subprocess_communicate", || {
        run(|co| {
            let proc = create_subprocess_exec(co, "cat", NO_ARGS, Piped, Piped, Inherit)?;
            tprint!("returncode before {}", opt(proc.returncode()));
            let (out, err) = proc.communicate(co, Some(b"hello\nworld\n"))?;
            tprint!("stdout {}", opt_b(&out));
            tprint!("stderr {}", opt_b(&err));
            tprint!("returncode {}", opt(proc.returncode()));
            let shell =
                create_subprocess_shell(co, "echo out; echo err >&2", Inherit, Piped, Piped)?;
            let (out, err) = shell.communicate(co, None)?;
            tprint!(
                "shell {} {} {}",
                opt_b(&out),
                opt_b(&err),
                opt(shell.returncode())
            );
            Ok(())
        })
        .unwrap();
    });
}

#[test]
fn subprocess_returncode() {
    common::check_case("os/subprocess_returncode", || {
        run(|co| {
            let proc =
                create_subprocess_exec(co, "sh", ["-c", "exit 3"], Inherit, Inherit, Inherit)?;
            tprint!("wait {}", proc.wait(co)?);
            tprint!("returncode {}", opt(proc.returncode()));
            tprint!("wait again {}", proc.wait(co)?);
            match proc.kill() {
                Err(e) => tprint!("kill after exit {}", py_repr(&e)),
                Ok(()) => panic!("kill after exit succeeded"),
            }
            Ok(())
        })
        .unwrap();
    });
}

#[test]
fn subprocess_kill() {
    common::check_case("os/subprocess_kill", || {
        run(|co| {
            let proc = create_subprocess_exec(co, "sleep", ["30"], Inherit, Inherit, Inherit)?;
            tprint!("running {}", opt(proc.returncode()));
            proc.kill()?;
            tprint!("wait {}", proc.wait(co)?);
            tprint!(
                "is -SIGKILL {}",
                py_bool(proc.returncode() == Some(-SIGKILL))
            );
            let proc = create_subprocess_exec(co, "sleep", ["30"], Inherit, Inherit, Inherit)?;
            proc.terminate()?;
            tprint!("terminate {}", proc.wait(co)?);
            Ok(())
        })
        .unwrap();
    });
}

/// `signal.SIGKILL` (Linux).
const SIGKILL: i32 = 9;

#[test]
fn subprocess_loop_ticks() {
    common::check_case("os/subprocess_loop_ticks", || {
        run(|co| {
            let proc = create_subprocess_exec(co, "cat", NO_ARGS, Piped, Piped, Inherit)?;
            let p = proc.clone();
            let t = get_running_loop()?.create_task(move |co| {
                for i in 0..3 {
                    tprint!("tick {i}");
                    sleep(co, Duration::ZERO)?;
                }
                tprint!("closing stdin");
                p.close_stdin();
                Ok(())
            })?;
            tprint!("reading stdout");
            let out = proc.read_stdout(co)?;
            tprint!("stdout {}", b(&out));
            tprint!("wait {}", proc.wait(co)?);
            co.wait(&t)?;
            Ok(())
        })
        .unwrap();
    });
}

/// Signals are process-wide and the cases run in parallel threads: one at a time.
fn signals_lock() -> std::sync::MutexGuard<'static, ()> {
    SIGNALS.lock().unwrap_or_else(|e| e.into_inner())
}

const SIGHUP: i32 = 1;
const SIGSTOP: i32 = 19;
const SIGUSR1: i32 = 10;
const SIGUSR2: i32 = 12;

/// `os.kill(os.getpid(), sig)`.
fn kill_self(sig: i32) {
    // SAFETY: sending a signal to this process, whose handler is installed.
    assert_eq!(unsafe { libc::kill(libc::getpid(), sig) }, 0);
}

/// `signal.getsignal(sig) == signal.SIG_DFL`.
fn is_default(sig: i32) -> bool {
    // SAFETY: reading the current disposition into a zeroed struct.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, std::ptr::null(), &mut old);
        old.sa_sigaction == libc::SIG_DFL
    }
}

#[test]
fn signal_handler() {
    let _one = signals_lock();
    common::check_case("os/signal_handler", || {
        run(|co| {
            let lp = get_running_loop()?;
            let calls = Rc::new(RefCell::new(Vec::<&str>::new()));
            let fut = Rc::new(RefCell::new(lp.create_future::<usize>()));
            let (c, f) = (calls.clone(), fut.clone());
            lp.add_signal_handler(SIGUSR1, move || {
                c.borrow_mut().push("usr1");
                tprint!("handler called {}", c.borrow().len());
                let f = f.borrow();
                if !f.done() {
                    f.set_result(c.borrow().len()).unwrap();
                }
            })?;
            tprint!("sending SIGUSR1");
            kill_self(SIGUSR1);
            tprint!("sent");
            let waited = fut.borrow().clone();
            tprint!("future result {}", co.wait(&waited)?);
            *fut.borrow_mut() = lp.create_future();
            kill_self(SIGUSR1);
            let waited = fut.borrow().clone();
            tprint!("second future result {}", co.wait(&waited)?);
            let list: Vec<String> = calls.borrow().iter().map(|s| format!("'{s}'")).collect();
            tprint!("calls [{}]", list.join(", "));
            tprint!("removed {}", py_bool(lp.remove_signal_handler(SIGUSR1)?));
            Ok(())
        })
        .unwrap();
    });
}

#[test]
fn signal_remove() {
    let _one = signals_lock();
    common::check_case("os/signal_remove", || {
        let lp = EventLoop::new().unwrap();
        let main = lp
            .create_task(|_co| {
                let lp = get_running_loop()?;
                lp.add_signal_handler(SIGUSR2, || ())?;
                tprint!("handler installed {}", py_bool(!is_default(SIGUSR2)));
                tprint!("remove {}", py_bool(lp.remove_signal_handler(SIGUSR2)?));
                tprint!("default again {}", py_bool(is_default(SIGUSR2)));
                tprint!(
                    "remove again {}",
                    py_bool(lp.remove_signal_handler(SIGUSR2)?)
                );
                tprint!("never added {}", py_bool(lp.remove_signal_handler(SIGHUP)?));
                lp.add_signal_handler(SIGUSR2, || ())?;
                Ok(())
            })
            .unwrap();
        lp.run_until_complete(&main).unwrap();
        lp.close().unwrap();
        tprint!("after close default {}", py_bool(is_default(SIGUSR2)));
    });
}

#[test]
fn signal_errors() {
    let _one = signals_lock();
    common::check_case("os/signal_errors", || {
        let lp = EventLoop::new().unwrap();
        let main = lp
            .create_task(|_co| {
                let lp = get_running_loop()?;
                for sig in [SIGKILL, SIGSTOP] {
                    match lp.add_signal_handler(sig, || ()) {
                        Err(e) if e.isinstance::<RuntimeError>() => {
                            tprint!("RuntimeError {}", py_str(&e))
                        }
                        other => panic!("unexpected {other:?}"),
                    }
                }
                for sig in [0, 32, 65] {
                    match lp.add_signal_handler(sig, || ()) {
                        Err(e) if e.isinstance::<ValueError>() => {
                            tprint!("ValueError {}", py_str(&e))
                        }
                        other => panic!("unexpected {other:?}"),
                    }
                }
                match lp.remove_signal_handler(0) {
                    Err(e) if e.isinstance::<ValueError>() => {
                        tprint!("remove: ValueError {}", py_str(&e))
                    }
                    other => panic!("unexpected {other:?}"),
                }
                tprint!(
                    "remove SIGKILL {}",
                    py_bool(lp.remove_signal_handler(SIGKILL)?)
                );
                Ok(())
            })
            .unwrap();
        lp.run_until_complete(&main).unwrap();
        lp.close().unwrap();
        match lp.add_signal_handler(SIGUSR1, || ()) {
            Err(e) if e.isinstance::<RuntimeError>() => {
                tprint!("closed: RuntimeError {}", py_str(&e))
            }
            other => panic!("unexpected {other:?}"),
        }
        match lp.add_signal_handler(0, || ()) {
            Err(e) if e.isinstance::<ValueError>() => {
                tprint!("closed, invalid: ValueError {}", py_str(&e))
            }
            other => panic!("unexpected {other:?}"),
        }
    });
}
