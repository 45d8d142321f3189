//! Unit tests of the event loop layer's internal invariants.

use std::os::fd::AsRawFd;

use super::*;

#[derive(Default)]
struct Registry(Cell<u32>);

#[test]
fn extensions_are_per_loop_and_made_once() {
    let a = EventLoop::new().unwrap();
    let b = EventLoop::new().unwrap();
    a.extension::<Registry>().0.set(7);
    assert_eq!(a.extension::<Registry>().0.get(), 7);
    assert_eq!(b.extension::<Registry>().0.get(), 0);
}

#[test]
fn close_hooks_run_first_and_may_schedule() {
    let lp = EventLoop::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let l = log.clone();
    lp.add_close_hook(move |lp| {
        l.borrow_mut().push(lp.is_closed());
        let l2 = l.clone();
        lp.add_close_hook(move |_| l2.borrow_mut().push(true));
    });
    lp.close().unwrap();
    assert_eq!(*log.borrow(), [false, true]);
}

#[test]
fn schedule_runs_fifo_with_call_soon() {
    let lp = EventLoop::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let (l1, l2) = (log.clone(), log.clone());
    lp.call_soon(move || l1.borrow_mut().push(1)).unwrap();
    lp.schedule(move || l2.borrow_mut().push(2)).unwrap();
    lp.stop();
    lp.run_forever().unwrap();
    assert_eq!(*log.borrow(), [1, 2]);
}

#[test]
fn a_timer_or_reader_added_in_a_fast_iteration_is_not_missed() {
    let lp = EventLoop::new().unwrap();
    let log = Rc::new(RefCell::new(Vec::new()));
    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
    let (l, lp2) = (log.clone(), lp.clone());
    // Only callbacks so far: this iteration takes the fast path.
    lp.call_soon(move || {
        let (l1, l2, l3) = (l.clone(), l.clone(), l.clone());
        lp2.call_later(Duration::ZERO, move || l1.borrow_mut().push("timer"))
            .unwrap();
        lp2.call_soon(move || l2.borrow_mut().push("soon")).unwrap();
        let (lp3, fd) = (lp2.clone(), b.as_raw_fd());
        lp2.add_reader(fd, move || {
            let _open = &b; // the reader owns the socket
            l3.borrow_mut().push("reader");
            lp3.remove_reader(fd);
            lp3.stop();
        })
        .unwrap();
        std::io::Write::write_all(&mut &a, b"x").unwrap();
    })
    .unwrap();
    lp.run_forever().unwrap();
    // As asyncio: the queued callback, then I/O, then timers.
    assert_eq!(*log.borrow(), ["soon", "reader", "timer"]);
}
