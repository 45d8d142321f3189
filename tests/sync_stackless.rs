//! The native stackless waits of the sync primitives (feature `nightly`):
//! `lock.acquire_stackless()`, `queue.get_stackless()`, ... delegated to with `yield_from!`.
//! The recorded Python cases of tests/cases/sync/ again, with no stackful coroutine in the
//! waits (sync_cases_stackless.rs reaches them through `stackful`), so the native forms print
//! exactly what CPython printed; then what a trace does not show: no stack is held while
//! waiting, cancellation while waiting, the task tree's wait site.
#![feature(coroutines, coroutine_trait)]
mod common;

include!("backend/stackless.rs");

use common::{ms, py_bool};

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use anyhow::Result;
use tulip::errors::{py_repr, py_str};
use tulip::generator::stack_pool_stats;
use tulip::{
    Barrier, BoundedSemaphore, BrokenBarrierError, CancelledError, Condition, ErrorExt, Event,
    EventLoop, LifoQueue, Lock, PriorityQueue, Queue, RuntimeError, Semaphore, TimeoutError,
    ValueError, await_, gather, get_running_loop, sleep, task_group, wait_for_fn, yield_from,
    yield_now,
};

const ZERO: Duration = Duration::ZERO;

fn py_strs<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<String> = items
        .iter()
        .map(|s| tulip::errors::py_str_repr(s.as_ref()))
        .collect();
    format!("[{}]", items.join(", "))
}

fn py_bools(bs: &[bool]) -> String {
    let items: Vec<&str> = bs.iter().map(|b| py_bool(*b)).collect();
    format!("[{}]", items.join(", "))
}

/// `repr(x).split(' [')[1]`.
fn extra(x: &impl std::fmt::Debug) -> String {
    format!("{x:?}").split(" [").nth(1).unwrap().to_string()
}

/// `len(x._waiters)`, read from the repr's `waiters:N` (absent when there are none).
fn n_waiters(x: &impl std::fmt::Debug) -> usize {
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
fn n_queued(q: &impl std::fmt::Debug, which: &str) -> usize {
    let repr = format!("{q:?}");
    match repr.split(&format!("{which}[")).nth(1) {
        Some(rest) => rest.split(']').next().unwrap().parse().unwrap(),
        None => 0,
    }
}

fn lp() -> EventLoop {
    get_running_loop().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Lock: tests/cases/sync/lock_cancel.py

fn lock_cancel_race() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let lock = Lock::new();
        let order: Rc<RefCell<Vec<String>>> = Rc::default();
        let lockit = |name: &'static str, blocker: Option<tulip::Future<()>>| {
            let (lock, order) = (lock.clone(), order.clone());
            body!(move |co| -> Result<()> {
                yield_from!(lock.acquire_stackless())?;
                order.borrow_mut().push(name.to_string());
                let waited = match blocker {
                    Some(b) => wait!(co, b),
                    None => Ok(()),
                };
                lock.release()?;
                waited
            })
        };
        let fa = lp().create_future::<()>();
        let ta = spawn!(lp(), lockit("A", Some(fa.clone())))?;
        sleep!(co, ZERO)?;
        tprint!("A holds: {}", py_bool(lock.locked()));
        let tb = spawn!(lp(), lockit("B", None))?;
        sleep!(co, ZERO)?;
        let tc = spawn!(lp(), lockit("C", None))?;
        sleep!(co, ZERO)?;
        tprint!("waiters: {}", extra(&lock));
        fa.set_result(())?;
        tb.cancel(None);
        sleep!(co, ZERO)?;
        tprint!(
            "after race: locked {} A done {} B cancelled {}",
            py_bool(lock.locked()),
            py_bool(ta.done()),
            py_bool(tb.cancelled())
        );
        wait!(co, tc)?;
        tprint!("order: {}", py_strs(&order.borrow()));
        Ok(())
    })
}

fn lock_cancel_release_race() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let lock = Lock::new();
        let lock_count = Rc::new(Cell::new(0));
        let call_count = Rc::new(Cell::new(0));
        let lockit = || {
            let (lock, lock_count, call_count) =
                (lock.clone(), lock_count.clone(), call_count.clone());
            body!(move |co| -> Result<()> {
                call_count.set(call_count.get() + 1);
                yield_from!(lock.acquire_stackless())?;
                lock_count.set(lock_count.get() + 1);
                Ok(())
            })
        };
        yield_from!(lock.acquire_stackless())?;
        let t1 = spawn!(lp(), lockit())?;
        let t2 = spawn!(lp(), lockit())?;
        let t3 = spawn!(lp(), lockit())?;
        sleep!(co, ZERO)?;
        let (t1c, l) = (t1.clone(), lock.clone());
        lp().call_soon(move || {
            t1c.cancel(None);
            l.release().unwrap();
        })?;
        if let Err(e) = wait!(co, t1)
            && e.isinstance::<CancelledError>()
        {
            tprint!("t1 cancelled");
        }
        tprint!(
            "lock_count {} call_count {}",
            lock_count.get(),
            call_count.get()
        );
        tprint!(
            "t1 cancelled {} t2 done {} t3 done {}",
            py_bool(t1.cancelled()),
            py_bool(t2.done()),
            py_bool(t3.done())
        );
        t3.cancel(None);
        sleep!(co, ZERO)?;
        tprint!("t3 cancelled {}", py_bool(t3.cancelled()));
        Ok(())
    })
}

