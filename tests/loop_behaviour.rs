//! The loop's behaviour beyond the Python parity cases. Every test asserts on order, never on
//! timing, and stops its loop with a timer so that nothing can hang.

use std::cell::{Cell, RefCell};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tulip::{ErrorExt, EventLoop, ExceptionContext, Panic, RuntimeError, get_running_loop};

/// One iteration with timeout 0.
fn run_once(lp: &EventLoop) {
    lp.stop();
    lp.run_forever().unwrap();
}

/// A timer that stops the loop after `secs` seconds; returns a flag telling whether it fired.
fn safety(lp: &EventLoop, secs: u64) -> Rc<Cell<bool>> {
    let fired = Rc::new(Cell::new(false));
    let (l, f) = (lp.clone(), fired.clone());
    lp.call_later(Duration::from_secs(secs), move || {
        f.set(true);
        l.stop();
    })
    .unwrap();
    fired
}

/// Records the errors handed to the exception handler.
fn record_errors(lp: &EventLoop) -> Rc<RefCell<Vec<String>>> {
    let errors = Rc::new(RefCell::new(Vec::new()));
    let e = errors.clone();
    lp.set_exception_handler(Some(move |_: &EventLoop, ctx: &ExceptionContext| {
        let exc = ctx
            .exception
            .as_ref()
            .map(tulip::py_repr)
            .unwrap_or_default();
        e.borrow_mut().push(format!("{} | {exc}", ctx.message));
    }));
    errors
}

fn read_some(s: &UnixStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    let got = (&*s).read(&mut buf).unwrap();
    buf.truncate(got);
    buf
}

#[test]
fn a_reader_that_leaves_data_is_called_again_each_iteration() {
    let lp = EventLoop::new().unwrap();
    let (r, mut w) = UnixStream::pair().unwrap();
    r.set_nonblocking(true).unwrap();
    let r = Rc::new(r);
    w.write_all(b"abcdef").unwrap();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    lp.add_reader(&*r, move || c.set(c.get() + 1)).unwrap();
    for i in 1..=5 {
        run_once(&lp);
        assert_eq!(
            calls.get(),
            i,
            "called once per iteration while data is left"
        );
    }
    // Consume everything: the reader stops being called.
    assert_eq!(read_some(&r, 100), b"abcdef");
    run_once(&lp);
    let after = calls.get();
    run_once(&lp);
    run_once(&lp);
    assert_eq!(calls.get(), after, "no more calls once drained");
    // New data: called again.
    w.write_all(b"x").unwrap();
    run_once(&lp);
    assert_eq!(calls.get(), after + 1);
    assert!(lp.remove_reader(&*r));
    lp.close().unwrap();
}

#[test]
fn a_writer_is_called_while_the_fd_stays_writable() {
    let lp = EventLoop::new().unwrap();
    let (_r, w) = UnixStream::pair().unwrap();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    lp.add_writer(&w, move || c.set(c.get() + 1)).unwrap();
    for i in 1..=3 {
        run_once(&lp);
        assert_eq!(calls.get(), i);
    }
    assert!(lp.remove_writer(&w));
    run_once(&lp);
    assert_eq!(calls.get(), 3);
    lp.close().unwrap();
}

#[test]
fn a_replaced_reader_never_runs_and_is_dropped() {
    let lp = EventLoop::new().unwrap();
    let (r, mut w) = UnixStream::pair().unwrap();
    w.write_all(b"x").unwrap();
    let token = Rc::new(());
    let t = token.clone();
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    lp.add_reader(&r, move || {
        let _keep = &t;
        l.borrow_mut().push("old");
    })
    .unwrap();
    let l = log.clone();
    lp.add_reader(&r, move || l.borrow_mut().push("new"))
        .unwrap();
    assert_eq!(Rc::strong_count(&token), 1, "the old closure is dropped");
    run_once(&lp);
    assert_eq!(*log.borrow(), ["new"]);
    assert!(lp.remove_reader(&r));
    assert!(!lp.remove_reader(&r));
    run_once(&lp);
    assert_eq!(*log.borrow(), ["new"], "removed: not called");
    lp.close().unwrap();
}

