//! The native stackless waits of the sync primitives (feature `nightly`):
//! `lock.acquire_stackless()`, `queue.get_stackless()`, ... delegated to with `yield_from!`.
//! The recorded Python cases run on them in sync_cases_stackless.rs; here is what a trace
//! does not show: no stack is held while waiting, cancellation while waiting, loop close,
//! the task tree's wait site, a wait reused or dropped, the LIFO and priority queues.
#![feature(coroutines, coroutine_trait)]
mod common;

include!("backend/stackless.rs");

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use anyhow::Result;
use common::{n_queued, n_waiters};
use tulip::errors::py_str;
use tulip::generator::stack_pool_stats;
use tulip::{
    Barrier, Condition, ErrorExt, Event, EventLoop, LifoQueue, Lock, PriorityQueue, Queue,
    RuntimeError, Semaphore, await_, get_running_loop, yield_from, yield_now,
};

fn lp() -> EventLoop {
    get_running_loop().unwrap()
}

// ---------------------------------------------------------------------------------------------

/// Stacks this thread took so far (from the arenas or its cache): unchanged means no
/// coroutine took one.
fn stacks_taken() -> (u64, u64) {
    let s = stack_pool_stats();
    (s.mapped, s.reused)
}

#[test]
fn ten_thousand_stackless_waiters_on_one_queue_and_one_event_hold_no_stack() {
    const W: usize = 10_000;
    let before = stacks_taken();
    let lp = EventLoop::new().unwrap();
    let q = Queue::<usize>::new(0);
    let ev = Event::new();
    let got: Rc<RefCell<Vec<(usize, usize)>>> = Rc::default();
    let woken = Rc::new(Cell::new(0));
    for n in 0..W {
        let (q, got) = (q.clone(), got.clone());
        lp.create_task_stackless(
            #[coroutine]
            static move |_| {
                let item = yield_from!(q.get_stackless())?; // item = await q.get()
                got.borrow_mut().push((n, item));
                Ok(())
            },
        )
        .unwrap();
        let (ev, woken) = (ev.clone(), woken.clone());
        lp.create_task_stackless(
            #[coroutine]
            static move |_| {
                yield_from!(ev.wait_stackless())?; // await ev.wait()
                woken.set(woken.get() + 1);
                Ok(())
            },
        )
        .unwrap();
    }
    common::run_briefly(&lp); // every task runs to its wait and suspends
    assert_eq!(n_queued(&q, "_getters"), W);
    assert_eq!(n_waiters(&ev), W);
    assert_eq!(stacks_taken(), before, "a waiting task took a stack");

    for i in 0..W {
        q.put_nowait(i).unwrap();
    }
    ev.set();
    common::run_briefly(&lp);
    common::run_briefly(&lp);
    // Getters are served FIFO: the n-th getter gets the n-th item.
    let got = got.take();
    assert_eq!(got.len(), W);
    assert!(got.iter().all(|&(n, item)| n == item));
    assert_eq!(woken.get(), W);
    assert_eq!((n_queued(&q, "_getters"), n_waiters(&ev)), (0, 0));
    assert_eq!(stacks_taken(), before, "a woken task took a stack");
    lp.close().unwrap();
}

/// Each primitive's repr, on demand.
type Reprs = Box<dyn Fn() -> Vec<String>>;

