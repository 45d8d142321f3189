// The sync parity cases, shared by both backends: tests/sync_cases.rs runs them with
// stackful task bodies, tests/sync_cases_stackless.rs with stackless ones (the macros of
// tests/backend/). Every wait on a primitive is `sync!` or `with!`: a stackless body waits
// natively (`lock.acquire_stackless()`, ...); `call_co!` is left for the stackful helpers
// (`task_group`, `wait_for_fn`).
use common::{ms, n_queued, n_waiters, py_bool};

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use anyhow::Result;
use tulip::errors::{py_repr, py_str};
use tulip::{
    Barrier, BoundedSemaphore, BrokenBarrierError, CancelledError, Condition, ErrorExt, Event,
    EventLoop, LifoQueue, Lock, PriorityQueue, Queue, QueueEmpty, QueueFull, RuntimeError,
    Semaphore, Task, TimeoutError, ValueError, gather, gather_settled, get_running_loop,
    sleep, task_group, wait_for_fn,
};

const ZERO: Duration = Duration::ZERO;

fn py_bools(bs: &[bool]) -> String {
    let items: Vec<&str> = bs.iter().map(|b| py_bool(*b)).collect();
    format!("[{}]", items.join(", "))
}

fn py_strs<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<String> = items
        .iter()
        .map(|s| tulip::errors::py_str_repr(s.as_ref()))
        .collect();
    format!("[{}]", items.join(", "))
}

/// `repr(x).split(' [')[1]`.
fn extra(x: &impl std::fmt::Debug) -> String {
    format!("{x:?}").split(" [").nth(1).unwrap().to_string()
}

fn lp() -> EventLoop {
    get_running_loop().unwrap()
}

// ---------------------------------------------------------------------------------------------

#[test]
fn case_55_lock_event_semaphore_condition_binding() {
    common::check_case("sync/case55", || {
        run!(|co| {
            let lock = Lock::new();
            let result: Rc<RefCell<Vec<i32>>> = Rc::default();
            let c = |n: i32| {
                let (lock, result) = (lock.clone(), result.clone());
                body!(move |co| with!(co, lock, {
                    result.borrow_mut().push(n);
                    sleep!(co, ZERO)
                }))
            };
            sync!(co, lock.acquire())?;
            let tasks = [1, 2, 3]
                .map(|i| spawn!(lp(), c(i)))
                .into_iter()
                .collect::<Result<Vec<_>>>()?;
            sleep!(co, ZERO)?;
            tprint!("locked: {} repr: {}", py_bool(lock.locked()), extra(&lock));
            lock.release()?;
            wait!(co, gather(&tasks)?)?;
            tprint!("FIFO acquisition order: {:?}", result.borrow());
            if let Err(e) = lock.release() {
                tprint!("RuntimeError: {}", py_str(&e));
            }
            sync!(co, lock.acquire())?;
            let l = lock.clone();
            let t = spawn!(lp(), move |co| sync!(co, l.acquire()))?;
            sleep!(co, ZERO)?;
            t.cancel(None);
            if let Err(e) = wait!(co, t)
                && e.isinstance::<CancelledError>()
            {
                tprint!(
                    "cancelled waiter removed: {}",
                    py_bool(n_waiters(&lock) == 0)
                );
            }
            lock.release()?;

            let ev = Event::new();
            let w = |i: i32| {
                let ev = ev.clone();
                body!(move |co| -> Result<()> {
                    sync!(co, ev.wait())?;
                    tprint!("event waiter {i} woke");
                    Ok(())
                })
            };
            let ts = [1, 2]
                .map(|i| spawn!(lp(), w(i)))
                .into_iter()
                .collect::<Result<Vec<_>>>()?;
            sleep!(co, ZERO)?;
            tprint!("set() wakes all:");
            ev.set();
            wait!(co, gather(&ts)?)?;
            tprint!(
                "wait on set event returns immediately: {}",
                py_bool(sync!(co, ev.wait())?)
            );
            if let Err(e) = Semaphore::new(-1) {
                tprint!("ValueError: {}", py_str(&e));
            }
            let bs = BoundedSemaphore::new(1)?;
            if let Err(e) = bs.release() {
                tprint!("ValueError: {}", py_str(&e));
            }
            let cond = Condition::new();
            if let Err(e) = sync!(co, cond.wait()) {
                tprint!("RuntimeError: {}", py_str(&e));
            }
            if let Err(e) = cond.notify(1) {
                tprint!("RuntimeError: {}", py_str(&e));
            }
            Ok(())
        })
        .unwrap();
        let other = EventLoop::new().unwrap();
        let lk = Lock::new();
        let use_ = || {
            let lk = lk.clone();
            body!(move |co| -> Result<()> {
                sync!(co, lk.acquire())?;
                let l = lk.clone();
                let t = spawn!(lp(), move |co| sync!(co, l.acquire()))?;
                sleep!(co, ZERO)?;
                lk.release()?;
                wait!(co, t)?;
                Ok(())
            })
        };
        let main = use_();
        run!(|co| await_sub!(co, main)).unwrap();
        let task = spawn!(other, use_()).unwrap();
        match other.run_until_complete(&task) {
            Err(e) if e.isinstance::<RuntimeError>() => {
                tprint!("RuntimeError: {}", py_str(&e).split("> ").last().unwrap())
            }
            other => panic!("expected RuntimeError, got {other:?}"),
        }
        other.close().unwrap();
    });
}

