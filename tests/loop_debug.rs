//! Debug mode (`set_debug`): slow callbacks and task steps logged, where callbacks, futures
//! and tasks were created shown in the reports, `TULIP_DEBUG`, and the `sock_*` check.

#[macro_use]
mod common;

use std::cell::RefCell;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::sync::Once;
use std::time::Duration;

use tulip::{
    ErrorExt, EventLoop, ExceptionContext, ValueError, get_running_loop, py_str, sock_recv,
};

const FILE: &str = "tests/loop_debug.rs";
/// The threshold the tests set; slow callbacks take twice as long.
const THRESHOLD: Duration = Duration::from_millis(20);

thread_local! {
    /// What the logger received on this thread: (level, target, message).
    static LOGGED: RefCell<Vec<(log::Level, String, String)>> = const { RefCell::new(Vec::new()) };
}

/// Collects records per thread, so that tests running in parallel see only their own.
struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, r: &log::Record) {
        LOGGED.with(|l| {
            l.borrow_mut()
                .push((r.level(), r.target().to_string(), r.args().to_string()))
        });
    }
    fn flush(&self) {}
}

fn capture() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
    });
    LOGGED.with(|l| l.borrow_mut().clear());
}

fn logged() -> Vec<(log::Level, String, String)> {
    LOGGED.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

/// One iteration: what is ready now runs.
fn run_briefly(lp: &EventLoop) {
    let l = lp.clone();
    lp.call_soon(move || l.stop()).unwrap();
    lp.run_forever().unwrap();
}

/// `took 0.040 seconds`: three decimals, as asyncio's `%.3f`.
fn ends_with_seconds(msg: &str) -> bool {
    let Some(rest) = msg.rsplit_once(" took ").map(|(_, r)| r) else {
        return false;
    };
    let Some(num) = rest.strip_suffix(" seconds") else {
        return false;
    };
    let (int, frac) = num.split_once('.').unwrap_or(("", ""));
    !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit()) && frac.len() == 3
}

fn slow() {
    std::thread::sleep(THRESHOLD * 2);
}

#[test]
fn a_slow_callback_is_logged_with_where_it_was_scheduled() {
    capture();
    let lp = EventLoop::new().unwrap();
    lp.set_debug(true);
    lp.set_slow_callback_duration(THRESHOLD);
    assert_eq!(lp.slow_callback_duration(), THRESHOLD);
    let (_h, line) = (lp.call_soon(slow).unwrap(), line!());
    lp.call_soon(|| {}).unwrap(); // fast: not logged
    run_briefly(&lp);
    let logs = logged();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let (level, target, msg) = &logs[0];
    assert_eq!((*level, target.as_str()), (log::Level::Warn, "tulip"));
    let head = format!("Executing <Handle slow() created at {FILE}:{line}:");
    assert!(msg.starts_with(&head), "{msg}");
    assert!(ends_with_seconds(msg), "{msg}");
    lp.close().unwrap();
}

#[test]
fn a_slow_timer_callback_is_logged_too() {
    capture();
    let lp = EventLoop::new().unwrap();
    lp.set_debug(true);
    lp.set_slow_callback_duration(THRESHOLD);
    let (_h, line) = (lp.call_later(Duration::ZERO, slow).unwrap(), line!());
    let l = lp.clone();
    lp.call_later(Duration::from_millis(1), move || l.stop())
        .unwrap();
    lp.run_forever().unwrap();
    let logs = logged();
    let msg = &logs[0].2;
    // asyncio's form for a timer: `<TimerHandle when=SECS slow() ...>`.
    let rest = msg.strip_prefix("Executing <TimerHandle when=").unwrap();
    let (when, rest) = rest.split_once(' ').unwrap();
    assert!(when.parse::<f64>().is_ok(), "{msg}");
    assert!(
        rest.starts_with(&format!("slow() created at {FILE}:{line}:")),
        "{msg}"
    );
    lp.close().unwrap();
}

#[test]
fn a_slow_task_step_is_logged_as_its_task() {
    capture();
    let lp = EventLoop::new().unwrap();
    lp.set_debug(true);
    lp.set_slow_callback_duration(THRESHOLD);
    let line = line!() + 1;
    let task = lp.create_task(|_co| {
        slow();
        Ok(())
    });
    let task = task.unwrap();
    task.set_name("sloth");
    lp.run_until_complete(&task).unwrap();
    let logs = logged();
    let msgs: Vec<&str> = logs.iter().map(|(_, _, m)| m.as_str()).collect();
    let head = format!("Executing <Task finished name='sloth' created at {FILE}:{line}:");
    assert!(
        msgs.iter()
            .any(|m| m.starts_with(&head) && ends_with_seconds(m)),
        "{msgs:?}"
    );
    lp.close().unwrap();
}