/// A stackless waiter on every primitive (and both sides of a queue); `lock` is held by a
/// task sleeping for an hour. Returns the tasks and a repr per primitive (waiters shown).
fn park_everything_stackless(lp: &EventLoop, sentinel: &Rc<()>) -> (Vec<tulip::Task<()>>, Reprs) {
    let lock = Lock::new();
    let event = Event::new();
    let cond = Condition::new();
    let sem = Semaphore::new(0).unwrap();
    let barrier = Barrier::new(3).unwrap();
    let empty = Queue::<Rc<()>>::new(0);
    let full = Queue::<Rc<()>>::new(1);
    full.put_nowait(sentinel.clone()).unwrap();
    let mut tasks = Vec::new();
    let mut spawn = |task: Result<tulip::Task<()>>| tasks.push(task.unwrap());

    let (l, keep) = (lock.clone(), sentinel.clone());
    spawn(lp.create_task_stackless(
        #[coroutine]
        static move |_| {
            let _keep = keep;
            yield_from!(l.acquire_stackless())?;
            yield_from!(tulip::stackless::sleep(Duration::from_secs(3600)))
        },
    ));
    for _ in 0..2 {
        let (l, keep) = (lock.clone(), sentinel.clone());
        spawn(lp.create_task_stackless(
            #[coroutine]
            static move |_| {
                let _keep = keep;
                yield_from!(l.acquire_stackless())?;
                l.release()
            },
        ));
    }
    let (e, keep) = (event.clone(), sentinel.clone());
    spawn(lp.create_task_stackless(
        #[coroutine]
        static move |_| {
            let _keep = keep;
            yield_from!(e.wait_stackless()).map(drop)
        },
    ));
    for _ in 0..2 {
        let (c, keep) = (cond.clone(), sentinel.clone());
        spawn(lp.create_task_stackless(
            #[coroutine]
            static move |_| {
                let _keep = keep;
                yield_from!(c.acquire_stackless())?;
                let waited = yield_from!(c.wait_for_stackless(|| false));
                if c.locked() {
                    c.release()?;
                }
                waited.map(drop)
            },
        ));
    }
    let (s, keep) = (sem.clone(), sentinel.clone());
    spawn(lp.create_task_stackless(
        #[coroutine]
        static move |_| {
            let _keep = keep;
            yield_from!(s.acquire_stackless()).map(drop)
        },
    ));
    let (b, keep) = (barrier.clone(), sentinel.clone());
    spawn(lp.create_task_stackless(
        #[coroutine]
        static move |_| {
            let _keep = keep;
            yield_from!(b.wait_stackless()).map(drop)
        },
    ));
    let (q, keep) = (empty.clone(), sentinel.clone());
    spawn(lp.create_task_stackless(
        #[coroutine]
        static move |_| {
            let _keep = keep;
            yield_from!(q.get_stackless()).map(drop)
        },
    ));
    let (q, item) = (full.clone(), sentinel.clone());
    spawn(lp.create_task_stackless(
        #[coroutine]
        static move |_| yield_from!(q.put_stackless(item)),
    ));
    let (q, keep) = (full.clone(), sentinel.clone());
    spawn(lp.create_task_stackless(
        #[coroutine]
        static move |_| {
            let _keep = keep;
            yield_from!(q.join_stackless())
        },
    ));
    let reprs = move || {
        vec![
            format!("{lock:?}"),
            format!("{event:?}"),
            format!("{cond:?}"),
            format!("{sem:?}"),
            format!("{barrier:?}"),
            format!("{empty:?}"),
            format!("{full:?}"),
        ]
    };
    (tasks, Box::new(reprs))
}

#[test]
fn cancelled_stackless_waiters_leave_their_primitives_as_the_stackful_ones_do() {
    let sentinel = Rc::new(());
    let before = stacks_taken();
    let lp = EventLoop::new().unwrap();
    let (tasks, reprs) = park_everything_stackless(&lp, &sentinel);
    common::run_briefly(&lp);
    let waiting = reprs();
    assert!(waiting[0].ends_with("[locked, waiters:2]>"), "{waiting:?}");
    assert!(waiting[1].ends_with("[unset, waiters:1]>"), "{waiting:?}");
    assert!(
        waiting[2].ends_with("[unlocked, waiters:2]>"),
        "{waiting:?}"
    );
    assert!(waiting[3].ends_with("[locked, waiters:1]>"), "{waiting:?}");
    assert!(
        waiting[4].ends_with("[filling, waiters:1/3]>"),
        "{waiting:?}"
    );
    assert!(waiting[5].ends_with(" _getters[1]>"), "{waiting:?}");
    assert!(waiting[6].ends_with(" _putters[1] tasks=1>"), "{waiting:?}");
    assert_eq!(stacks_taken(), before, "a waiting task took a stack");

    for t in &tasks {
        t.cancel(None);
    }
    common::run_briefly(&lp);
    common::run_briefly(&lp);
    assert!(tasks.iter().all(|t| t.cancelled()));
    // The waits took their waiters out (the conditions' re-acquired their lock on the way);
    // the lock's holder was cancelled in its sleep, without a `finally` to release it.
    let after = reprs();
    assert!(after[0].ends_with("[locked]>"), "{after:?}");
    assert!(after[1].ends_with("[unset]>"), "{after:?}");
    assert!(after[2].ends_with("[unlocked]>"), "{after:?}");
    assert!(after[3].ends_with("[locked]>"), "{after:?}");
    assert!(after[4].ends_with("[filling, waiters:0/3]>"), "{after:?}");
    assert!(after[5].ends_with("maxsize=0>"), "{after:?}");
    assert!(
        after[6].ends_with("maxsize=1 _queue=[()] tasks=1>"),
        "{after:?}"
    );
    drop(reprs);
    drop(tasks);
    lp.close().unwrap();
    assert_eq!(Rc::strong_count(&sentinel), 1, "something is still alive");
}

#[test]
fn closing_the_loop_unwinds_stackless_waiters_and_leaves_nothing_alive() {
    let sentinel = Rc::new(());
    let lp = EventLoop::new().unwrap();
    let (tasks, reprs) = park_everything_stackless(&lp, &sentinel);
    drop((tasks, reprs));
    common::run_briefly(&lp);
    assert_eq!(tulip::all_tasks(Some(&lp)).unwrap().len(), 11);
    lp.set_exception_handler(Some(|_: &EventLoop, _: &tulip::ExceptionContext| {}));
    lp.close().unwrap();
    assert_eq!(tulip::all_tasks(Some(&lp)).unwrap().len(), 0);
    assert_eq!(
        Rc::strong_count(&sentinel),
        1,
        "a task, a waiter or a queued item is still alive"
    );
}