// ---------------------------------------------------------------------------------------------

fn lock_cancel_race() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let lock = Lock::new();
        let order: Rc<RefCell<Vec<String>>> = Rc::default();
        let lockit = |name: &'static str, blocker: Option<tulip::Future<()>>| {
            let (lock, order) = (lock.clone(), order.clone());
            body!(move |co| -> Result<()> {
                sync!(co, lock.acquire())?;
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
                sync!(co, lock.acquire())?;
                lock_count.set(lock_count.get() + 1);
                Ok(())
            })
        };
        sync!(co, lock.acquire())?;
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
        sync!(co, lock.acquire())?;
        let l = lock.clone();
        let tb = spawn!(lp(), move |co| sync!(co, l.acquire()))?;
        sleep!(co, ZERO)?;
        let l = lock.clone();
        let tc = spawn!(lp(), move |co| sync!(co, l.acquire()))?;
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
        with!(co, lock, {
            tprint!("inside: locked {}", py_bool(lock.locked()));
            Ok(())
        })?;
        tprint!("after: locked {}", py_bool(lock.locked()));
        if let Err(e) = with!(co, lock, { Err::<(), _>(ValueError::new("boom").into()) }) {
            tprint!("error {} locked {}", py_repr(&e), py_bool(lock.locked()));
        }
        sync!(co, lock.acquire())?;
        let l = lock.clone();
        let t = spawn!(lp(), move |co| with!(co, l, {
            tprint!("never");
            Ok(())
        }))?;
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

