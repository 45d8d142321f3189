//! std futures from tulip tasks (`co.wait_std`) and tulip futures from `async` code
//! (`IntoFuture`): wakes from other threads, the `futures` combinators and streams, channels,
//! cancellation, stale wakers, and a tokio runtime on another thread.

use std::cell::Cell;
use std::future::IntoFuture;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use anyhow::Result;
use futures::StreamExt;
use futures::future::Either;
use tulip::{CancelledError, ErrorExt, TaskCo, ValueError, get_running_loop, sleep};

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Pending until a flag is set; hands each poll's waker out and counts its polls.
struct Gate {
    open: Arc<AtomicBool>,
    wakers: mpsc::Sender<Waker>,
    polls: Arc<AtomicUsize>,
}

impl std::future::Future for Gate {
    type Output = &'static str;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<&'static str> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        if self.open.load(Ordering::SeqCst) {
            return Poll::Ready("open");
        }
        let _ = self.wakers.send(cx.waker().clone());
        Poll::Pending
    }
}

/// A tulip future resolved with `v` after `ms` milliseconds.
fn later<T: 'static>(ms: u64, v: T) -> Result<tulip::Future<T>> {
    let lp = get_running_loop()?;
    let fut = lp.create_future::<T>();
    let f = fut.clone();
    lp.call_later(Duration::from_millis(ms), move || {
        let _ = f.set_result(v);
    })?;
    Ok(fut)
}

#[test]
fn woken_by_a_thread_after_a_sleep() {
    tulip::run(|co| {
        let shared = Arc::new(Mutex::new((false, None::<Waker>)));
        let s = shared.clone();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            let mut g = s.lock().unwrap();
            g.0 = true;
            if let Some(w) = g.1.take() {
                w.wake();
            }
        });
        let start = Instant::now();
        let v = co.wait_std(std::future::poll_fn(|cx| {
            let mut g = shared.lock().unwrap();
            if g.0 {
                Poll::Ready(7)
            } else {
                g.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }))?;
        assert_eq!(v, 7);
        assert!(start.elapsed() >= Duration::from_millis(20));
        thread.join().unwrap();
        Ok(())
    })
    .unwrap();
}

#[test]
fn join_of_two_tulip_futures() {
    tulip::run(|co| {
        let a = later(10, "a")?;
        let b = later(5, 2u32)?;
        let (ra, rb) =
            co.wait_std(async { futures::join!(a.into_future(), (&b).into_future()) })?;
        assert_eq!((ra?, rb?), ("a", 2));
        assert_eq!(b.result()?, 2);
        // A task too, and its error comes through as the error.
        let lp = get_running_loop()?;
        let ok = lp.create_task(|co| {
            sleep(co, Duration::from_millis(5))?;
            Ok(5)
        })?;
        let bad = lp.create_task(|_| -> Result<u8> { Err(ValueError::new("bad").into()) })?;
        let (ok, bad) =
            co.wait_std(async { futures::join!(ok.into_future(), (&bad).into_future()) })?;
        assert_eq!(ok?, 5);
        let e = bad.unwrap_err();
        assert!(e.isinstance::<ValueError>(), "{e:?}");
        Ok(())
    })
    .unwrap();
}

#[test]
fn select_with_a_tulip_sleep() {
    tulip::run(|co| {
        let lp = get_running_loop()?;
        let slept = lp.create_task(|co| sleep(co, Duration::from_millis(10)).map(|_| "slept"))?;
        let dropped = Arc::new(AtomicBool::new(false));
        let d = DropFlag(dropped.clone());
        let never = async move {
            let _d = d;
            futures::future::pending::<()>().await;
        };
        let won = co.wait_std(futures::future::select(
            Box::pin(never),
            slept.into_future(),
        ))?;
        match won {
            Either::Right((r, _never)) => assert_eq!(r?, "slept"),
            Either::Left(_) => panic!("the pending branch won"),
        }
        assert!(dropped.load(Ordering::SeqCst));
        // The other way: the tulip side loses and is left alone (not cancelled).
        let slow = later(50, 1)?;
        let won = co.wait_std(futures::future::select(
            Box::pin(async { later(1, 2).unwrap().await }),
            (&slow).into_future(),
        ))?;
        assert!(matches!(won, Either::Left((Ok(2), _))));
        assert!(!slow.done());
        assert_eq!(co.wait(&slow)?, 1);
        Ok(())
    })
    .unwrap();
}