fn lock_finished_waiter_cancelled() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let lock = Lock::new();
        yield_from!(lock.acquire_stackless())?;
        let l = lock.clone();
        let tb = spawn!(lp(), move |co| yield_from!(l.acquire_stackless()))?;
        sleep!(co, ZERO)?;
        let l = lock.clone();
        let tc = spawn!(lp(), move |co| yield_from!(l.acquire_stackless()))?;
        tb.cancel(None);
        lock.release()?;
        sleep!(co, ZERO)?;
        tprint!(
            "woken wake-up passed on: locked {} tb cancelled {}",
            py_bool(lock.locked()),
            py_bool(tb.cancelled())
        );
        tprint!("tc got it: {}", py_bool(wait!(co, tc)?));
        Ok(())
    })
}

fn lock_context_manager() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let lock = Lock::new();
        // async with lock: the acquire, the body, and the release on every way out.
        yield_from!(lock.acquire_stackless())?;
        tprint!("inside: locked {}", py_bool(lock.locked()));
        lock.release()?;
        tprint!("after: locked {}", py_bool(lock.locked()));
        yield_from!(lock.acquire_stackless())?;
        let body: Result<()> = Err(ValueError::new("boom").into());
        lock.release()?;
        if let Err(e) = body {
            tprint!("error {} locked {}", py_repr(&e), py_bool(lock.locked()));
        }
        yield_from!(lock.acquire_stackless())?;
        let l = lock.clone();
        let t = spawn!(lp(), move |co| -> Result<()> {
            yield_from!(l.acquire_stackless())?;
            tprint!("never");
            l.release()
        })?;
        sleep!(co, ZERO)?;
        t.cancel(None);
        if let Err(e) = wait!(co, t)
            && e.isinstance::<CancelledError>()
        {
            tprint!(
                "cancelled in acquire; still locked {}",
                py_bool(lock.locked())
            );
        }
        lock.release()?;
        tprint!(
            "unlocked {} repr: {}",
            py_bool(!lock.locked()),
            extra(&lock)
        );
        Ok(())
    })
}

#[test]
fn lock_fairness_with_cancellation() {
    common::check_case("sync/lock_cancel", || {
        run!(|co| {
            await_sub!(co, lock_cancel_race())?;
            await_sub!(co, lock_cancel_release_race())?;
            await_sub!(co, lock_finished_waiter_cancelled())?;
            await_sub!(co, lock_context_manager())
        })
        .unwrap();
    });
}

// ---------------------------------------------------------------------------------------------
// Queue: tests/cases/sync/queue_blocking.py

fn q_maxsize() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let q = Queue::new(2);
        let have_been_put: Rc<RefCell<Vec<i32>>> = Rc::default();
        let (q2, h) = (q.clone(), have_been_put.clone());
        let t = spawn!(lp(), move |co| {
            for i in 0..3 {
                yield_from!(q2.put_stackless(i))?;
                h.borrow_mut().push(i);
            }
            Ok(true)
        })?;
        for _ in 0..2 {
            sleep!(co, ZERO)?;
        }
        tprint!("putter blocked after {:?} {q:?}", have_been_put.borrow());
        tprint!("get {}", yield_from!(q.get_stackless())?);
        sleep!(co, ZERO)?;
        tprint!("putter resumed {:?}", have_been_put.borrow());
        let (a, b) = (
            yield_from!(q.get_stackless())?,
            yield_from!(q.get_stackless())?,
        );
        tprint!("get {a} {b} {}", py_bool(t.result()?));
        Ok(())
    })
}

fn q_getters_fifo() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let q = Queue::new(0);
        let got: Rc<RefCell<Vec<(usize, char)>>> = Rc::default();
        let ts = (0..3)
            .map(|n| {
                let (q, got) = (q.clone(), got.clone());
                spawn!(lp(), move |co| {
                    let item = yield_from!(q.get_stackless())?;
                    got.borrow_mut().push((n, item));
                    Ok(())
                })
            })
            .collect::<Result<Vec<_>>>()?;
        sleep!(co, ZERO)?;
        tprint!("getters waiting: {q:?}");
        for item in "abc".chars() {
            q.put_nowait(item)?;
        }
        wait!(co, gather(&ts)?)?;
        tprint!("getters served in order: {:?}", got.borrow());
        Ok(())
    })
}

fn q_get_cancelled_race() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let q = Queue::new(0);
        let q1 = q.clone();
        let t1 = spawn!(lp(), move |co| yield_from!(q1.get_stackless()))?;
        let q2 = q.clone();
        let t2 = spawn!(lp(), move |co| yield_from!(q2.get_stackless()))?;
        sleep!(co, ZERO)?;
        t1.cancel(None);
        sleep!(co, ZERO)?;
        tprint!("t1 done {}", py_bool(t1.done()));
        yield_from!(q.put_stackless('a'))?;
        sleep!(co, ZERO)?;
        tprint!("t2 got {}", wait!(co, t2)?);
        Ok(())
    })
}

fn q_waiting_putters() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let q = Queue::new(1);
        for item in ['a', 'b'] {
            let q = q.clone();
            spawn!(lp(), move |co| yield_from!(q.put_stackless(item)))?;
        }
        let (a, b) = (
            yield_from!(q.get_stackless())?,
            yield_from!(q.get_stackless())?,
        );
        tprint!("with waiting putters: {a} {b}");
        Ok(())
    })
}

