//! Ctrl-C under `tulip::run`, as under asyncio.run (3.11's Runner): the first SIGINT cancels
//! the main task, which cleans up, and `run` returns `KeyboardInterrupt`; a second SIGINT
//! leaves the loop at once, and the shutdown cancels what is left. The program sends itself
//! the signals.
//!
//! Run: `cargo run --example ctrl_c` (the twin is tests/python/ctrl_c.py).

use std::time::Duration;

use tulip::{CancelledError, ErrorExt, KeyboardInterrupt, get_running_loop, run, sleep};

fn ctrl_c() {
    // SAFETY: kill with our own pid and a valid signal number.
    unsafe { libc::kill(libc::getpid(), libc::SIGINT) };
}

fn sigint_is_default() -> bool {
    // SAFETY: a zeroed sigaction is a valid out-parameter; no new action is set.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGINT, std::ptr::null(), &mut old);
        old.sa_sigaction == libc::SIG_DFL
    }
}

fn main() {
    // A shell may start a background job with SIGINT ignored: take the default back.
    // SAFETY: SIG_DFL for a valid signal number.
    unsafe { libc::signal(libc::SIGINT, libc::SIG_DFL) };
    let r = run(|co| {
        println!("main: Ctrl-C");
        ctrl_c();
        match sleep(co, Duration::from_secs(10)) {
            Err(e) if e.isinstance::<CancelledError>() => {
                println!("main: cancelled, cleaning up");
                sleep(co, Duration::ZERO)?;
                println!("main: cleaned up");
                Err(e)
            }
            other => other,
        }
    });
    if r.is_err_and(|e| e.isinstance::<KeyboardInterrupt>()) {
        println!("run raised KeyboardInterrupt");
    }

    let r = run(|co| {
        let lp = get_running_loop()?;
        println!("stubborn: Ctrl-C");
        ctrl_c();
        match sleep(co, Duration::from_secs(10)) {
            Err(e) if e.isinstance::<CancelledError>() => {
                println!("stubborn: cancelled; a second Ctrl-C comes while it cleans up");
                lp.call_later(Duration::from_millis(10), ctrl_c)?;
                let slept = sleep(co, Duration::from_secs(10));
                println!("stubborn: the shutdown cancels it"); // Python's `finally`
                slept
            }
            other => other,
        }
    });
    if r.is_err_and(|e| e.isinstance::<KeyboardInterrupt>()) {
        println!("run raised KeyboardInterrupt at once");
    }
    let restored = if sigint_is_default() { "True" } else { "False" };
    println!("SIGINT handler restored: {restored}");
}
