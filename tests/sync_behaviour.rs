//! Locks and queues beyond the ported cases: scale, panics in a scoped body, loop binding,
//! and nothing left alive when a loop closes with waiters pending.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use anyhow::Result;
use tulip::errors::py_str;
use tulip::{
    Barrier, Condition, ErrorExt, Event, EventLoop, Lock, Panic, PriorityQueue, Queue,
    RuntimeError, Semaphore, TaskCo, gather, get_running_loop, sleep,
};

#[test]
fn a_thousand_tasks_increment_under_one_lock() {
    let n = 1000;
    let result = tulip::run(move |co| {
        let lp = get_running_loop()?;
        let lock = Lock::new();
        let counter = Rc::new(Cell::new(0usize));
        let inside = Rc::new(Cell::new(false));
        let order: Rc<RefCell<Vec<usize>>> = Rc::default();
        let tasks = (0..n)
            .map(|i| {
                let (lock, counter, inside, order) =
                    (lock.clone(), counter.clone(), inside.clone(), order.clone());
                lp.create_task(move |co| {
                    lock.with(co, |co| {
                        assert!(!inside.replace(true), "two tasks inside the lock");
                        order.borrow_mut().push(i);
                        // Read, give the loop away, write: a lost update without the lock.
                        let seen = counter.get();
                        sleep(co, Duration::ZERO)?;
                        counter.set(seen + 1);
                        inside.set(false);
                        Ok(())
                    })
                })
            })
            .collect::<Result<Vec<_>>>()?;
        co.wait(&gather(&tasks)?)?;
        assert!(!lock.locked());
        let fifo = order.borrow().iter().copied().eq(0..n);
        Ok((counter.get(), fifo))
    })
    .unwrap();
    assert_eq!(result, (n, true), "count and FIFO acquisition order");
}

