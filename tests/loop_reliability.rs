//! A loop dropped without `close()` (issue #15, fault 4): as CPython's garbage collector, tulip
//! reports it and closes it, so that nothing it owned outlives it, even when callbacks and
//! tasks hold handles to it.

use std::cell::{Cell, RefCell};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::Duration;

use tulip::{EventLoop, ExceptionContext, get_running_loop};

/// Every test counts the process's fds: one at a time.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

thread_local! {
    /// What this thread logged (tulip reports on the loop's thread).
    static LOGGED: RefCell<Vec<(log::Level, String)>> = const { RefCell::new(Vec::new()) };
}

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        if record.target() == "tulip" {
            let line = (record.level(), record.args().to_string());
            LOGGED.with(|l| l.borrow_mut().push(line));
        }
    }
    fn flush(&self) {}
}

/// Installs the capturing logger (once) and empties this thread's log.
fn capture_log() {
    static LOGGER: Capture = Capture;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Trace);
    }
    LOGGED.with(|l| l.borrow_mut().clear());
}

fn take_log() -> Vec<(log::Level, String)> {
    LOGGED.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

/// Counts its drops.
struct Guard(Rc<Cell<usize>>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// Runs the loop until what is ready now and what that schedules has run.
fn run_briefly(lp: &EventLoop) {
    let l = lp.clone();
    lp.call_soon(move || {
        l.call_soon({
            let l = l.clone();
            move || l.stop()
        })
        .unwrap();
    })
    .unwrap();
    lp.run_forever().unwrap();
}

type Reports = Rc<RefCell<Vec<(String, Option<String>)>>>;

/// A custom handler recording each report's message and `task` field.
fn record_reports(lp: &EventLoop) -> Reports {
    let reports: Reports = Rc::default();
    let r = reports.clone();
    lp.set_exception_handler(Some(move |_: &EventLoop, ctx: &ExceptionContext| {
        let task = ctx.get("task").map(str::to_string);
        r.borrow_mut().push((ctx.message.clone(), task));
    }));
    reports
}

/// A loop with a task awaiting a future that never completes, a timer and a reader, all
/// holding handles to the loop: dropping its owner frees all of it and reports the task.
fn loop_with_pending_work(dropped: &Rc<Cell<usize>>) -> (EventLoop, Reports) {
    let start = dropped.get();
    let lp = EventLoop::new().unwrap();
    let reports = record_reports(&lp);
    let (l, g) = (lp.clone(), Guard(dropped.clone()));
    let task = lp
        .create_task(move |co| {
            let _locals = g;
            let never = l.create_future::<()>();
            co.wait(&never)
        })
        .unwrap();
    task.set_name("stuck");
    let (l, g) = (lp.clone(), Guard(dropped.clone()));
    lp.call_later(Duration::from_secs(3600), move || {
        let _ = (&l, &g);
    })
    .unwrap();
    let (a, b) = UnixStream::pair().unwrap();
    let (l, g, fd) = (lp.clone(), Guard(dropped.clone()), b.as_raw_fd());
    lp.add_reader(fd, move || {
        let _ = (&l, &g, &a, &b);
    })
    .unwrap();
    run_briefly(&lp);
    assert_eq!(
        dropped.get(),
        start,
        "nothing is freed while the loop is open"
    );
    (lp, reports)
}

#[test]
fn loops_dropped_with_pending_work_free_everything() {
    let _serial = serial();
    capture_log();
    let dropped = Rc::new(Cell::new(0));
    // One loop first: the lazily made process-wide state (the stack pool...) is made now.
    drop(loop_with_pending_work(&dropped));
    dropped.set(0);
    take_log();
    let before = open_fds();
    for i in 0..100 {
        let (lp, reports) = loop_with_pending_work(&dropped);
        drop(lp);
        assert_eq!(
            dropped.get(),
            3 * (i + 1),
            "the task's locals, the timer and the reader are dropped with the loop"
        );
        assert_eq!(
            *reports.borrow(),
            [(
                "Task was destroyed but it is pending!".to_string(),
                Some(
                    "<Task pending name='stuck' wait_for=<Future pending cb=[Task.task_wakeup()]>>"
                        .to_string()
                )
            )]
        );
    }
    assert_eq!(
        open_fds(),
        before,
        "the epoll fds and the sockets are closed"
    );
    let logged = take_log();
    assert_eq!(logged.len(), 100, "{logged:?}");
    assert!(logged.iter().all(|(level, text)| *level == log::Level::Warn
        && text == "unclosed event loop <EventLoop running=False closed=False debug=False>"));
}

#[test]
fn a_closed_loop_is_not_reported_when_dropped() {
    let _serial = serial();
    capture_log();
    let dropped = Rc::new(Cell::new(0));
    let (lp, reports) = loop_with_pending_work(&dropped);
    lp.close().unwrap();
    assert_eq!(dropped.get(), 3);
    assert_eq!(reports.borrow().len(), 1);
    drop(lp);
    assert_eq!(take_log(), []);
}

#[test]
fn a_callback_holding_a_handle_does_not_keep_the_loop() {
    let _serial = serial();
    capture_log();
    let before = open_fds();
    let dropped = Rc::new(Cell::new(0));
    let lp = EventLoop::new().unwrap();
    let (l, g) = (lp.clone(), Guard(dropped.clone()));
    lp.call_soon(move || {
        let _ = (&l, &g);
    })
    .unwrap();
    let kept = lp.clone();
    drop(lp);
    assert_eq!(dropped.get(), 1, "the pending callback is dropped");
    assert_eq!(open_fds(), before);
    assert!(kept.is_closed());
    let err = kept.call_soon(|| ()).unwrap_err();
    assert_eq!(err.to_string(), "Event loop is closed");
    assert_eq!(take_log().len(), 1);
}

#[test]
fn get_running_loop_in_callbacks_keeps_working() {
    let _serial = serial();
    capture_log();
    let lp = EventLoop::new().unwrap();
    let count = Rc::new(Cell::new(0));
    let c = count.clone();
    lp.call_soon(move || {
        for _ in 0..1000 {
            let running = get_running_loop().unwrap();
            drop(running.clone());
        }
        let c = c.clone();
        get_running_loop()
            .unwrap()
            .call_soon(move || {
                c.set(c.get() + 1);
                get_running_loop().unwrap().stop();
            })
            .unwrap();
    })
    .unwrap();
    lp.run_forever().unwrap();
    assert_eq!(count.get(), 1);
    assert!(
        !lp.is_closed(),
        "handles from get_running_loop close nothing"
    );
    run_briefly(&lp);
    lp.close().unwrap();
    assert_eq!(take_log(), []);
}

#[test]
fn an_owner_dropped_while_running_closes_when_run_forever_returns() {
    let _serial = serial();
    capture_log();
    let before = open_fds();
    let lp = EventLoop::new().unwrap();
    let reports = record_reports(&lp);
    let handle = lp.clone();
    let never = lp.create_future::<()>();
    let stuck = lp.create_task(move |co| co.wait(&never)).unwrap();
    stuck.set_name("stuck");
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    handle
        .call_soon(move || {
            drop(lp);
            let running = get_running_loop().unwrap();
            l.borrow_mut().push(running.is_closed());
            let l = l.clone();
            running
                .call_soon(move || {
                    l.borrow_mut().push(get_running_loop().unwrap().is_closed());
                    get_running_loop().unwrap().stop();
                })
                .unwrap();
        })
        .unwrap();
    handle.run_forever().unwrap();
    assert_eq!(*log.borrow(), [false, false], "a running loop stays open");
    assert!(handle.is_closed());
    assert_eq!(
        *reports.borrow(),
        [(
            "Task was destroyed but it is pending!".to_string(),
            Some(
                "<Task pending name='stuck' wait_for=<Future pending cb=[Task.task_wakeup()]>>"
                    .to_string()
            )
        )]
    );
    assert_eq!(
        take_log(),
        [(
            log::Level::Warn,
            "unclosed event loop <EventLoop running=True closed=False debug=False>".to_string()
        )]
    );
    drop((handle, stuck));
    assert_eq!(open_fds(), before);
}

#[test]
fn a_loop_handle_outliving_its_loop_gets_closed_errors() {
    let _serial = serial();
    capture_log();
    let before = open_fds();
    let lp = EventLoop::new().unwrap();
    let handle = lp.threadsafe_handle().unwrap();
    let dropped = Arc::new(AtomicUsize::new(0));
    struct SendGuard(Arc<AtomicUsize>);
    impl Drop for SendGuard {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (queued_tx, queued_rx) = mpsc::channel::<()>();
    let d = dropped.clone();
    let other = std::thread::spawn(move || {
        // Queued before the loop goes: dropped with it, never run.
        let g = SendGuard(d);
        handle
            .call_soon_threadsafe(move || {
                let _ = &g;
                panic!("ran on a dropped loop");
            })
            .unwrap();
        queued_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        let err = handle.call_soon_threadsafe(|| ()).unwrap_err();
        let err2 = handle.stop().unwrap_err();
        (err.to_string(), err2.to_string(), handle)
    });
    queued_rx.recv().unwrap();
    drop(lp);
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1,
        "the queued call is dropped"
    );
    // The other thread still holds its handle: the eventfd is closed all the same.
    assert_eq!(open_fds(), before);
    go_tx.send(()).unwrap();
    let (err, err2, handle) = other.join().unwrap();
    assert_eq!(err, "Event loop is closed");
    assert_eq!(err2, "Event loop is closed");
    drop(handle);
    assert_eq!(open_fds(), before);
    assert_eq!(take_log().len(), 1);
}