fn q_producer_consumer() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let q = Queue::new(1);
        let log: Rc<RefCell<Vec<String>>> = Rc::default();
        call_co!(
            co,
            [q, log],
            task_group(co, |_, tg| {
                let (qp, lp_) = (q.clone(), log.clone());
                group_spawn!(tg, move |co| {
                    for i in 0..5 {
                        yield_from!(qp.put_stackless(i))?;
                        lp_.borrow_mut().push(format!("('put', {i})"));
                    }
                    Ok(())
                })?;
                let (qc, lc) = (q.clone(), log.clone());
                group_spawn!(tg, move |co| {
                    for _ in 0..5 {
                        let item = yield_from!(qc.get_stackless())?;
                        lc.borrow_mut().push(format!("('got', {item})"));
                    }
                    Ok(())
                })?;
                Ok(())
            })
        )?;
        tprint!("producer/consumer: [{}]", log.borrow().join(", "));
        Ok(())
    })
}

fn q_getter_timeout() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let q = Queue::<i32>::new(5);
        let q2 = q.clone();
        match call_co!(
            co,
            [q2],
            wait_for_fn(co, Some(ms(10)), move |co| q2.get(co))
        ) {
            Err(e) if e.isinstance::<TimeoutError>() => {
                tprint!("get timed out; getters left: {}", n_queued(&q, "_getters"))
            }
            other => panic!("expected TimeoutError, got {other:?}"),
        }
        Ok(())
    })
}

fn q_cancel_one_pending_reader() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let q = Queue::new(0);
        let qr = q.clone();
        let mut reader = spawn!(lp(), move |co| yield_from!(qr.get_stackless()))?;
        sleep!(co, ZERO)?;
        q.put_nowait(1)?;
        q.put_nowait(2)?;
        reader.cancel(None);
        if let Err(e) = wait!(co, reader)
            && e.isinstance::<CancelledError>()
        {
            tprint!("reader cancelled after wake-up");
            let qr = q.clone();
            reader = spawn!(lp(), move |co| yield_from!(qr.get_stackless()))?;
            wait!(co, reader)?;
        }
        tprint!("first item not lost: {}", reader.result()?);
        Ok(())
    })
}

fn q_cancel_many_pending_readers() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let q = Queue::new(0);
        let (r2, r3) = call_co!(
            co,
            [q],
            task_group(co, |co, tg| {
                let readers = (0..3)
                    .map(|_| {
                        let q = q.clone();
                        group_spawn!(tg, move |co| yield_from!(q.get_stackless()))
                    })
                    .collect::<Result<Vec<_>>>()?;
                sleep(co, ZERO)?;
                q.put_nowait(1)?;
                q.put_nowait(2)?;
                readers[0].cancel(None);
                if let Err(e) = co.wait(&readers[0])
                    && e.isinstance::<CancelledError>()
                {
                    tprint!("reader1 cancelled");
                }
                co.wait(&readers[2])?;
                Ok((readers[1].clone(), readers[2].clone()))
            })
        )?;
        let mut got = [r2.result()?, r3.result()?];
        got.sort();
        tprint!("readers 2 and 3 got: {got:?}");
        Ok(())
    })
}

fn q_put_cancel_drop() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let q = Queue::new(1);
        q.put_nowait(1)?;
        let qw = q.clone();
        let writer = spawn!(lp(), move |co| yield_from!(qw.put_stackless(2)))?;
        sleep!(co, ZERO)?;
        tprint!("get {}", q.get_nowait()?);
        writer.cancel(None);
        if let Err(e) = wait!(co, writer)
            && e.isinstance::<CancelledError>()
        {
            tprint!("writer cancelled after wake-up");
            let qw = q.clone();
            let writer = spawn!(lp(), move |co| yield_from!(qw.put_stackless(2)))?;
            wait!(co, writer)?;
        }
        tprint!("get {} qsize {}", q.get_nowait()?, q.qsize());
        Ok(())
    })
}

fn q_put_cancelled_race() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let q = Queue::new(1);
        let put = |item: char| {
            let q = q.clone();
            spawn!(lp(), move |co| yield_from!(q.put_stackless(item)))
        };
        let put_a = put('a')?;
        let put_b = put('b')?;
        let put_c = put('X')?;
        sleep!(co, ZERO)?;
        tprint!(
            "a done {} b done {}",
            py_bool(put_a.done()),
            py_bool(put_b.done())
        );
        put_c.cancel(None);
        sleep!(co, ZERO)?;
        tprint!("c done {} get {}", py_bool(put_c.done()), q.get_nowait()?);
        sleep!(co, ZERO)?;
        tprint!("get {}", q.get_nowait()?);
        wait!(co, put_b)
    })
}

fn q_putters_waiting() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let queue = Queue::new(2);
        let taken: Rc<RefCell<Vec<i32>>> = Rc::default();
        call_co!(
            co,
            [queue, taken],
            task_group(co, |_, tg| {
                let (q, taken) = (queue.clone(), taken.clone());
                group_spawn!(tg, move |co| {
                    sleep!(co, ZERO)?;
                    for _ in 0..q.qsize() {
                        taken.borrow_mut().push(q.get_nowait()?);
                    }
                    Ok(())
                })?;
                for i in 0..4 {
                    let q = queue.clone();
                    group_spawn!(tg, move |co| yield_from!(q.put_stackless(i)))?;
                }
                Ok(())
            })
        )?;
        tprint!(
            "putters all done; taken {:?} left {queue:?}",
            taken.borrow()
        );
        Ok(())
    })
}

fn q_cancelled_putters() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let queue = Queue::new(1);
        queue.put_nowait(1)?;
        let q = queue.clone();
        let put_task = spawn!(lp(), move |co| yield_from!(q.put_stackless(1)))?;
        sleep!(co, ZERO)?;
        tprint!("putters: {}", n_queued(&queue, "_putters"));
        put_task.cancel(None);
        if let Err(e) = wait!(co, put_task)
            && e.isinstance::<CancelledError>()
        {
            tprint!("cancelled; putters: {}", n_queued(&queue, "_putters"));
        }
        let q = queue.clone();
        let put_task = spawn!(lp(), move |co| yield_from!(q.put_stackless(1)))?;
        sleep!(co, ZERO)?;
        queue.get_nowait()?;
        put_task.cancel(None);
        if let Err(e) = wait!(co, put_task)
            && e.isinstance::<CancelledError>()
        {
            tprint!(
                "cancelled after get_nowait took its putter: {} {}",
                n_queued(&queue, "_putters"),
                queue.qsize()
            );
        }
        Ok(())
    })
}