#[test]
fn without_debug_nothing_is_timed_or_logged() {
    capture();
    let lp = EventLoop::new().unwrap();
    lp.set_debug(false);
    lp.set_slow_callback_duration(THRESHOLD);
    lp.call_soon(slow).unwrap();
    run_briefly(&lp);
    assert!(logged().is_empty());
    lp.close().unwrap();
}

#[test]
fn a_pending_task_destroyed_shows_where_it_was_created() {
    let lp = EventLoop::new().unwrap();
    lp.set_debug(true);
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    lp.set_exception_handler(Some(move |_: &EventLoop, ctx: &ExceptionContext| {
        s.borrow_mut().push((
            ctx.message.clone(),
            ctx.get("task").map(str::to_string),
            ctx.get("source_traceback").map(str::to_string),
        ));
    }));
    let line = line!() + 1;
    let task = lp.create_task(|co| co.wait(&get_running_loop()?.create_future::<()>()));
    let task = task.unwrap();
    task.set_name("stuck");
    run_briefly(&lp);
    lp.close().unwrap();
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let (msg, repr, source) = &seen[0];
    assert_eq!(msg, "Task was destroyed but it is pending!");
    let repr = repr.as_deref().unwrap();
    assert!(
        repr.starts_with("<Task pending name='stuck' wait_for=<Future pending cb=[Task.task_wakeup()] created at ")
            && repr.contains(&format!("> created at {FILE}:{line}:")),
        "{repr}"
    );
    let source = source.as_deref().unwrap();
    assert!(
        source.starts_with(&format!(
            "Object created at (most recent call last):\n  File \"{FILE}\", line {line}, column "
        )),
        "{source}"
    );
}

#[test]
fn without_debug_reports_have_no_creation_site() {
    let lp = EventLoop::new().unwrap();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    lp.set_exception_handler(Some(move |_: &EventLoop, ctx: &ExceptionContext| {
        s.borrow_mut().push(ctx.keys());
        assert_eq!(ctx.get("task"), Some("<Task pending name='quiet'>"));
    }));
    let task = lp
        .create_task(|co| co.wait(&get_running_loop()?.create_future::<()>()))
        .unwrap();
    task.set_name("quiet");
    run_briefly(&lp);
    lp.close().unwrap();
    assert_eq!(seen.borrow()[0], ["message", "task"]);
}

#[test]
fn a_future_never_retrieved_shows_where_it_was_created() {
    let lp = EventLoop::new().unwrap();
    lp.set_debug(true);
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    lp.set_exception_handler(Some(move |_: &EventLoop, ctx: &ExceptionContext| {
        s.borrow_mut().push((
            ctx.get("future").map(str::to_string),
            ctx.get("source_traceback").map(str::to_string),
        ));
    }));
    let (fut, line) = (lp.create_future::<()>(), line!());
    fut.set_exception(ValueError::new("lost").into()).unwrap();
    drop(fut);
    let seen = seen.borrow();
    let (repr, source) = &seen[0];
    let repr = repr.as_deref().unwrap();
    assert!(
        repr.starts_with(&format!(
            "<Future finished exception=ValueError('lost') created at {FILE}:{line}:"
        )),
        "{repr}"
    );
    assert!(
        source
            .as_deref()
            .unwrap()
            .contains(&format!("File \"{FILE}\", line {line}")),
        "{source:?}"
    );
    drop(seen);
    lp.close().unwrap();
}

#[test]
fn a_panicking_callback_shows_where_it_was_scheduled() {
    let lp = EventLoop::new().unwrap();
    lp.set_debug(true);
    let seen = Rc::new(RefCell::new(Vec::new()));
    let s = seen.clone();
    lp.set_exception_handler(Some(move |_: &EventLoop, ctx: &ExceptionContext| {
        s.borrow_mut().push((
            ctx.message.clone(),
            ctx.get("handle").map(str::to_string),
            ctx.get("source_traceback").is_some(),
        ));
    }));
    fn boom() {
        panic!("boom")
    }
    let (_h, line) = (lp.call_soon(boom).unwrap(), line!());
    run_briefly(&lp);
    let seen = seen.borrow();
    let (msg, handle, has_source) = &seen[0];
    assert!(msg.starts_with("Exception in callback "), "{msg}");
    let handle = handle.as_deref().unwrap();
    assert!(handle.starts_with("<Handle "), "{handle}");
    assert!(
        handle.contains(&format!("boom() created at {FILE}:{line}:")),
        "{handle}"
    );
    assert!(has_source);
    drop(seen);
    lp.close().unwrap();
}