#[test]
fn futures_select_macro() {
    tulip::run(|co| {
        let fast = later(5, 1u8)?;
        let slow = later(1000, 2u8)?;
        let r = co.wait_std(async {
            futures::select! {
                a = futures::FutureExt::fuse(fast.into_future()) => a,
                b = futures::FutureExt::fuse(slow.into_future()) => b,
            }
        })?;
        assert_eq!(r?, 1);
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_stream_fed_by_another_task() {
    tulip::run(|co| {
        let lp = get_running_loop()?;
        let (tx, rx) = futures::channel::mpsc::unbounded::<u32>();
        let producer = lp.create_task(move |co| {
            for i in 1..=5 {
                sleep(co, Duration::from_millis(1))?;
                tx.unbounded_send(i)?;
            }
            Ok(())
        })?;
        let got: Vec<u32> = co.wait_std(rx.map(|x| x * 10).collect())?;
        assert_eq!(got, [10, 20, 30, 40, 50]);
        co.wait(&producer)?;
        // A stream of tulip futures, in order.
        let futs = vec![later(6, 1)?, later(2, 2)?, later(4, 3)?];
        let got: Vec<u32> = co.wait_std(
            futures::stream::iter(futs)
                .then(|f| async move { f.await.unwrap() })
                .collect(),
        )?;
        assert_eq!(got, [1, 2, 3]);
        Ok(())
    })
    .unwrap();
}

#[test]
fn async_channel_fed_by_a_thread() {
    tulip::run(|co| {
        let (tx, rx) = async_channel::bounded::<u64>(4);
        let thread = std::thread::spawn(move || {
            for i in 0..1000 {
                tx.send_blocking(i).unwrap();
            }
        });
        let sum = co.wait_std(async {
            let mut sum = 0;
            while let Ok(x) = rx.recv().await {
                sum += x;
            }
            sum
        })?;
        assert_eq!(sum, 999 * 1000 / 2);
        thread.join().unwrap();
        Ok(())
    })
    .unwrap();
}

#[test]
fn cancelled_while_waiting() {
    tulip::run(|co| {
        let lp = get_running_loop()?;
        let dropped = Arc::new(AtomicBool::new(false));
        let d = DropFlag(dropped.clone());
        let reached = Rc::new(Cell::new(false));
        let r = reached.clone();
        let task = lp.create_task(move |co: &TaskCo| {
            co.wait_std(async move {
                let _d = d;
                futures::future::pending::<()>().await;
            })?;
            r.set(true);
            Ok(())
        })?;
        sleep(co, Duration::from_millis(5))?;
        assert!(!dropped.load(Ordering::SeqCst));
        assert!(task.cancel(Some("stop")));
        let e = co.wait(&task).unwrap_err();
        let c = e.exc::<CancelledError>().expect("CancelledError");
        assert_eq!(c.to_string(), "stop");
        assert!(task.cancelled());
        assert!(dropped.load(Ordering::SeqCst));
        assert!(!reached.get());
        Ok(())
    })
    .unwrap();
}

#[test]
fn waking_after_the_task_is_gone() {
    let polls = Arc::new(AtomicUsize::new(0));
    let (tx, wakers) = mpsc::channel::<Waker>();
    let p = polls.clone();
    let kept = tulip::run(move |co| {
        let lp = get_running_loop()?;
        let gate = Gate {
            open: Arc::new(AtomicBool::new(false)),
            wakers: tx,
            polls: p.clone(),
        };
        let task = lp.create_task(move |co: &TaskCo| co.wait_std(gate))?;
        sleep(co, Duration::from_millis(2))?;
        task.cancel(None);
        assert!(co.wait(&task).unwrap_err().isinstance::<CancelledError>());
        let waker = wakers.recv()?;
        assert_eq!(p.load(Ordering::SeqCst), 1);
        // Woken on the loop thread, then from a thread, with the loop running: nothing runs.
        waker.wake_by_ref();
        let w = waker.clone();
        std::thread::spawn(move || w.wake()).join().unwrap();
        sleep(co, Duration::from_millis(5))?;
        assert_eq!(p.load(Ordering::SeqCst), 1);
        Ok(waker)
    })
    .unwrap();
    // After the loop closed, from a thread that then drops the last reference.
    std::thread::spawn(move || {
        kept.wake_by_ref();
        kept.wake();
    })
    .join()
    .unwrap();
    assert_eq!(polls.load(Ordering::SeqCst), 1);
}

#[test]
fn the_loop_closing_unwinds_a_wait() {
    let dropped = Arc::new(AtomicBool::new(false));
    let (tx, wakers) = mpsc::channel::<Waker>();
    let lp = tulip::EventLoop::new().unwrap();
    let d = DropFlag(dropped.clone());
    let gate = Gate {
        open: Arc::new(AtomicBool::new(false)),
        wakers: tx,
        polls: Arc::new(AtomicUsize::new(0)),
    };
    let task = lp
        .create_task(move |co: &TaskCo| {
            let _d = d;
            co.wait_std(gate)
        })
        .unwrap();
    let l = lp.clone();
    lp.call_later(Duration::from_millis(2), move || l.stop())
        .unwrap();
    lp.run_forever().unwrap();
    assert!(!task.done());
    let waker = wakers.recv().unwrap();
    lp.close().unwrap();
    assert!(dropped.load(Ordering::SeqCst));
    drop(task);
    drop(lp);
    std::thread::spawn(move || waker.wake()).join().unwrap();
}

/// Pending `n` times, waking itself each time: a poll-again-soon future.
struct YieldTimes(u32);

impl std::future::Future for YieldTimes {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            return Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[test]
fn a_self_waking_future_lets_the_loop_run() {
    tulip::run(|co| {
        let lp = get_running_loop()?;
        let ticks = Rc::new(Cell::new(0));
        let t = ticks.clone();
        let ticker = lp.create_task(move |co| -> Result<()> {
            loop {
                t.set(t.get() + 1);
                co.yield_now()?;
            }
        })?;
        co.yield_now()?;
        let before = ticks.get();
        co.wait_std(YieldTimes(10))?;
        assert!(ticks.get() >= before + 10, "{} {}", before, ticks.get());
        ticker.cancel(None);
        let _ = co.wait(&ticker);
        Ok(())
    })
    .unwrap();
}

#[test]
fn awaiting_cancelled_and_failed_futures() {
    tulip::run(|co| {
        let lp = get_running_loop()?;
        let f = lp.create_future::<u8>();
        let g = f.clone();
        lp.call_soon(move || {
            g.cancel(Some("gone"));
        })?;
        let e = co.wait_std(f)?.unwrap_err();
        assert!(e.isinstance::<CancelledError>());
        let f = lp.create_future::<u8>();
        f.set_exception(ValueError::new("v").into())?;
        let e = co.wait_std(f.into_future())?.unwrap_err();
        assert!(e.isinstance::<ValueError>());
        // Ready at the first poll: no suspension.
        assert_eq!(co.wait_std(async { 3 })?, 3);
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_tokio_runtime_on_another_thread() {
    tulip::run(|co| {
        let rt = tokio::runtime::Builder::new_current_thread().build()?;
        let handle = rt.handle().clone();
        let (stop, stopped) = futures::channel::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || rt.block_on(stopped));
        let jobs: Vec<_> = (0..4u64)
            .map(|i| {
                handle.spawn(async move {
                    tokio::task::spawn_blocking(move || {
                        std::thread::sleep(Duration::from_millis(5 * i));
                        i * i
                    })
                    .await
                    .unwrap()
                })
            })
            .collect();
        let got = co.wait_std(futures::future::join_all(jobs))?;
        let got: Vec<u64> = got.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(got, [0, 1, 4, 9]);
        stop.send(()).unwrap();
        thread.join().unwrap()?;
        Ok(())
    })
    .unwrap();
}