#[test]
fn queue_blocking_and_cancellation() {
    common::check_case("sync/queue_blocking", || {
        run!(|co| {
            await_sub!(co, q_maxsize())?;
            await_sub!(co, q_getters_fifo())?;
            await_sub!(co, q_get_cancelled_race())?;
            await_sub!(co, q_waiting_putters())?;
            await_sub!(co, q_producer_consumer())?;
            await_sub!(co, q_getter_timeout())?;
            await_sub!(co, q_cancel_one_pending_reader())?;
            await_sub!(co, q_cancel_many_pending_readers())?;
            await_sub!(co, q_put_cancel_drop())?;
            await_sub!(co, q_put_cancelled_race())?;
            await_sub!(co, q_putters_waiting())?;
            await_sub!(co, q_cancelled_putters())
        })
        .unwrap();
    });
}

// ---------------------------------------------------------------------------------------------
// Event: tests/cases/sync/event.py

#[test]
fn event_wait_set_clear() {
    common::check_case("sync/event", || {
        run!(|co| -> Result<()> {
            let ev = Event::new();
            tprint!("repr: {} is_set {}", extra(&ev), py_bool(ev.is_set()));
            let result: Rc<RefCell<Vec<i32>>> = Rc::default();
            let c = |n: i32| {
                let (ev, result) = (ev.clone(), result.clone());
                body!(move |co| -> Result<()> {
                    if yield_from!(ev.wait_stackless())? {
                        result.borrow_mut().push(n);
                    }
                    Ok(())
                })
            };
            let t1 = spawn!(lp(), c(1))?;
            let t2 = spawn!(lp(), c(2))?;
            sleep!(co, ZERO)?;
            tprint!("before set: {:?} {}", result.borrow(), extra(&ev));
            let t3 = spawn!(lp(), c(3))?;
            ev.set();
            sleep!(co, ZERO)?;
            tprint!(
                "after set: {:?} {}",
                result.borrow(),
                py_bools(&[t1.done(), t2.done(), t3.done()])
            );
            let r = yield_from!(ev.wait_stackless())?;
            tprint!("wait on set: {} {}", py_bool(r), extra(&ev));

            let ev2 = Event::new();
            let e2 = ev2.clone();
            let w = spawn!(lp(), move |co| yield_from!(e2.wait_stackless()))?;
            let wc = w.clone();
            lp().call_soon(move || {
                wc.cancel(None);
            })?;
            if let Err(e) = wait!(co, w)
                && e.isinstance::<CancelledError>()
            {
                tprint!("wait cancelled; waiters left: {}", n_waiters(&ev2));
            }

            ev.clear();
            tprint!("cleared: {}", py_bool(ev.is_set()));
            result.borrow_mut().clear();
            let (e, r) = (ev.clone(), result.clone());
            let t = spawn!(lp(), move |co| {
                if yield_from!(e.wait_stackless())? {
                    r.borrow_mut().push(1);
                }
                Ok(true)
            })?;
            sleep!(co, ZERO)?;
            ev.set();
            ev.clear();
            tprint!("set then clear: {}", py_bool(ev.is_set()));
            ev.set();
            ev.set();
            tprint!("waiters: {}", n_waiters(&ev));
            sleep!(co, ZERO)?;
            tprint!(
                "woken anyway: {:?} waiters: {} result {}",
                result.borrow(),
                n_waiters(&ev),
                py_bool(t.result()?)
            );
            Ok(())
        })
        .unwrap();
    });
}

// ---------------------------------------------------------------------------------------------
// Semaphore and BoundedSemaphore: tests/cases/sync/semaphore.py

fn sem_acquire_fifo() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let sem = Semaphore::new(3)?;
        let result: Rc<RefCell<Vec<i32>>> = Rc::default();
        tprint!("repr: {}", extra(&sem));
        let a = yield_from!(sem.acquire_stackless())?;
        let b = yield_from!(sem.acquire_stackless())?;
        tprint!(
            "{} {} locked {} {}",
            py_bool(a),
            py_bool(b),
            py_bool(sem.locked()),
            extra(&sem)
        );
        let c = |n: i32| {
            let (sem, result) = (sem.clone(), result.clone());
            body!(move |co| -> Result<bool> {
                yield_from!(sem.acquire_stackless())?;
                result.borrow_mut().push(n);
                Ok(true)
            })
        };
        let _t1 = spawn!(lp(), c(1))?;
        let t2 = spawn!(lp(), c(2))?;
        let t3 = spawn!(lp(), c(3))?;
        sleep!(co, ZERO)?;
        tprint!(
            "one got in: {:?} locked {} {} value {}",
            result.borrow(),
            py_bool(sem.locked()),
            extra(&sem),
            sem.value()
        );
        let t4 = spawn!(lp(), c(4))?;
        sem.release();
        sem.release();
        tprint!("two released, value {}", sem.value());
        sleep!(co, ZERO)?;
        tprint!(
            "woken in order: {:?} locked {} {}",
            result.borrow(),
            py_bool(sem.locked()),
            extra(&sem)
        );
        sem.release();
        wait!(co, gather([&t2, &t3, &t4])?)?;
        tprint!("all: {:?}", result.borrow());
        Ok(())
    })
}