#[test]
fn producer_consumer_ten_thousand_items() {
    let n: u64 = 10_000;
    let (sum, count, unfinished) = tulip::run(move |co| {
        let lp = get_running_loop()?;
        let q = Queue::<u64>::new(16);
        let sum = Rc::new(Cell::new(0u64));
        let count = Rc::new(Cell::new(0u64));
        let producers = (0..2)
            .map(|p| {
                let q = q.clone();
                lp.create_task(move |co| {
                    for i in (p..n).step_by(2) {
                        q.put(co, i)?;
                    }
                    Ok(())
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let consumers = (0..3)
            .map(|_| {
                let (q, sum, count) = (q.clone(), sum.clone(), count.clone());
                lp.create_task(move |co| -> Result<()> {
                    loop {
                        let item = q.get(co)?;
                        sum.set(sum.get() + item);
                        count.set(count.get() + 1);
                        q.task_done()?;
                        if q.full() {
                            // Let putters refill in a different interleaving now and then.
                            sleep(co, Duration::ZERO)?;
                        }
                    }
                })
            })
            .collect::<Result<Vec<_>>>()?;
        co.wait(&gather(&producers)?)?;
        q.join(co)?;
        for c in &consumers {
            c.cancel(None);
        }
        Ok((sum.get(), count.get(), q.unfinished_tasks()))
    })
    .unwrap();
    assert_eq!(count, n);
    assert_eq!(sum, n * (n - 1) / 2);
    assert_eq!(unfinished, 0);
}

#[test]
fn priority_queue_pops_in_order() {
    // A fixed pseudo-random sequence with many duplicates.
    let mut x: u32 = 12345;
    let items: Vec<u32> = (0..2000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) % 100
        })
        .collect();
    let q = PriorityQueue::new(0);
    for &i in &items {
        q.put_nowait(i).unwrap();
    }
    let mut sorted = items.clone();
    sorted.sort();
    let popped: Vec<u32> = (0..items.len()).map(|_| q.get_nowait().unwrap()).collect();
    assert_eq!(popped, sorted);
    assert!(q.empty());
}

#[test]
fn a_panic_inside_with_releases_the_lock() {
    let lp = EventLoop::new().unwrap();
    let lock = Lock::new();
    let sem = Semaphore::new(1).unwrap();
    let (l, s) = (lock.clone(), sem.clone());
    let panicking = lp
        .create_task(move |co| -> Result<()> {
            s.with(co, |co| {
                l.with(co, |co| {
                    sleep(co, Duration::ZERO)?;
                    panic!("boom inside the lock");
                })
            })
        })
        .unwrap();
    let (l, s) = (lock.clone(), sem.clone());
    let next = lp
        .create_task(move |co| {
            l.acquire(co)?;
            s.acquire(co)?;
            Ok(true)
        })
        .unwrap();
    assert!(lp.run_until_complete(&next).unwrap());
    let err = panicking.exception().unwrap().expect("the task failed");
    assert!(err.isinstance::<Panic>(), "{err:?}");
    assert!(lock.locked() && sem.locked(), "taken over by the next task");
    lp.close().unwrap();
}

#[test]
fn a_queue_is_bound_to_the_loop_that_first_blocked_on_it() {
    let q = Queue::<i32>::new(0);
    let q1 = q.clone();
    // Not bound yet: non-blocking use anywhere.
    q.put_nowait(1).unwrap();
    tulip::run(move |co| {
        assert_eq!(q1.get(co)?, 1);
        let q2 = q1.clone();
        let t = get_running_loop()?.create_task(move |co| q2.get(co))?;
        sleep(co, Duration::ZERO)?;
        q1.put_nowait(2)?;
        assert_eq!(co.wait(&t)?, 2);
        Ok(())
    })
    .unwrap();
    let q2 = q.clone();
    let err = tulip::run(move |co| q2.get(co)).unwrap_err();
    assert!(err.isinstance::<RuntimeError>());
    let msg = py_str(&err);
    assert!(
        msg.starts_with("<Queue at 0x") && msg.ends_with("> is bound to a different event loop"),
        "{msg}"
    );
}

/// Every kind of waiter, pending when the loop closes.
fn park_everything(lp: &EventLoop, sentinel: &Rc<()>) {
    let lock = Lock::new();
    let event = Event::new();
    let cond = Condition::new();
    let sem = Semaphore::new(0).unwrap();
    let barrier = Barrier::new(3).unwrap();
    let empty = Queue::<Rc<()>>::new(0);
    let full = Queue::<Rc<()>>::new(1);
    full.put_nowait(sentinel.clone()).unwrap();

    type Body = Box<dyn FnOnce(&TaskCo) -> Result<()>>;
    let mut bodies: Vec<Body> = Vec::new();
    let l = lock.clone();
    bodies.push(Box::new(move |co| {
        l.acquire(co)?;
        sleep(co, Duration::from_secs(3600)) // holds the lock while the loop closes
    }));
    for _ in 0..3 {
        let l = lock.clone();
        bodies.push(Box::new(move |co| l.with(co, |_| Ok(()))));
    }
    let e = event.clone();
    bodies.push(Box::new(move |co| e.wait(co).map(drop)));
    for _ in 0..2 {
        let c = cond.clone();
        bodies.push(Box::new(move |co| c.with(co, |co| c.wait(co).map(drop))));
    }
    let s = sem.clone();
    bodies.push(Box::new(move |co| s.acquire(co).map(drop)));
    let b = barrier.clone();
    bodies.push(Box::new(move |co| b.wait(co).map(drop)));
    let q = empty.clone();
    bodies.push(Box::new(move |co| q.get(co).map(drop)));
    let q = full.clone();
    let item = sentinel.clone();
    bodies.push(Box::new(move |co| q.put(co, item)));
    let q = full.clone();
    bodies.push(Box::new(move |co| q.join(co)));
    for body in bodies {
        let keep = sentinel.clone();
        lp.create_task(move |co| {
            let _keep = keep;
            body(co)
        })
        .unwrap();
    }
    // The primitives themselves are held only by the tasks from here on; the full queue
    // also holds a sentinel clone, so a leaked queue shows in the count too.
}

#[test]
fn nothing_is_left_alive_after_close_with_waiters_pending() {
    let sentinel = Rc::new(());
    let lp = EventLoop::new().unwrap();
    park_everything(&lp, &sentinel);
    let l = lp.clone();
    lp.call_later(Duration::from_millis(5), move || l.stop())
        .unwrap();
    lp.run_forever().unwrap();
    assert_eq!(tulip::all_tasks(Some(&lp)).unwrap().len(), 12);
    lp.set_exception_handler(Some(|_: &EventLoop, _: &tulip::ExceptionContext| {}));
    lp.close().unwrap();
    assert_eq!(tulip::all_tasks(Some(&lp)).unwrap().len(), 0);
    assert_eq!(
        Rc::strong_count(&sentinel),
        1,
        "a task, a waiter or a queued item is still alive"
    );
    let stacks = tulip::generator::stack_pool_stats();
    assert_eq!(stacks.idle as u64, stacks.mapped, "a stack is still in use");
}

#[test]
fn queue_and_barrier_errors_are_types_of_their_own() {
    use tulip::{BrokenBarrierError, ErrorExt, Queue, QueueEmpty, QueueFull};
    let lp = tulip::EventLoop::new().unwrap();
    let q: Queue<i32> = Queue::new(1);
    let e = q.get_nowait().unwrap_err();
    assert!(e.isinstance::<QueueEmpty>() && !e.isinstance::<QueueFull>());
    assert_eq!(tulip::py_repr(&e), "QueueEmpty()");
    q.put_nowait(1).unwrap();
    let e = q.put_nowait(2).unwrap_err();
    assert!(e.isinstance::<QueueFull>());
    assert_eq!(tulip::py_repr(&e), "QueueFull()");
    assert_eq!(q.try_put(3), Err(3), "a full queue hands the item back");
    assert_eq!(q.get_nowait().unwrap(), 1);
    assert_eq!(q.try_put(4), Ok(()));
    assert_eq!(q.get_nowait().unwrap(), 4);
    let e = BrokenBarrierError::with_message("Barrier aborted");
    assert!(e.isinstance::<BrokenBarrierError>());
    assert_eq!(tulip::py_repr(&e), "BrokenBarrierError('Barrier aborted')");
    lp.close().unwrap();
}

#[test]
fn a_broken_barrier_is_a_runtime_error_as_in_python() {
    use tulip::{BrokenBarrierError, ErrorExt, RuntimeError, SharedError, ValueError};
    // `issubclass(asyncio.BrokenBarrierError, RuntimeError)` is True; the reverse is not.
    let e = BrokenBarrierError::with_message("Barrier aborted");
    assert!(e.isinstance::<RuntimeError>());
    assert!(!e.isinstance::<ValueError>());
    assert!(
        e.exc::<RuntimeError>().is_none(),
        "no RuntimeError value to hand out"
    );
    let shared = SharedError::new(e).to_error();
    assert!(shared.isinstance::<RuntimeError>() && shared.isinstance::<BrokenBarrierError>());
    let plain: anyhow::Error = RuntimeError::new("x").into();
    assert!(!plain.isinstance::<BrokenBarrierError>());
}