#[test]
fn a_stackless_waiter_shows_its_wait_site_in_the_task_tree() {
    const FILE: &str = "tests/sync_stackless.rs";
    let lp = EventLoop::new().unwrap();
    let lock = Lock::new();
    let q = Queue::<i32>::new(0);
    let lines = Rc::new(Cell::new((0, 0)));
    let (l, qq, ls) = (lock.clone(), q.clone(), lines.clone());
    let main = lp
        .create_task_stackless(
            #[coroutine]
            static move |_| {
                yield_from!(l.acquire_stackless())?;
                let (l2, ls2) = (l.clone(), ls.clone());
                let locker = get_running_loop()?.create_task_stackless(
                    #[coroutine]
                    static move |_| {
                        ls2.set((line!() + 1, 0));
                        yield_from!(l2.acquire_stackless())?;
                        l2.release()
                    },
                )?;
                locker.set_name("locker");
                yield_now!()?;
                let tree = get_running_loop()?.format_task_tree();
                ls.set((ls.get().0, line!() + 1));
                let _ = yield_from!(qq.get_stackless())?;
                l.release()?;
                await_!(locker)?;
                Ok(tree)
            },
        )
        .unwrap();
    main.set_name("main");
    let (q2, lp2, graph) = (q.clone(), lp.clone(), Rc::new(RefCell::new(String::new())));
    let g = graph.clone();
    // Once every task waits: the tree, then the item main waits for.
    lp.call_later(Duration::from_millis(1), move || {
        *g.borrow_mut() = lp2.format_task_tree();
        q2.put_nowait(1).unwrap();
    })
    .unwrap();
    let tree = lp.run_until_complete(&main).unwrap();
    lp.close().unwrap();
    let (lock_at, get_at) = lines.get();
    assert!(
        tree.contains(&format!("└──  Lock.acquire() at {FILE}:{lock_at}:")),
        "{tree}"
    );
    let graph = graph.borrow();
    assert!(
        graph.contains(&format!("└──  Queue.get() at {FILE}:{get_at}:")),
        "{graph}"
    );
    assert!(
        graph.contains(&format!("└──  Lock.acquire() at {FILE}:{lock_at}:")),
        "{graph}"
    );
}

#[test]
fn a_stackless_wait_is_awaited_once() {
    let e = run!(|co| -> Result<()> {
        let lock = Lock::new();
        let acquire = lock.acquire_stackless();
        yield_from!(&acquire)?;
        lock.release()?;
        yield_from!(&acquire).map(drop)
    })
    .map(drop)
    .unwrap_err();
    assert!(e.isinstance::<RuntimeError>());
    assert_eq!(py_str(&e), "cannot reuse already awaited coroutine");
}

#[test]
fn priority_and_lifo_queues_have_the_stackless_forms_too() {
    let got = run!(|co| -> Result<Vec<i32>> {
        let pq = PriorityQueue::new(0);
        let lq = LifoQueue::new(0);
        let (p, l) = (pq.clone(), lq.clone());
        let getter = spawn!(lp(), move |co| -> Result<Vec<i32>> {
            let a = yield_from!(p.get_stackless())?;
            let b = yield_from!(l.get_stackless())?;
            Ok(vec![a, b])
        })?;
        yield_now!()?;
        for i in [3, 1, 2] {
            yield_from!(pq.put_stackless(i))?;
            yield_from!(lq.put_stackless(i))?;
        }
        let mut got = await_!(getter)?;
        got.push(yield_from!(pq.get_stackless())?);
        got.push(yield_from!(lq.get_stackless())?);
        Ok(got)
    })
    .unwrap();
    // A put on a queue with room does not suspend: the woken getter finds all three, and
    // takes the heap's least and the stack's top, as do the gets after it.
    assert_eq!(got, [1, 2, 2, 1]);
}

#[test]
fn a_stackless_wait_dropped_while_suspended_leaves_no_waiter() {
    use tulip::GeneratorState;
    use tulip::stackless::Delegate;
    let left = run!(|co| -> Result<(usize, usize, usize)> {
        let lock = Lock::new();
        yield_from!(lock.acquire_stackless())?;
        let q = Queue::<i32>::new(0);
        let (acquire, get) = (lock.acquire_stackless(), q.get_stackless());
        // Started by hand and never resumed: each queued its waiter.
        assert!(matches!(acquire.prime()?, GeneratorState::Yielded(_)));
        assert!(matches!(get.prime()?, GeneratorState::Yielded(_)));
        let queued = n_waiters(&lock) + n_queued(&q, "_getters");
        drop((acquire, get));
        yield_now!()?;
        Ok((queued, n_waiters(&lock), n_queued(&q, "_getters")))
    })
    .unwrap();
    assert_eq!(left, (2, 0, 0));
}