fn sem_cancel_before_awoken() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let sem = Semaphore::new(0)?;
        let ts = (0..4)
            .map(|_| {
                let s = sem.clone();
                spawn!(lp(), move |co| yield_from!(s.acquire_stackless()))
            })
            .collect::<Result<Vec<_>>>()?;
        sleep!(co, ZERO)?;
        ts[0].cancel(None);
        ts[1].cancel(None);
        sem.release();
        sleep!(co, ZERO)?;
        sleep!(co, ZERO)?;
        tprint!(
            "t3 done {} t4 done {}",
            py_bool(ts[2].done()),
            py_bool(ts[3].done())
        );
        ts[2].cancel(None);
        ts[3].cancel(None);
        sleep!(co, ZERO)
    })
}

fn sem_acquire_hang() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let sem = Semaphore::new(0)?;
        let s = sem.clone();
        let t1 = spawn!(lp(), move |co| yield_from!(s.acquire_stackless()))?;
        let s = sem.clone();
        let t2 = spawn!(lp(), move |co| yield_from!(s.acquire_stackless()))?;
        sleep!(co, ZERO)?;
        t1.cancel(None);
        sem.release();
        sleep!(co, ZERO)?;
        sleep!(co, ZERO)?;
        tprint!(
            "no hang: locked {} t2 done {} value {}",
            py_bool(sem.locked()),
            py_bool(t2.done()),
            sem.value()
        );
        Ok(())
    })
}

fn sem_acquire_no_hang() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let sem = Semaphore::new(1)?;
        let t2_slot: Rc<RefCell<Option<tulip::Task<()>>>> = Rc::default();
        let (s, slot) = (sem.clone(), t2_slot.clone());
        let t1 = spawn!(lp(), move |co| -> Result<()> {
            // async with sem: await asyncio.sleep(0)
            yield_from!(s.acquire_stackless())?;
            let body = sleep!(co, ZERO);
            s.release();
            body?;
            slot.borrow().as_ref().unwrap().cancel(None);
            Ok(())
        })?;
        let s = sem.clone();
        let t2 = spawn!(lp(), move |co| -> Result<()> {
            yield_from!(s.acquire_stackless())?;
            tprint!("never");
            s.release();
            Ok(())
        })?;
        *t2_slot.borrow_mut() = Some(t2.clone());
        let rs = wait!(co, tulip::gather_settled([&t1, &t2])?)?;
        let r2 = rs[1].as_ref().unwrap_err().to_error();
        tprint!(
            "r1 {} r2 {}",
            if rs[0].is_ok() { "None" } else { "?" },
            py_repr(&r2)
        );
        t2_slot.borrow_mut().take();
        yield_from!(sem.acquire_stackless())?;
        tprint!("acquired after, value {}", sem.value());
        Ok(())
    })
}

fn sem_fifo_order() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let sem = Semaphore::new(1)?;
        let result: Rc<RefCell<Vec<String>>> = Rc::default();
        call_co!(
            co,
            [sem, result],
            task_group(co, |_, tg| {
                for tag in ["c1", "c2", "c3"] {
                    let (sem, result) = (sem.clone(), result.clone());
                    group_spawn!(tg, move |co| -> Result<()> {
                        yield_from!(sem.acquire_stackless())?;
                        result.borrow_mut().push(format!("{tag}_1"));
                        sleep!(co, ms(10))?;
                        sem.release();
                        yield_from!(sem.acquire_stackless())?;
                        result.borrow_mut().push(format!("{tag}_2"));
                        sleep!(co, ms(10))?;
                        sem.release();
                        Ok(())
                    })?;
                }
                Ok(())
            })
        )?;
        tprint!("fifo: {}", py_strs(&result.borrow()));
        Ok(())
    })
}

#[test]
fn semaphore_fairness_and_bounded_release() {
    common::check_case("sync/semaphore", || {
        run!(|co| -> Result<()> {
            if let Err(e) = Semaphore::new(-1) {
                tprint!("ValueError: {}", py_str(&e));
            }
            tprint!(
                "Semaphore(0) locked: {}",
                py_bool(Semaphore::new(0)?.locked())
            );
            await_sub!(co, sem_acquire_fifo())?;
            await_sub!(co, sem_cancel_before_awoken())?;
            await_sub!(co, sem_acquire_hang())?;
            await_sub!(co, sem_acquire_no_hang())?;
            await_sub!(co, sem_fifo_order())?;
            let bs = BoundedSemaphore::new(2)?;
            yield_from!(bs.acquire_stackless())?;
            bs.release()?;
            if let Err(e) = bs.release() {
                tprint!("ValueError: {}", py_str(&e));
            }
            yield_from!(bs.acquire_stackless())?;
            tprint!("bounded inside: {}", extra(&bs));
            bs.release()?;
            tprint!("bounded after: {}", extra(&bs));
            Ok(())
        })
        .unwrap();
    });
}

// ---------------------------------------------------------------------------------------------
// Condition: tests/cases/sync/condition.py