#[test]
fn a_reader_removed_by_an_earlier_callback_of_the_batch_is_skipped() {
    let lp = EventLoop::new().unwrap();
    let (r, mut w) = UnixStream::pair().unwrap();
    let r = Rc::new(r);
    w.write_all(b"x").unwrap();
    let log = Rc::new(RefCell::new(Vec::<&str>::new()));
    // Reader A removes reader B; both fds are ready in the same iteration.
    let (r2, mut w2) = UnixStream::pair().unwrap();
    let r2 = Rc::new(r2);
    w2.write_all(b"y").unwrap();
    let (l, lp2, rb) = (log.clone(), lp.clone(), r2.clone());
    lp.add_reader(&*r, move || {
        l.borrow_mut().push("a");
        lp2.remove_reader(&*rb);
    })
    .unwrap();
    let (l, lp2, ra) = (log.clone(), lp.clone(), r.clone());
    lp.add_reader(&*r2, move || {
        l.borrow_mut().push("b");
        lp2.remove_reader(&*ra);
    })
    .unwrap();
    run_once(&lp);
    // Whichever ran first removed the other, which was skipped although it was queued.
    assert_eq!(log.borrow().len(), 1, "{:?}", log.borrow());
    lp.close().unwrap();
}

#[test]
fn a_panicking_reader_stays_registered() {
    let lp = EventLoop::new().unwrap();
    let errors = record_errors(&lp);
    let (r, mut w) = UnixStream::pair().unwrap();
    w.write_all(b"x").unwrap();
    let calls = Rc::new(Cell::new(0));
    let c = calls.clone();
    lp.add_reader(&r, move || {
        c.set(c.get() + 1);
        panic!("reader boom");
    })
    .unwrap();
    run_once(&lp);
    run_once(&lp);
    assert_eq!(calls.get(), 2);
    assert_eq!(errors.borrow().len(), 2);
    assert!(errors.borrow()[0].ends_with("| Panic('reader boom')"));
    assert!(lp.remove_reader(&r));
    lp.close().unwrap();
}

#[test]
fn a_panicking_callback_does_not_stop_the_batch() {
    let lp = EventLoop::new().unwrap();
    let errors = record_errors(&lp);
    let log = Rc::new(RefCell::new(Vec::new()));
    for i in 0..5 {
        let l = log.clone();
        lp.call_soon(move || {
            l.borrow_mut().push(i);
            if i == 2 {
                panic!("boom {i}");
            }
        })
        .unwrap();
    }
    run_once(&lp);
    assert_eq!(*log.borrow(), [0, 1, 2, 3, 4]);
    let errors = errors.borrow();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("Exception in callback "),
        "{}",
        errors[0]
    );
    assert!(errors[0].ends_with("| Panic('boom 2')"), "{}", errors[0]);
    lp.close().unwrap();
}

#[test]
fn a_panicking_exception_handler_falls_back_to_the_default() {
    let lp = EventLoop::new().unwrap();
    lp.set_exception_handler(Some(|_: &EventLoop, _: &ExceptionContext| {
        panic!("handler")
    }));
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    lp.call_soon(|| panic!("callback")).unwrap();
    lp.call_soon(move || r.set(true)).unwrap();
    run_once(&lp);
    assert!(ran.get(), "the loop went on");
    lp.close().unwrap();
}

#[test]
fn the_handler_gets_the_handle_and_the_panic() {
    let lp = EventLoop::new().unwrap();
    let seen = Rc::new(RefCell::new(None));
    let s = seen.clone();
    lp.set_exception_handler(Some(move |_: &EventLoop, ctx: &ExceptionContext| {
        let panic = ctx.exception.as_ref().unwrap().find::<Panic>().unwrap();
        *s.borrow_mut() = Some((
            ctx.keys(),
            ctx.get("handle").unwrap().to_string(),
            panic.msg.clone(),
        ));
    }));
    fn failing() {
        panic!("it failed");
    }
    lp.call_soon(failing).unwrap();
    run_once(&lp);
    let (keys, handle, msg) = seen.borrow_mut().take().unwrap();
    assert_eq!(keys, ["exception", "handle", "message"]);
    assert!(
        handle.starts_with("<Handle ") && handle.contains("failing()"),
        "{handle}"
    );
    assert_eq!(msg, "it failed");
    lp.close().unwrap();
}

#[test]
fn a_loop_blocked_in_poll_is_woken_from_another_thread() {
    let lp = EventLoop::new().unwrap();
    let fired = safety(&lp, 30);
    let handle = lp.threadsafe_handle().unwrap();
    let thread = Rc::new(RefCell::new(None));
    let t = thread.clone();
    lp.call_soon(move || {
        // From here the loop has nothing ready: it blocks in poll until the thread wakes it.
        *t.borrow_mut() = Some(std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            handle
                .call_soon_threadsafe(|| get_running_loop().unwrap().stop())
                .unwrap();
        }));
    })
    .unwrap();
    lp.run_forever().unwrap();
    thread.borrow_mut().take().unwrap().join().unwrap();
    assert!(!fired.get(), "woken by the thread, not by the safety timer");
    lp.close().unwrap();
}