#[test]
fn event_wait_set_clear() {
    common::check_case("sync/event", || {
        run!(|co| {
            let ev = Event::new();
            tprint!("repr: {} is_set {}", extra(&ev), py_bool(ev.is_set()));
            let result: Rc<RefCell<Vec<i32>>> = Rc::default();
            let c = |n: i32| {
                let (ev, result) = (ev.clone(), result.clone());
                body!(move |co| -> Result<()> {
                    if sync!(co, ev.wait())? {
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
            let r = sync!(co, ev.wait())?;
            tprint!("wait on set: {} {}", py_bool(r), extra(&ev));

            let ev2 = Event::new();
            let e2 = ev2.clone();
            let w = spawn!(lp(), move |co| sync!(co, e2.wait()))?;
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
            let t = spawn!(lp(), move |co| -> Result<bool> {
                if sync!(co, e.wait())? {
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

fn cond_wait_order() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let cond = Condition::new();
        let result: Rc<RefCell<Vec<i32>>> = Rc::default();
        let c = |n: i32| {
            let (cond, result) = (cond.clone(), result.clone());
            body!(move |co| -> Result<bool> {
                sync!(co, cond.acquire())?;
                if sync!(co, cond.wait())? {
                    result.borrow_mut().push(n);
                }
                Ok(true)
            })
        };
        let ts = [1, 2, 3]
            .map(|n| spawn!(lp(), c(n)))
            .into_iter()
            .collect::<Result<Vec<_>>>()?;
        sleep!(co, ZERO)?;
        tprint!(
            "all waiting: {:?} {} {}",
            result.borrow(),
            py_bool(cond.locked()),
            extra(&cond)
        );
        tprint!("acquire: {}", py_bool(sync!(co, cond.acquire())?));
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
        sync!(co, cond.acquire())?;
        let c = cond.clone();
        let wait = spawn!(lp(), move |co| sync!(co, c.wait()))?;
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
        sync!(co, cond.acquire())?;
        let c = cond.clone();
        let wait_task = spawn!(lp(), move |co| sync!(co, c.wait()))?;
        sleep!(co, ZERO)?;
        tprint!("waiting releases: {}", py_bool(cond.locked()));
        sync!(co, cond.acquire())?;
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
        let waiter = spawn!(lp(), move |co| with!(co, c, {
            w.set(true);
            sync!(co, c.wait())
        }))?;
        sleep!(co, ZERO)?;
        sync!(co, cond.acquire())?;
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
        let predicate = {
            let (p, calls) = (presult.clone(), calls.clone());
            move || {
                calls.borrow_mut().push(p.get());
                p.get()
            }
        };
        let result: Rc<RefCell<Vec<i32>>> = Rc::default();
        let (c, r) = (cond.clone(), result.clone());
        let t = spawn!(lp(), move |co| -> Result<bool> {
            sync!(co, c.acquire())?;
            if sync!(co, c.wait_for(predicate))? {
                r.borrow_mut().push(1);
                c.release()?;
            }
            Ok(true)
        })?;
        sleep!(co, ZERO)?;
        tprint!("wait_for: {:?}", result.borrow());
        sync!(co, cond.acquire())?;
        cond.notify(1)?;
        cond.release()?;
        sleep!(co, ZERO)?;
        tprint!("predicate false: {:?}", result.borrow());
        presult.set(true);
        sync!(co, cond.acquire())?;
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
            py_bool(sync!(co, cond.wait_for(|| true))?)
        );
        if let Err(e) = sync!(co, cond.wait_for(|| false)) {
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
                sync!(co, cond.acquire())?;
                if sync!(co, cond.wait())? {
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
        sync!(co, cond.acquire())?;
        cond.notify(1)?;
        cond.release()?;
        sleep!(co, ZERO)?;
        tprint!("notify(1): {:?}", result.borrow());
        sync!(co, cond.acquire())?;
        cond.notify(1)?;
        cond.notify(2048)?;
        cond.release()?;
        sleep!(co, ZERO)?;
        tprint!("notify(1), notify(2048): {:?}", result.borrow());
        result.borrow_mut().clear();
        let ts = [spawn!(lp(), c(1))?, spawn!(lp(), c(2))?];
        sleep!(co, ZERO)?;
        sync!(co, cond.acquire())?;
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
        with!(co, lock, {
            tprint!("shared lock: {}", py_bool(cond.locked()));
            Ok(())
        })?;
        with!(co, cond, {
            tprint!("via cond: {}", py_bool(lock.locked()));
            Ok(())
        })?;
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
        run!(|co| {
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

fn sem_acquire_fifo() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let sem = Semaphore::new(3)?;
        let result: Rc<RefCell<Vec<i32>>> = Rc::default();
        tprint!("repr: {}", extra(&sem));
        let (a, b) = (sync!(co, sem.acquire())?, sync!(co, sem.acquire())?);
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
                sync!(co, sem.acquire())?;
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
        let ts: Vec<Task<bool>> = (0..4)
            .map(|_| {
                let s = sem.clone();
                spawn!(lp(), move |co| sync!(co, s.acquire()))
            })
            .collect::<Result<_>>()?;
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
        let t1 = spawn!(lp(), move |co| sync!(co, s.acquire()))?;
        let s = sem.clone();
        let t2 = spawn!(lp(), move |co| sync!(co, s.acquire()))?;
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
        let t2_slot: Rc<RefCell<Option<Task<()>>>> = Rc::default();
        let (s, slot) = (sem.clone(), t2_slot.clone());
        let t1 = spawn!(lp(), move |co| -> Result<()> {
            with!(co, s, { sleep!(co, ZERO) })?;
            slot.borrow().as_ref().unwrap().cancel(None);
            Ok(())
        })?;
        let s = sem.clone();
        let t2 = spawn!(lp(), move |co| with!(co, s, {
            tprint!("never");
            Ok(())
        }))?;
        *t2_slot.borrow_mut() = Some(t2.clone());
        let rs = wait!(co, gather_settled([&t1, &t2])?)?;
        let r2 = rs[1].as_ref().unwrap_err().to_error();
        tprint!(
            "r1 {} r2 {}",
            if rs[0].is_ok() { "None" } else { "?" },
            py_repr(&r2)
        );
        t2_slot.borrow_mut().take();
        sync!(co, sem.acquire())?;
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
                    group_spawn!(tg, move |co| {
                        sync!(co, sem.acquire())?;
                        result.borrow_mut().push(format!("{tag}_1"));
                        sleep!(co, ms(10))?;
                        sem.release();
                        sync!(co, sem.acquire())?;
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
        run!(|co| {
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
            sync!(co, bs.acquire())?;
            bs.release()?;
            if let Err(e) = bs.release() {
                tprint!("ValueError: {}", py_str(&e));
            }
            with!(co, bs, {
                tprint!("bounded inside: {}", extra(&bs));
                Ok(())
            })?;
            tprint!("bounded after: {}", extra(&bs));
            Ok(())
        })
        .unwrap();
    });
}

// ---------------------------------------------------------------------------------------------

const N: usize = 5;

/// `gather_tasks(n, coro)`: `n` tasks of `coro()`, gathered (to be awaited).
fn gather_tasks<T: Clone + 'static, B: Body<T>>(
    n: usize,
    coro: impl Fn() -> B,
) -> Result<tulip::Gathering<T>> {
    let tasks = (0..n)
        .map(|_| spawn!(lp(), coro()))
        .collect::<Result<Vec<_>>>()?;
    gather(&tasks)
}

fn barrier_filling() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let barrier = Barrier::new(3)?;
        let mut ts = Vec::new();
        for _ in 0..3 {
            let b = barrier.clone();
            ts.push(spawn!(lp(), move |co| sync!(co, b.wait()))?);
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
        let coro = || {
            let (b, seen) = (barrier.clone(), seen.clone());
            body!(move |co| -> Result<usize> {
                sync!(co, b.wait())?;
                let i = sync!(co, b.wait())?;
                seen.borrow_mut()
                    .push(format!("{b:?}").contains("draining"));
                Ok(i)
            })
        };
        let mut res = wait!(co, gather_tasks(N, coro)?)?;
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
                sync!(co, b.wait())?;
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
        let coro = || {
            let (b, r) = (barrier.clone(), results.clone());
            body!(move |co| -> Result<()> {
                match sync!(co, b.wait()) {
                    Err(e) if BrokenBarrierError::is(&e) => r.borrow_mut().push(py_repr(&e)),
                    other => {
                        other?;
                    }
                }
                Ok(())
            })
        };
        let tasks = (0..N - 1)
            .map(|_| spawn!(lp(), coro()))
            .collect::<Result<Vec<_>>>()?;
        sleep!(co, ZERO)?;
        tprint!("before reset: {}", extra(&barrier));
        let b = barrier.clone();
        spawn!(lp(), move |co| sync!(co, b.reset()))?;
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
        let coro = || {
            let (b, r1, r2) = (barrier.clone(), results1.clone(), results2.clone());
            body!(move |co| -> Result<()> {
                // The `try:` block, written out with no `?` (a closure could not await):
                // `async with barrier as i:` (Barrier.__aexit__ does nothing)
                let attempt: Result<()> = match sync!(co, b.wait()) {
                    Err(e) => Err(e),
                    Ok(i) if i == N / 2 => Err(RuntimeError::new("").into()),
                    Ok(_) => sync!(co, b.wait()).map(|_| r1.borrow_mut().push(true)),
                };
                match attempt {
                    Err(e) if BrokenBarrierError::is(&e) => r2.borrow_mut().push(py_repr(&e)),
                    Err(e) if e.isinstance::<RuntimeError>() => sync!(co, b.abort())?,
                    other => other?,
                }
                Ok(())
            })
        };
        wait!(co, gather_tasks(N, coro)?)?;
        let mut r2 = results2.borrow().clone();
        r2.sort();
        tprint!(
            "abort: {} {} {} {}",
            py_bool(barrier.broken()),
            py_bools(&results1.borrow()),
            py_strs(&r2),
            extra(&barrier)
        );
        if let Err(e) = sync!(co, barrier.wait()) {
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
        let coro = || {
            let (b1, b2, counts) = (barrier1.clone(), barrier2.clone(), counts.clone());
            body!(move |co| -> Result<()> {
                // The `try:` block, as in barrier_abort_when_exception.
                let attempt: Result<()> = match sync!(co, b1.wait()) {
                    Err(e) => Err(e),
                    Ok(i) if i == N / 2 => Err(RuntimeError::new("").into()),
                    Ok(_) => sync!(co, b1.wait()).map(|_| counts[0].set(counts[0].get() + 1)),
                };
                match attempt {
                    Err(e) if BrokenBarrierError::is(&e) => counts[1].set(counts[1].get() + 1),
                    Err(e) if e.isinstance::<RuntimeError>() => sync!(co, b1.abort())?,
                    other => other?,
                }
                let i = sync!(co, b2.wait())?;
                if i == N / 2 {
                    sync!(co, b1.reset())?;
                }
                sync!(co, b2.wait())?;
                sync!(co, b1.wait())?;
                counts[2].set(counts[2].get() + 1);
                Ok(())
            })
        };
        wait!(co, gather_tasks(N, coro)?)?;
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
        run!(|co| {
            for p in [0, -1] {
                if let Err(e) = Barrier::new(p) {
                    tprint!("ValueError: {}", py_str(&e));
                }
            }
            let b = Barrier::new(1)?;
            let parties = b.parties();
            let ex = extra(&b);
            let i1 = sync!(co, b.wait())?;
            let i2 = sync!(co, b.wait())?;
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

#[test]
fn queue_kinds_nowait_errors_and_join() {
    common::check_case("sync/queue_basics", || {
        run!(|co| {
            let q = Queue::<i32>::new(0);
            tprint!(
                "empty {} full {} qsize {} maxsize {}",
                py_bool(q.empty()),
                py_bool(q.full()),
                q.qsize(),
                q.maxsize()
            );
            q.put_nowait(1)?;
            tprint!("empty {} {q:?}", py_bool(q.empty()));
            tprint!("got {} {q:?}", q.get_nowait()?);

            let q = Queue::<i32>::new(2);
            tprint!("full {}", py_bool(q.full()));
            q.put_nowait(1)?;
            q.put_nowait(2)?;
            tprint!("full {} {q:?}", py_bool(q.full()));
            match q.put_nowait(3) {
                Err(e) if QueueFull::is(&e) => tprint!("QueueFull: {}", py_repr(&e)),
                other => panic!("expected QueueFull, got {other:?}"),
            }
            q.get_nowait()?;
            q.get_nowait()?;
            match q.get_nowait() {
                Err(e) if QueueEmpty::is(&e) => tprint!("QueueEmpty: {}", py_repr(&e)),
                other => panic!("expected QueueEmpty, got {other:?}"),
            }

            // The three kinds have no common trait to loop over: a macro, once per kind.
            macro_rules! put_then_get_three {
                ($kind:ident) => {{
                    let q = $kind::new(0);
                    for i in [1, 3, 2] {
                        sync!(co, q.put(i))?;
                    }
                    let repr = format!("{q:?}");
                    let mut items = Vec::new();
                    for _ in 0..3 {
                        items.push(sync!(co, q.get())?);
                    }
                    tprint!("{} {repr} {items:?}", stringify!($kind));
                }};
            }
            put_then_get_three!(Queue);
            put_then_get_three!(LifoQueue);
            put_then_get_three!(PriorityQueue);

            // (i32, char) prints like Python's (int, str) tuples.
            let pq = PriorityQueue::new(0);
            for item in [
                (5, 'e'),
                (1, 'a'),
                (4, 'd'),
                (2, 'b'),
                (3, 'c'),
                (1, 'z'),
                (0, 'y'),
            ] {
                pq.put_nowait(item)?;
            }
            let repr = format!("{pq:?}");
            let heap = repr
                .split("_queue=")
                .nth(1)
                .unwrap()
                .split(" tasks=")
                .next()
                .unwrap();
            tprint!("heap order: {heap}");
            let popped = (0..7)
                .map(|_| pq.get_nowait())
                .collect::<Result<Vec<_>>>()?;
            tprint!("popped: {popped:?}");

            let q = Queue::<u64>::new(0);
            if let Err(e) = q.task_done() {
                tprint!("ValueError: {}", py_str(&e));
            }
            sync!(co, q.join())?;
            tprint!("join on empty returns at once");
            for i in 0..100 {
                q.put_nowait(i)?;
            }
            let repr = format!("{q:?}");
            tprint!(
                "{} tasks {}",
                repr.split(" _queue").next().unwrap(),
                repr.split("tasks=").nth(1).unwrap()
            );
            let accumulator = Rc::new(Cell::new(0u64));
            let running = Rc::new(Cell::new(true));
            let worker = |_name: usize| {
                let (q, acc, running) = (q.clone(), accumulator.clone(), running.clone());
                body!(move |co| -> Result<()> {
                    while running.get() {
                        let item = sync!(co, q.get())?;
                        acc.set(acc.get() + item);
                        q.task_done()?;
                    }
                    Ok(())
                })
            };
            let tasks = (0..2)
                .map(|n| spawn!(lp(), worker(n)))
                .collect::<Result<Vec<_>>>()?;
            sync!(co, q.join())?;
            tprint!("joined, sum {} {q:?}", accumulator.get());
            running.set(false);
            for _ in &tasks {
                q.put_nowait(0)?;
            }
            wait!(co, gather(&tasks)?)?;
            tprint!("workers done {q:?}");
            Ok(())
        })
        .unwrap();
    });
}

// ---------------------------------------------------------------------------------------------

fn q_maxsize() -> impl Body<()> {
    body!(move |co| -> Result<()> {
        let q = Queue::new(2);
        let have_been_put: Rc<RefCell<Vec<i32>>> = Rc::default();
        let (q2, h) = (q.clone(), have_been_put.clone());
        let t = spawn!(lp(), move |co| {
            for i in 0..3 {
                sync!(co, q2.put(i))?;
                h.borrow_mut().push(i);
            }
            Ok(true)
        })?;
        for _ in 0..2 {
            sleep!(co, ZERO)?;
        }
        tprint!("putter blocked after {:?} {q:?}", have_been_put.borrow());
        tprint!("get {}", sync!(co, q.get())?);
        sleep!(co, ZERO)?;
        tprint!("putter resumed {:?}", have_been_put.borrow());
        let (a, b) = (sync!(co, q.get())?, sync!(co, q.get())?);
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
                    let item = sync!(co, q.get())?;
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
        let t1 = spawn!(lp(), move |co| sync!(co, q1.get()))?;
        let q2 = q.clone();
        let t2 = spawn!(lp(), move |co| sync!(co, q2.get()))?;
        sleep!(co, ZERO)?;
        t1.cancel(None);
        sleep!(co, ZERO)?;
        tprint!("t1 done {}", py_bool(t1.done()));
        sync!(co, q.put('a'))?;
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
            spawn!(lp(), move |co| sync!(co, q.put(item)))?;
        }
        let (a, b) = (sync!(co, q.get())?, sync!(co, q.get())?);
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
                        sync!(co, qp.put(i))?;
                        lp_.borrow_mut().push(format!("('put', {i})"));
                    }
                    Ok(())
                })?;
                let (qc, lc) = (q.clone(), log.clone());
                group_spawn!(tg, move |co| {
                    for _ in 0..5 {
                        let item = sync!(co, qc.get())?;
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
        match call_co!(co, [q2], wait_for_fn(co, Some(ms(10)), move |co| q2.get(co))) {
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
        let mut reader = spawn!(lp(), move |co| sync!(co, qr.get()))?;
        sleep!(co, ZERO)?;
        q.put_nowait(1)?;
        q.put_nowait(2)?;
        reader.cancel(None);
        if let Err(e) = wait!(co, reader)
            && e.isinstance::<CancelledError>()
        {
            tprint!("reader cancelled after wake-up");
            let qr = q.clone();
            reader = spawn!(lp(), move |co| sync!(co, qr.get()))?;
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
                        group_spawn!(tg, move |co| sync!(co, q.get()))
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
        let writer = spawn!(lp(), move |co| sync!(co, qw.put(2)))?;
        sleep!(co, ZERO)?;
        tprint!("get {}", q.get_nowait()?);
        writer.cancel(None);
        if let Err(e) = wait!(co, writer)
            && e.isinstance::<CancelledError>()
        {
            tprint!("writer cancelled after wake-up");
            let qw = q.clone();
            let writer = spawn!(lp(), move |co| sync!(co, qw.put(2)))?;
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
            spawn!(lp(), move |co| sync!(co, q.put(item)))
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
                    group_spawn!(tg, move |co| sync!(co, q.put(i)))?;
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
        let put_task = spawn!(lp(), move |co| sync!(co, q.put(1)))?;
        sleep!(co, ZERO)?;
        tprint!("putters: {}", n_queued(&queue, "_putters"));
        put_task.cancel(None);
        if let Err(e) = wait!(co, put_task)
            && e.isinstance::<CancelledError>()
        {
            tprint!("cancelled; putters: {}", n_queued(&queue, "_putters"));
        }
        let q = queue.clone();
        let put_task = spawn!(lp(), move |co| sync!(co, q.put(1)))?;
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