fn cond_wait_order() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let cond = Condition::new();
        let result: Rc<RefCell<Vec<i32>>> = Rc::default();
        let ts = [1, 2, 3]
            .map(|n| {
                let (cond, result) = (cond.clone(), result.clone());
                spawn!(lp(), move |co| -> Result<bool> {
                    yield_from!(cond.acquire_stackless())?;
                    if yield_from!(cond.wait_stackless())? {
                        result.borrow_mut().push(n);
                    }
                    Ok(true)
                })
            })
            .into_iter()
            .collect::<Result<Vec<_>>>()?;
        sleep!(co, ZERO)?;
        tprint!(
            "all waiting: {:?} {} {}",
            result.borrow(),
            py_bool(cond.locked()),
            extra(&cond)
        );
        tprint!(
            "acquire: {}",
            py_bool(yield_from!(cond.acquire_stackless())?)
        );
        cond.notify(1)?;
        sleep!(co, ZERO)?;
        tprint!(
            "notified, lock still held: {:?} {}",
            result.borrow(),
            py_bool(cond.locked())
        );
        cond.release()?;
        sleep!(co, ZERO)?;
        tprint!("released: {:?} {}", result.borrow(), py_bool(cond.locked()));
        cond.notify(2)?;
        sleep!(co, ZERO)?;
        tprint!(
            "notify(2): {:?} {}",
            result.borrow(),
            py_bool(cond.locked())
        );
        for _ in 0..2 {
            cond.release()?;
            sleep!(co, ZERO)?;
            tprint!("released: {:?} {}", result.borrow(), py_bool(cond.locked()));
        }
        let results: Vec<bool> = ts.iter().map(|t| t.result().unwrap()).collect();
        tprint!("results: {}", py_bools(&results));
        cond.release()
    })
}

fn cond_wait_cancel() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let cond = Condition::new();
        yield_from!(cond.acquire_stackless())?;
        let c = cond.clone();
        let wait = spawn!(lp(), move |co| yield_from!(c.wait_stackless()))?;
        let wc = wait.clone();
        lp().call_soon(move || {
            wc.cancel(None);
        })?;
        if let Err(e) = wait!(co, wait)
            && e.isinstance::<CancelledError>()
        {
            tprint!(
                "wait cancelled; waiters: {} locked: {}",
                n_waiters(&cond),
                py_bool(cond.locked())
            );
        }
        cond.release()
    })
}

fn cond_wait_cancel_contested() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let cond = Condition::new();
        yield_from!(cond.acquire_stackless())?;
        let c = cond.clone();
        let wait_task = spawn!(lp(), move |co| yield_from!(c.wait_stackless()))?;
        sleep!(co, ZERO)?;
        tprint!("waiting releases: {}", py_bool(cond.locked()));
        yield_from!(cond.acquire_stackless())?;
        cond.notify(1)?;
        let wc = wait_task.clone();
        lp().call_soon(move || {
            wc.cancel(None);
        })?;
        let c = cond.clone();
        lp().call_soon(move || c.release().unwrap())?;
        match wait!(co, wait_task) {
            Ok(_) => tprint!("wait_task returned"),
            Err(e) if e.isinstance::<CancelledError>() => tprint!("wait_task cancelled"),
            Err(e) => return Err(e),
        }
        tprint!("re-acquired: {}", py_bool(cond.locked()));
        cond.release()
    })
}

fn cond_wait_cancel_after_notify() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let waited = Rc::new(Cell::new(false));
        let cond = Condition::new();
        let (c, w) = (cond.clone(), waited.clone());
        let waiter = spawn!(lp(), move |co| -> Result<()> {
            // async with cond: waited = True; await cond.wait()
            yield_from!(c.acquire_stackless())?;
            w.set(true);
            let body = yield_from!(c.wait_stackless());
            c.release()?;
            body.map(drop)
        })?;
        sleep!(co, ZERO)?;
        yield_from!(cond.acquire_stackless())?;
        cond.notify(1)?;
        sleep!(co, ZERO)?;
        waiter.cancel(None);
        sleep!(co, ZERO)?;
        cond.release()?;
        sleep!(co, ZERO)?;
        tprint!(
            "cancel after notify: {} {} locked: {}",
            py_bool(waiter.cancelled()),
            py_bool(waited.get()),
            py_bool(cond.locked())
        );
        Ok(())
    })
}

fn cond_wait_for() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let cond = Condition::new();
        let presult = Rc::new(Cell::new(false));
        let calls: Rc<RefCell<Vec<bool>>> = Rc::default();
        let result: Rc<RefCell<Vec<i32>>> = Rc::default();
        let (c, p, cl, r) = (cond.clone(), presult.clone(), calls.clone(), result.clone());
        let t = spawn!(lp(), move |co| -> Result<bool> {
            yield_from!(c.acquire_stackless())?;
            let predicate = || {
                cl.borrow_mut().push(p.get());
                p.get()
            };
            if yield_from!(c.wait_for_stackless(predicate))? {
                r.borrow_mut().push(1);
                c.release()?;
            }
            Ok(true)
        })?;
        sleep!(co, ZERO)?;
        tprint!("wait_for: {:?}", result.borrow());
        yield_from!(cond.acquire_stackless())?;
        cond.notify(1)?;
        cond.release()?;
        sleep!(co, ZERO)?;
        tprint!("predicate false: {:?}", result.borrow());
        presult.set(true);
        yield_from!(cond.acquire_stackless())?;
        cond.notify(1)?;
        cond.release()?;
        sleep!(co, ZERO)?;
        tprint!(
            "predicate true: {:?} {} predicate calls: {}",
            result.borrow(),
            py_bool(t.result()?),
            py_bools(&calls.borrow())
        );
        tprint!(
            "true at once without the lock: {}",
            py_bool(yield_from!(cond.wait_for_stackless(|| true))?)
        );
        if let Err(e) = yield_from!(cond.wait_for_stackless(|| false)) {
            tprint!("RuntimeError: {}", py_str(&e));
        }
        Ok(())
    })
}