#[test]
fn a_loop_with_nothing_scheduled_is_woken_from_another_thread() {
    // No timer at all: the loop waits without a timeout and only the waker can end it. A
    // watchdog aborts the test binary rather than let a broken waker hang it.
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    std::thread::spawn(move || {
        for _ in 0..3000 {
            std::thread::sleep(Duration::from_millis(10));
            if d.load(Ordering::Acquire) {
                return;
            }
        }
        eprintln!("the waker did not wake the loop");
        std::process::abort();
    });
    let lp = EventLoop::new().unwrap();
    let handle = lp.threadsafe_handle().unwrap();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        handle.stop().unwrap();
    });
    lp.run_forever().unwrap();
    done.store(true, Ordering::Release);
    t.join().unwrap();
    lp.close().unwrap();
}

#[test]
fn many_threads_call_soon_threadsafe() {
    const THREADS: usize = 4;
    const CALLS: usize = 1000;
    let lp = EventLoop::new().unwrap();
    let fired = safety(&lp, 30);
    let count = Arc::new(AtomicUsize::new(0));
    let handle = lp.threadsafe_handle().unwrap();
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let (h, count) = (handle.clone(), count.clone());
            std::thread::spawn(move || {
                for _ in 0..CALLS {
                    let count = count.clone();
                    h.call_soon_threadsafe(move || {
                        if count.fetch_add(1, Ordering::Relaxed) + 1 == THREADS * CALLS {
                            get_running_loop().unwrap().stop();
                        }
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    lp.run_forever().unwrap();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(count.load(Ordering::Relaxed), THREADS * CALLS);
    assert!(!fired.get());
    lp.close().unwrap();
}

#[test]
fn calls_from_one_thread_keep_their_order() {
    let lp = EventLoop::new().unwrap();
    let fired = safety(&lp, 30);
    let handle = lp.threadsafe_handle().unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = seen.clone();
    let t = std::thread::spawn(move || {
        for i in 0..500 {
            let s = s.clone();
            handle
                .call_soon_threadsafe(move || s.lock().unwrap().push(i))
                .unwrap();
        }
        handle.stop().unwrap();
    });
    lp.run_forever().unwrap();
    t.join().unwrap();
    assert!(!fired.get());
    assert_eq!(*seen.lock().unwrap(), (0..500).collect::<Vec<_>>());
    lp.close().unwrap();
}

#[test]
fn a_timer_cancelled_after_it_became_due_does_not_run() {
    let lp = EventLoop::new().unwrap();
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    let timer = Rc::new(
        lp.call_at(lp.time() - Duration::from_millis(1), move || r.set(true))
            .unwrap(),
    );
    let t = timer.clone();
    // Queued before the timer becomes due, so it runs first in the same iteration.
    lp.call_soon(move || t.cancel()).unwrap();
    run_once(&lp);
    assert!(!ran.get());
    assert!(timer.cancelled());
    run_once(&lp);
    assert!(!ran.get());
    assert_eq!(lp.timer_stats(), (0, 0));
    lp.close().unwrap();
}

#[test]
fn cancelling_releases_the_closure_at_once() {
    let lp = EventLoop::new().unwrap();
    let token = Rc::new(());
    let t = token.clone();
    let h = lp.call_soon(move || drop(t)).unwrap();
    let t = token.clone();
    let th = lp
        .call_later(Duration::from_secs(60), move || drop(t))
        .unwrap();
    assert_eq!(Rc::strong_count(&token), 3);
    h.cancel();
    th.cancel();
    assert_eq!(Rc::strong_count(&token), 1);
    lp.close().unwrap();
}

#[test]
fn dropping_a_handle_does_not_cancel() {
    let lp = EventLoop::new().unwrap();
    let ran = Rc::new(Cell::new(0));
    let (a, b) = (ran.clone(), ran.clone());
    drop(lp.call_soon(move || a.set(a.get() + 1)).unwrap());
    drop(
        lp.call_later(Duration::ZERO, move || b.set(b.get() + 1))
            .unwrap(),
    );
    run_once(&lp);
    assert_eq!(ran.get(), 2);
    lp.close().unwrap();
}

#[test]
fn hundred_thousand_timers_fire_in_deadline_order() {
    const N: usize = 100_000;
    let lp = EventLoop::new().unwrap();
    let base = lp.time();
    let order = Rc::new(RefCell::new(Vec::with_capacity(N)));
    let mut expected = Vec::with_capacity(N);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..N {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        // Deadlines in the past (all due at once), many of them equal.
        let when = base - Duration::from_micros(x % 5000);
        expected.push((when, i));
        let o = order.clone();
        lp.call_at(when, move || o.borrow_mut().push(i)).unwrap();
    }
    run_once(&lp);
    expected.sort();
    let expected: Vec<usize> = expected.into_iter().map(|(_, i)| i).collect();
    assert_eq!(
        *order.borrow(),
        expected,
        "deadline order, FIFO among equals"
    );
    lp.close().unwrap();
}

#[test]
fn timers_with_cancellations_fire_in_order() {
    let lp = EventLoop::new().unwrap();
    let base = lp.time();
    let order = Rc::new(RefCell::new(Vec::new()));
    let mut keep = Vec::new();
    let mut handles = Vec::new();
    for i in 0..5000u64 {
        let when = base - Duration::from_micros((i * 7919) % 1000);
        let o = order.clone();
        handles.push(lp.call_at(when, move || o.borrow_mut().push(i)).unwrap());
        if i % 3 != 0 {
            keep.push((when, i));
        }
    }
    for (i, h) in handles.iter().enumerate() {
        if i % 3 == 0 {
            h.cancel();
        }
    }
    run_once(&lp);
    keep.sort();
    let keep: Vec<u64> = keep.into_iter().map(|(_, i)| i).collect();
    assert_eq!(*order.borrow(), keep);
    assert_eq!(lp.timer_stats(), (0, 0));
    lp.close().unwrap();
}

#[test]
fn a_future_timer_waits_for_its_deadline() {
    let lp = EventLoop::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let start = lp.time();
    for (ms, name) in [(30, "c"), (10, "a"), (20, "b")] {
        let (l, lp2) = (log.clone(), lp.clone());
        lp.call_later(Duration::from_millis(ms), move || {
            l.borrow_mut().push((name, lp2.time()));
            if name == "c" {
                lp2.stop();
            }
        })
        .unwrap();
    }
    lp.run_forever().unwrap();
    let log = log.borrow();
    let names: Vec<_> = log.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["a", "b", "c"]);
    // Never early (a lower bound, not a timing assertion).
    assert!(log[0].1 >= start + Duration::from_millis(10));
}

#[test]
fn close_drops_pending_callbacks_timers_and_readers() {
    let lp = EventLoop::new().unwrap();
    let token = Rc::new(());
    let ran = Rc::new(Cell::new(false));
    let (t, r) = (token.clone(), ran.clone());
    lp.call_soon(move || {
        let _keep = t;
        r.set(true);
    })
    .unwrap();
    let (t, r) = (token.clone(), ran.clone());
    lp.call_later(Duration::from_secs(10), move || {
        let _keep = t;
        r.set(true);
    })
    .unwrap();
    let (sock, _other) = UnixStream::pair().unwrap();
    let t = token.clone();
    lp.add_reader(&sock, move || {
        let _keep = &t;
    })
    .unwrap();
    // A callback holding the loop itself: a cycle that close() breaks.
    let l = lp.clone();
    lp.call_soon(move || l.stop()).unwrap();
    assert_eq!(Rc::strong_count(&token), 4);
    lp.close().unwrap();
    assert_eq!(Rc::strong_count(&token), 1, "everything queued was dropped");
    assert!(!ran.get());
    assert!(lp.run_forever().is_err());
}

#[test]
fn a_drop_that_uses_the_loop_during_close_does_not_panic() {
    struct UsesLoop(EventLoop, Rc<Cell<bool>>);
    impl Drop for UsesLoop {
        fn drop(&mut self) {
            // The loop is closed by now: an error, not a RefCell panic.
            self.1.set(self.0.call_soon(|| ()).is_err());
        }
    }
    let lp = EventLoop::new().unwrap();
    let refused = Rc::new(Cell::new(false));
    let u = UsesLoop(lp.clone(), refused.clone());
    lp.call_soon(move || drop(u)).unwrap();
    lp.close().unwrap();
    assert!(refused.get());
}

#[test]
fn a_drop_that_schedules_during_cancel_does_not_panic() {
    struct Schedules(EventLoop);
    impl Drop for Schedules {
        fn drop(&mut self) {
            self.0.call_soon(|| ()).unwrap();
        }
    }
    let lp = EventLoop::new().unwrap();
    let s = Schedules(lp.clone());
    let h = lp.call_soon(move || drop(s)).unwrap();
    h.cancel(); // drops the closure, which schedules: no borrow is held
    let s = Schedules(lp.clone());
    let th = lp
        .call_later(Duration::from_secs(5), move || drop(s))
        .unwrap();
    th.cancel();
    run_once(&lp);
    lp.close().unwrap();
}

#[test]
fn misuse_errors() {
    let lp = EventLoop::new().unwrap();
    let errors = Rc::new(RefCell::new(Vec::new()));
    let (l, e) = (lp.clone(), errors.clone());
    lp.call_soon(move || {
        for err in [l.run_forever().unwrap_err(), l.close().unwrap_err()] {
            assert!(err.isinstance::<RuntimeError>());
            e.borrow_mut().push(err.to_string());
        }
        let other = EventLoop::new().unwrap();
        e.borrow_mut()
            .push(other.run_forever().unwrap_err().to_string());
        l.stop();
    })
    .unwrap();
    lp.run_forever().unwrap();
    assert_eq!(
        *errors.borrow(),
        [
            "This event loop is already running",
            "Cannot close a running event loop",
            "Cannot run the event loop while another loop is running",
        ]
    );
    assert_eq!(
        get_running_loop().unwrap_err().to_string(),
        "no running event loop"
    );
    lp.close().unwrap();
    lp.close().unwrap();
    for err in [
        lp.run_forever().unwrap_err(),
        lp.call_soon(|| ()).unwrap_err(),
        lp.call_later(Duration::ZERO, || ()).unwrap_err(),
        lp.call_at(Instant::now(), || ()).unwrap_err(),
        lp.call_soon_threadsafe(|| ()).unwrap_err(),
        lp.threadsafe_handle().unwrap_err(),
        lp.add_reader(0, || ()).unwrap_err(),
        lp.add_writer(1, || ()).unwrap_err(),
    ] {
        assert!(err.isinstance::<RuntimeError>());
        assert_eq!(err.to_string(), "Event loop is closed");
    }
    assert!(!lp.remove_reader(0));
}

#[test]
fn a_regular_file_cannot_be_watched() {
    // epoll refuses regular files (EPERM), as Python's selector does: an error, and the loop
    // is left as it was.
    let lp = EventLoop::new().unwrap();
    let file = std::fs::File::open(env!("CARGO_MANIFEST_DIR").to_string() + "/Cargo.toml").unwrap();
    assert!(lp.add_reader(&file, || ()).is_err());
    assert!(!lp.remove_reader(&file));
    run_once(&lp);
    lp.close().unwrap();
}

#[test]
fn a_signal_during_poll_is_retried() {
    extern "C" fn on_signal(_: libc::c_int) {}
    // SAFETY: installs a handler that does nothing, without SA_RESTART, so a blocked
    // epoll_wait returns EINTR.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as *const () as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        assert_eq!(libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut()), 0);
    }
    let lp = EventLoop::new().unwrap();
    // A registered fd makes the loop wait in epoll_wait rather than sleep.
    let (sock, _other) = UnixStream::pair().unwrap();
    lp.add_reader(&sock, || ()).unwrap();
    let fired = Rc::new(Cell::new(false));
    let (l, f) = (lp.clone(), fired.clone());
    lp.call_later(Duration::from_millis(100), move || {
        f.set(true);
        l.stop();
    })
    .unwrap();
    // SAFETY: pthread_self of this thread, signalled while it is alive (joined below).
    let me = unsafe { libc::pthread_self() } as usize;
    let t = std::thread::spawn(move || {
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(10));
            unsafe { libc::pthread_kill(me as libc::pthread_t, libc::SIGUSR1) };
        }
    });
    lp.run_forever().unwrap();
    t.join().unwrap();
    assert!(fired.get());
    lp.remove_reader(&sock);
    lp.close().unwrap();
}

#[test]
fn get_running_loop_is_the_loop_only_while_it_runs() {
    let lp = EventLoop::new().unwrap();
    let same = Rc::new(Cell::new(false));
    let (l, s) = (lp.clone(), same.clone());
    lp.call_soon(move || s.set(get_running_loop().unwrap() == l))
        .unwrap();
    run_once(&lp);
    assert!(same.get());
    assert!(get_running_loop().is_err());
    lp.close().unwrap();
}

#[test]
fn a_handle_outliving_its_loop_reports_it_closed() {
    let lp = EventLoop::new().unwrap();
    let handle = lp.threadsafe_handle().unwrap();
    drop(lp);
    let err = std::thread::spawn(move || handle.call_soon_threadsafe(|| ()).unwrap_err())
        .join()
        .unwrap();
    assert_eq!(err.to_string(), "Event loop is closed");
}
