//! The Python parity harness shared by the test files.
//!
//! A case is a Rust port of a Python program: it prints its trace with `tprint!` and the
//! harness compares the trace, character for character, with the Python twin's output
//! recorded beside it (`NAME.out`, so the Rust side is checked everywhere). Where `python3`
//! is CPython 3.11, the twin (`NAME.py`) is run again and must still print the recording,
//! so the recording cannot drift.
//!
//! Beside it, what the behaviour tests share: [`MyError`], the user error they fail tasks
//! with, and [`run_main`], a loop that runs one main task and is closed.
#![allow(dead_code)]

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::Result;
use tulip::{EventLoop, TaskCo};

thread_local! {
    static TRACE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Appends one line to this thread's trace (the Rust side of `print(...)`).
pub fn trace_line(line: String) {
    TRACE.with(|t| {
        let mut t = t.borrow_mut();
        t.push_str(&line);
        t.push('\n');
    });
}

/// Appends text without ending the line (Python's `print(..., end=" ")`).
pub fn trace_part(text: &str) {
    TRACE.with(|t| t.borrow_mut().push_str(text));
}

/// `print()` for ports: `tprint!("x = {}", x)` appends a line to the trace.
#[macro_export]
macro_rules! tprint {
    ($($arg:tt)*) => {
        $crate::common::trace_line(format!($($arg)*))
    };
}

/// Takes this thread's trace, leaving it empty.
pub fn take_trace() -> String {
    TRACE.with(|t| std::mem::take(&mut *t.borrow_mut()))
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Whether `python3` is CPython 3.11, the version the recordings come from.
fn python311() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        Command::new("python3")
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).starts_with("Python 3.11"))
            .unwrap_or(false)
    })
}

fn run_python(py: &Path) -> String {
    let out = Command::new("python3")
        .arg(py)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONHASHSEED", "0")
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "{} failed:\n{}",
        py.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("python prints UTF-8")
}

fn diff(what: &str, expected: &str, actual: &str) -> String {
    let mut msg = format!("{what}: output differs from Python's\n");
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    for i in 0..e.len().max(a.len()) {
        let (x, y) = (e.get(i).copied(), a.get(i).copied());
        let mark = if x == y { ' ' } else { '!' };
        msg.push_str(&format!(
            "{mark} {:>3} python: {:?}\n      tulip:  {:?}\n",
            i + 1,
            x,
            y
        ));
    }
    msg
}

/// Compares `actual` with the recording at `base.out`, and the recording with `base.py`.
pub fn compare(base: &Path, actual: &str) {
    let out_path = base.with_extension("out");
    let py_path = base.with_extension("py");
    assert!(
        py_path.exists(),
        "missing Python twin {}",
        py_path.display()
    );
    let recorded = std::fs::read_to_string(&out_path).unwrap_or_else(|_| {
        panic!(
            "missing recording {} (run tests/record)",
            out_path.display()
        )
    });
    if python311() {
        let fresh = run_python(&py_path);
        assert!(
            fresh == recorded,
            "{}",
            diff(
                &format!("{} (re-run vs recording)", py_path.display()),
                &fresh,
                &recorded
            )
        );
    }
    assert!(
        actual == recorded,
        "{}",
        diff(&base.display().to_string(), &recorded, actual)
    );
}

/// Runs a ported case: `f` prints with `tprint!`; its trace must equal
/// `tests/cases/<name>.out`, the output of `tests/cases/<name>.py`.
pub fn check_case(name: &str, f: impl FnOnce()) {
    take_trace();
    f();
    let actual = take_trace();
    compare(&root().join("tests/cases").join(name), &actual);
}

/// The directory where `cargo test` put the example binaries.
pub fn examples_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join("examples")
}

/// Runs `examples/<name>.rs` (built by `cargo test`) and compares its stdout with
/// `tests/python/<name>.out`, the output of `tests/python/<name>.py`. An example
/// `<base>_stackless` (the stackless backend, feature `nightly`) is the twin of `<base>`'s
/// Python program: it must print the same.
pub fn check_example(name: &str) {
    let twin = name.strip_suffix(STACKLESS).unwrap_or(name);
    let bin = examples_dir().join(name);
    let out = Command::new(&bin)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", bin.display()));
    assert!(
        out.status.success(),
        "example {name} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let actual = String::from_utf8(out.stdout).expect("example prints UTF-8");
    compare(&root().join("tests/python").join(twin), &actual);
}

/// The name suffix of the examples on the stackless backend.
pub const STACKLESS: &str = "_stackless";

/// Python's `str(bool)`.
pub fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// `n` milliseconds.
pub fn ms(n: u64) -> std::time::Duration {
    std::time::Duration::from_millis(n)
}

/// asyncio's test helper: one `call_soon(loop.stop)` and `run_forever()`, so exactly one
/// iteration runs what is ready now.
pub fn run_briefly(lp: &tulip::EventLoop) {
    let l = lp.clone();
    lp.call_soon(move || l.stop()).unwrap();
    lp.run_forever().unwrap();
}

/// A user error (no Python exception type of its own): what a test fails a task or future
/// with to check that the error comes back with its Rust type (`err.find::<MyError>()`).
#[derive(Debug)]
pub struct MyError(pub u32);

impl std::fmt::Display for MyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "my error {}", self.0)
    }
}

impl std::error::Error for MyError {}

/// asyncio's test pattern `loop = new_event_loop(); loop.run_until_complete(main());
/// loop.close()`: makes a loop, runs `main` as a task until it completes, closes the loop
/// and returns `main`'s result. Unlike `tulip::run`, tasks left pending are not cancelled
/// first and the default executor is not shut down: `close()` meets them as they are.
/// A test that needs the loop afterwards, or checks what `close()` does, makes its own.
pub fn run_main<T: Clone + 'static>(
    main: impl FnOnce(&TaskCo) -> Result<T> + 'static,
) -> Result<T> {
    let lp = EventLoop::new().unwrap();
    let task = lp.create_task(main).unwrap();
    let result = lp.run_until_complete(&task);
    lp.close().unwrap();
    result
}

/// A stream handler that echoes until EOF (asyncio's read(65536), write, drain).
pub fn echo(
    co: &tulip::TaskCo,
    r: tulip::StreamReader,
    w: tulip::StreamWriter,
) -> anyhow::Result<()> {
    loop {
        let data = r.read(co, 65536)?;
        if data.is_empty() {
            return Ok(());
        }
        w.write(&data)?;
        w.drain(co)?;
    }
}

/// `len(x._waiters)`, read from the repr's `waiters:N` (absent when there are none).
pub fn n_waiters(x: &impl std::fmt::Debug) -> usize {
    let repr = format!("{x:?}");
    match repr.split("waiters:").nth(1) {
        Some(rest) => rest
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap(),
        None => 0,
    }
}

/// `len(queue._getters)` / `len(queue._putters)`, read from `str(queue)`.
pub fn n_queued(q: &impl std::fmt::Debug, which: &str) -> usize {
    let repr = format!("{q:?}");
    match repr.split(&format!("{which}[")).nth(1) {
        Some(rest) => rest.split(']').next().unwrap().parse().unwrap(),
        None => 0,
    }
}