fn cond_notify_some_and_all() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let cond = Condition::new();
        let result: Rc<RefCell<Vec<i32>>> = Rc::default();
        let c = |n: i32| {
            let (cond, result) = (cond.clone(), result.clone());
            body!(move |co| -> Result<bool> {
                yield_from!(cond.acquire_stackless())?;
                if yield_from!(cond.wait_stackless())? {
                    result.borrow_mut().push(n);
                    cond.release()?;
                }
                Ok(true)
            })
        };
        for n in 1..=3 {
            spawn!(lp(), c(n))?;
        }
        sleep!(co, ZERO)?;
        yield_from!(cond.acquire_stackless())?;
        cond.notify(1)?;
        cond.release()?;
        sleep!(co, ZERO)?;
        tprint!("notify(1): {:?}", result.borrow());
        yield_from!(cond.acquire_stackless())?;
        cond.notify(1)?;
        cond.notify(2048)?;
        cond.release()?;
        sleep!(co, ZERO)?;
        tprint!("notify(1), notify(2048): {:?}", result.borrow());
        result.borrow_mut().clear();
        let ts = [spawn!(lp(), c(1))?, spawn!(lp(), c(2))?];
        sleep!(co, ZERO)?;
        yield_from!(cond.acquire_stackless())?;
        cond.notify_all()?;
        cond.release()?;
        sleep!(co, ZERO)?;
        let results: Vec<bool> = ts.iter().map(|t| t.result().unwrap()).collect();
        tprint!("notify_all: {:?} {}", result.borrow(), py_bools(&results));
        for e in [cond.notify(1), cond.notify_all()]
            .into_iter()
            .flat_map(Result::err)
        {
            tprint!("RuntimeError: {}", py_str(&e));
        }
        Ok(())
    })
}

fn cond_shared_lock() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let lock = Lock::new();
        let cond = Condition::with_lock(lock.clone());
        yield_from!(lock.acquire_stackless())?;
        tprint!("shared lock: {}", py_bool(cond.locked()));
        lock.release()?;
        yield_from!(cond.acquire_stackless())?;
        tprint!("via cond: {}", py_bool(lock.locked()));
        cond.release()?;
        tprint!(
            "after: {} {}",
            py_bool(lock.locked()),
            py_bool(cond.locked())
        );
        Ok(())
    })
}

#[test]
fn condition_notify_order_and_wait_for() {
    common::check_case("sync/condition", || {
        run!(|co| -> Result<()> {
            await_sub!(co, cond_wait_order())?;
            await_sub!(co, cond_wait_cancel())?;
            await_sub!(co, cond_wait_cancel_contested())?;
            await_sub!(co, cond_wait_cancel_after_notify())?;
            await_sub!(co, cond_wait_for())?;
            await_sub!(co, cond_notify_some_and_all())?;
            await_sub!(co, cond_shared_lock())
        })
        .unwrap();
    });
}

// ---------------------------------------------------------------------------------------------
// Barrier: tests/cases/sync/barrier.py

const N: usize = 5;

fn barrier_filling() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let barrier = Barrier::new(3)?;
        let mut ts = Vec::new();
        for _ in 0..3 {
            let b = barrier.clone();
            ts.push(spawn!(lp(), move |co| yield_from!(b.wait_stackless()))?);
            sleep!(co, ZERO)?;
            tprint!("n_waiting {} {}", barrier.n_waiting(), extra(&barrier));
        }
        let indices = wait!(co, gather(&ts)?)?;
        tprint!("indices: {:?} {}", indices, extra(&barrier));
        Ok(())
    })
}

fn barrier_check_return_value() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let barrier = Barrier::new(N as i64)?;
        let seen: Rc<RefCell<Vec<bool>>> = Rc::default();
        let tasks = (0..N)
            .map(|_| {
                let (b, seen) = (barrier.clone(), seen.clone());
                spawn!(lp(), move |co| -> Result<usize> {
                    yield_from!(b.wait_stackless())?;
                    let i = yield_from!(b.wait_stackless())?;
                    seen.borrow_mut()
                        .push(format!("{b:?}").contains("draining"));
                    Ok(i)
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut res = wait!(co, gather(&tasks)?)?;
        res.sort();
        tprint!(
            "sorted indices: {:?} draining seen: {}",
            res,
            py_bools(&seen.borrow())
        );
        tprint!("after: {} {}", extra(&barrier), py_bool(barrier.broken()));
        Ok(())
    })
}

fn barrier_cancel_one() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let barrier = Barrier::new(3)?;
        let results: Rc<RefCell<Vec<bool>>> = Rc::default();
        let coro = || {
            let (b, r) = (barrier.clone(), results.clone());
            body!(move |co| -> Result<()> {
                yield_from!(b.wait_stackless())?;
                r.borrow_mut().push(true);
                Ok(())
            })
        };
        let t1 = spawn!(lp(), coro())?;
        sleep!(co, ZERO)?;
        let t2 = spawn!(lp(), coro())?;
        sleep!(co, ZERO)?;
        tprint!("n_waiting {}", barrier.n_waiting());
        t1.cancel(None);
        sleep!(co, ZERO)?;
        tprint!("after cancel n_waiting {}", barrier.n_waiting());
        if let Err(e) = wait!(co, t1)
            && e.isinstance::<CancelledError>()
        {
            tprint!("t1 cancelled {}", py_bool(t1.cancelled()));
        }
        let t3 = spawn!(lp(), coro())?;
        sleep!(co, ZERO)?;
        tprint!("n_waiting {}", barrier.n_waiting());
        let t4 = spawn!(lp(), coro())?;
        wait!(co, gather([&t2, &t3, &t4])?)?;
        tprint!(
            "results {} n_waiting {} broken {}",
            py_bools(&results.borrow()),
            barrier.n_waiting(),
            py_bool(barrier.broken())
        );
        Ok(())
    })
}