#[test]
fn sock_calls_refuse_a_blocking_socket_in_debug_mode_only() {
    let (a, b) = UnixStream::pair().unwrap();
    (&a).write_all_now(b"hi");
    for debug in [true, false] {
        let lp = EventLoop::new().unwrap();
        lp.set_debug(debug);
        let b2 = b.try_clone().unwrap();
        let task = lp.create_task(move |co| sock_recv(co, &b2, 2)).unwrap();
        let res = lp.run_until_complete(&task);
        if debug {
            let err = res.unwrap_err();
            assert!(err.isinstance::<ValueError>());
            assert_eq!(py_str(&err), "the socket must be non-blocking");
        } else {
            // MSG_DONTWAIT: a blocking socket cannot stall the loop.
            assert_eq!(res.unwrap(), b"hi");
        }
        lp.close().unwrap();
    }
    // A non-blocking socket is fine in debug mode.
    let lp = EventLoop::new().unwrap();
    lp.set_debug(true);
    b.set_nonblocking(true).unwrap();
    (&a).write_all_now(b"ok");
    let task = lp.create_task(move |co| sock_recv(co, &b, 2)).unwrap();
    assert_eq!(lp.run_until_complete(&task).unwrap(), b"ok");
    lp.close().unwrap();
}

trait WriteNow {
    fn write_all_now(self, data: &[u8]);
}

impl WriteNow for &UnixStream {
    fn write_all_now(mut self, data: &[u8]) {
        std::io::Write::write_all(&mut self, data).unwrap();
    }
}

/// Run in a child process by the test below, with `TULIP_DEBUG` set or not.
#[test]
#[ignore = "run by debug_mode_defaults_to_tulip_debug"]
fn child_prints_the_default_debug_mode() {
    let lp = EventLoop::new().unwrap();
    println!("get_debug={}", lp.get_debug());
    drop(lp); // unclosed: the warning shows debug=...
}

#[test]
fn debug_mode_defaults_to_tulip_debug() {
    for (value, expected) in [(Some("1"), true), (Some(""), false), (None, false)] {
        let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "--exact",
            "child_prints_the_default_debug_mode",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ]);
        match value {
            Some(v) => cmd.env("TULIP_DEBUG", v),
            None => cmd.env_remove("TULIP_DEBUG"),
        };
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stdout.contains(&format!("get_debug={expected}")),
            "TULIP_DEBUG={value:?}: {stdout}"
        );
        let py = if expected { "True" } else { "False" };
        assert!(
            stderr.contains(&format!(
                "unclosed event loop <EventLoop running=False closed=False debug={py}>"
            )),
            "{stderr}"
        );
    }
}

/// The Python case's `norm`: ` at FILE:LINE` (where a handle was created), the deadline and
/// the time taken left out.
fn norm(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(" at ") {
        let after = &rest[i + 4..];
        let end = after.find([' ', '>']).unwrap_or(after.len());
        let token = &after[..end];
        out.push_str(&rest[..i]);
        if !(token.contains(':') && token.ends_with(|c: char| c.is_ascii_digit())) {
            out.push_str(" at ");
            out.push_str(token);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    if let Some(i) = out.find("when=") {
        let end = out[i..].find(' ').map_or(out.len(), |e| i + e);
        out.replace_range(i..end, "when=T");
    }
    if let Some(i) = out.find(" took ") {
        assert!(ends_with_seconds(&out), "{out}");
        out.replace_range(i.., " took N.NNN seconds");
    }
    out
}

#[test]
fn slow_callbacks_are_reported_as_asyncio_does() {
    common::check_case("loop/slow_callback", || {
        capture();
        let lp = EventLoop::new().unwrap();
        lp.set_debug(true);
        lp.set_slow_callback_duration(THRESHOLD);
        lp.call_soon(slow).unwrap();
        lp.call_soon(|| {}).unwrap();
        lp.call_later(Duration::ZERO, slow).unwrap();
        let l = lp.clone();
        lp.call_later(THRESHOLD * 5 / 2, move || l.stop()).unwrap();
        lp.run_forever().unwrap();
        lp.close().unwrap();
        for (level, _, msg) in logged() {
            tprint!(
                "{} {}",
                level.as_str().replace("WARN", "WARNING"),
                norm(&msg)
            );
        }
        tprint!("done");
    });
}
