//! The child watcher's fallback, asyncio's `ThreadedChildWatcher`: where `pidfd_open` is
//! refused (ENOSYS/EPERM under some sandboxes and valgrind), a waiter thread per child reaps
//! it and reports through the loop's thread-safe queue. `TULIP_CHILD_WATCHER=thread` forces
//! it: the one test here runs the scenarios in this process (pidfds), then runs this test
//! binary again with the variable set, so that the same scenarios run on waiter threads.
use std::process::Command as StdCommand;
use std::time::Duration;

use tulip::Stdio::{Inherit, Null, Piped};
use tulip::{Command, create_subprocess_exec, sleep};

const VAR: &str = "TULIP_CHILD_WATCHER";

fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with(prefix))
        .count()
}

fn zombies_of_this_process() -> usize {
    let me = std::process::id().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("stat")).ok())
        .filter(|stat| {
            // pid (comm) state ppid ...: the fields after the last ')'
            let rest = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
            let mut f = rest.split(' ');
            f.next() == Some("Z") && f.next() == Some(me.as_str())
        })
        .count()
}

/// The scenarios, on whichever watcher this process uses.
fn scenarios(thread: bool) {
    tulip::run(move |co| {
        // communicate, and the watcher in use while the child runs
        let p = create_subprocess_exec(co, "cat", [] as [&str; 0], Piped, Piped, Inherit)?;
        // (A new thread names itself when it starts: give it the time to.)
        let mut waiters = threads_named("tulip-waitpid");
        for _ in 0..1000 {
            if waiters > 0 || !thread {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
            waiters = threads_named("tulip-waitpid");
        }
        assert_eq!(waiters, usize::from(thread));
        let (out, _) = p.communicate(co, Some(b"through the pipe"))?;
        assert_eq!(out.as_deref(), Some(&b"through the pipe"[..]));
        assert_eq!(p.returncode(), Some(0));

        // an exit status
        let p = Command::new("sh").args(["-c", "exit 3"]).spawn(co)?;
        assert_eq!(p.wait(co)?, 3);
        assert_eq!(p.returncode(), Some(3));

        // a signal, then signals after the exit was seen
        let p = Command::new("sleep").arg("30").stdout(Null).spawn(co)?;
        sleep(co, Duration::from_millis(1))?;
        p.kill()?;
        assert_eq!(p.wait(co)?, -9);
        let e = p.terminate().unwrap_err();
        assert_eq!(tulip::errors::py_name(&e), "ProcessLookupError");

        // a child dropped while it runs is killed and reaped, by someone
        let p = Command::new("sleep").arg("30").spawn(co)?;
        drop(p);
        Ok(())
    })
    .unwrap();
    // The dropped child is reaped shortly (by the waiter thread or a reaper thread).
    for _ in 0..500 {
        if zombies_of_this_process() == 0 && threads_named("tulip-") == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(zombies_of_this_process(), 0, "a child left unreaped");
    assert_eq!(threads_named("tulip-"), 0, "a watcher thread left running");
}

#[test]
fn children_are_watched_by_pidfd_or_by_a_waiter_thread() {
    if std::env::var_os(VAR).is_some() {
        // The second run, in a fresh process: waiter threads.
        scenarios(true);
        return;
    }
    scenarios(false);
    let exe = std::env::current_exe().unwrap();
    let out = StdCommand::new(exe)
        .args([
            "--exact",
            "children_are_watched_by_pidfd_or_by_a_waiter_thread",
            "--test-threads=1",
        ])
        .env(VAR, "thread")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "with {VAR}=thread:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
}