fn barrier_reset_while_waiting() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let barrier = Barrier::new(N as i64)?;
        let results: Rc<RefCell<Vec<String>>> = Rc::default();
        let tasks = (0..N - 1)
            .map(|_| {
                let (b, r) = (barrier.clone(), results.clone());
                spawn!(lp(), move |co| -> Result<()> {
                    match yield_from!(b.wait_stackless()) {
                        Err(e) if BrokenBarrierError::is(&e) => r.borrow_mut().push(py_repr(&e)),
                        other => {
                            other?;
                        }
                    }
                    Ok(())
                })
            })
            .collect::<Result<Vec<_>>>()?;
        sleep!(co, ZERO)?;
        tprint!("before reset: {}", extra(&barrier));
        let b = barrier.clone();
        spawn!(lp(), move |co| yield_from!(b.reset_stackless()))?;
        wait!(co, gather(&tasks)?)?;
        tprint!(
            "reset: {} {} {}",
            py_strs(&results.borrow()),
            extra(&barrier),
            py_bool(barrier.broken())
        );
        Ok(())
    })
}

fn barrier_abort_when_exception() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let barrier = Barrier::new(N as i64)?;
        let results1: Rc<RefCell<Vec<bool>>> = Rc::default();
        let results2: Rc<RefCell<Vec<String>>> = Rc::default();
        let tasks = (0..N)
            .map(|_| {
                let (b, r1, r2) = (barrier.clone(), results1.clone(), results2.clone());
                spawn!(lp(), move |co| -> Result<()> {
                    // `async with barrier as i:` (Barrier.__aexit__ does nothing)
                    let attempt = match yield_from!(b.wait_stackless()) {
                        Err(e) => Err(e),
                        Ok(i) if i == N / 2 => Err(RuntimeError::new("").into()),
                        Ok(_) => yield_from!(b.wait_stackless()).map(|_| {
                            r1.borrow_mut().push(true);
                        }),
                    };
                    match attempt {
                        Err(e) if BrokenBarrierError::is(&e) => r2.borrow_mut().push(py_repr(&e)),
                        Err(e) if e.isinstance::<RuntimeError>() => {
                            yield_from!(b.abort_stackless())?
                        }
                        other => other?,
                    }
                    Ok(())
                })
            })
            .collect::<Result<Vec<_>>>()?;
        wait!(co, gather(&tasks)?)?;
        let mut r2 = results2.borrow().clone();
        r2.sort();
        tprint!(
            "abort: {} {} {} {}",
            py_bool(barrier.broken()),
            py_bools(&results1.borrow()),
            py_strs(&r2),
            extra(&barrier)
        );
        if let Err(e) = yield_from!(barrier.wait_stackless()) {
            tprint!("wait on broken: {}", py_repr(&e));
        }
        Ok(())
    })
}

fn barrier_abort_then_reset() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let barrier1 = Barrier::new(N as i64)?;
        let barrier2 = Barrier::new(N as i64)?;
        let counts: Rc<[Cell<usize>; 3]> = Rc::default();
        let tasks = (0..N)
            .map(|_| {
                let (b1, b2, counts) = (barrier1.clone(), barrier2.clone(), counts.clone());
                spawn!(lp(), move |co| -> Result<()> {
                    let attempt = match yield_from!(b1.wait_stackless()) {
                        Err(e) => Err(e),
                        Ok(i) if i == N / 2 => Err(RuntimeError::new("").into()),
                        Ok(_) => yield_from!(b1.wait_stackless()).map(|_| {
                            counts[0].set(counts[0].get() + 1);
                        }),
                    };
                    match attempt {
                        Err(e) if BrokenBarrierError::is(&e) => counts[1].set(counts[1].get() + 1),
                        Err(e) if e.isinstance::<RuntimeError>() => {
                            yield_from!(b1.abort_stackless())?
                        }
                        other => other?,
                    }
                    let i = yield_from!(b2.wait_stackless())?;
                    if i == N / 2 {
                        yield_from!(b1.reset_stackless())?;
                    }
                    yield_from!(b2.wait_stackless())?;
                    yield_from!(b1.wait_stackless())?;
                    counts[2].set(counts[2].get() + 1);
                    Ok(())
                })
            })
            .collect::<Result<Vec<_>>>()?;
        wait!(co, gather(&tasks)?)?;
        tprint!(
            "abort then reset: {} {} {} {} {}",
            py_bool(barrier1.broken()),
            counts[0].get(),
            counts[1].get(),
            counts[2].get(),
            barrier1.n_waiting()
        );
        Ok(())
    })
}

#[test]
fn barrier_wait_reset_abort() {
    common::check_case("sync/barrier", || {
        run!(|co| -> Result<()> {
            for p in [0, -1] {
                if let Err(e) = Barrier::new(p) {
                    tprint!("ValueError: {}", py_str(&e));
                }
            }
            let b = Barrier::new(1)?;
            let parties = b.parties();
            let ex = extra(&b);
            let i1 = yield_from!(b.wait_stackless())?;
            let i2 = yield_from!(b.wait_stackless())?;
            tprint!("parties {parties} {ex} index {i1} index {i2}");
            await_sub!(co, barrier_filling())?;
            await_sub!(co, barrier_check_return_value())?;
            await_sub!(co, barrier_cancel_one())?;
            await_sub!(co, barrier_reset_while_waiting())?;
            await_sub!(co, barrier_abort_when_exception())?;
            await_sub!(co, barrier_abort_then_reset())
        })
        .unwrap();
    });
}

// ---------------------------------------------------------------------------------------------
// Beyond the traces.

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
