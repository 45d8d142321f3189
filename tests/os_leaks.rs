//! Nothing outlives a closed loop: worker threads exit, registered futures are freed.
//! (Its own test binary: it counts the process's threads.)
use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use tulip::EventLoop;
use tulip::Stdio::{Inherit, Piped};

fn asyncio_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("asyncio_"))
        .count()
}

struct Dropped(Rc<Cell<bool>>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// One test, so nothing else in this binary opens fds or threads meanwhile.
#[test]
fn nothing_outlives_a_closed_loop() {
    closing_the_loop_frees_futures_and_stops_the_threads();
    subprocess_fds_are_closed();
}

/// Pipes and pidfds: closed after a finished child, and after a loop closed mid-way.
fn subprocess_fds_are_closed() {
    let before = open_fds();
    tulip::run(|co| {
        let p = tulip::create_subprocess_exec(co, "cat", [] as [&str; 0], Piped, Piped, Piped)?;
        p.communicate(co, Some(b"x"))?;
        Ok(())
    })
    .unwrap();
    assert_eq!(open_fds(), before, "fds left after a finished child");
    let lp = EventLoop::new().unwrap();
    let task = lp
        .create_task(|co| {
            let p = tulip::create_subprocess_exec(co, "sleep", ["30"], Inherit, Piped, Piped)?;
            // Pending forever: the loop closes with the pidfd and both pipes registered.
            p.communicate(co, None)?;
            Ok(())
        })
        .unwrap();
    lp.call_later(Duration::from_millis(20), {
        let lp = lp.clone();
        move || lp.stop()
    })
    .unwrap();
    lp.run_forever().unwrap();
    assert!(!task.done());
    drop(task);
    lp.close().unwrap();
    drop(lp);
    assert_eq!(open_fds(), before, "fds left after close");
}

fn closing_the_loop_frees_futures_and_stops_the_threads() {
    let lp = EventLoop::new().unwrap();
    let done = lp.run_in_executor(|| 1).unwrap();
    assert_eq!(lp.run_until_complete(&done).unwrap(), 1);
    // A job still blocked when the loop closes: its future is pending and holds the loop.
    let gate = Arc::new(Barrier::new(2));
    let g = gate.clone();
    let pending = lp.run_in_executor(move || g.wait()).unwrap();
    let freed = Rc::new(Cell::new(false));
    let guard = Dropped(freed.clone());
    pending.add_done_callback(move |_| drop(guard));
    drop(pending);
    assert!(asyncio_threads() >= 1);
    lp.close().unwrap();
    assert!(freed.get(), "the pending future was not freed at close");
    assert_eq!(lp.default_executor_threads(), 0);
    // The detached worker finishes its job (its result is refused by the closed loop) and exits.
    gate.wait();
    let deadline = Instant::now() + Duration::from_secs(10);
    while asyncio_threads() > 0 {
        assert!(Instant::now() < deadline, "worker threads still alive");
        std::thread::sleep(Duration::from_millis(5));
    }
}
