//! Threads, subprocesses and signals beyond the Python parity cases: many threads at once,
//! panics, cancellation races, pipes closed early.
use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use tulip::Stdio::{Inherit, Piped};
use tulip::{
    CancelledError, ErrorExt, EventLoop, Panic, create_subprocess_exec, create_subprocess_shell,
    gather, get_running_loop, run, run_coroutine_threadsafe, sleep, to_thread,
};

#[test]
fn a_hundred_concurrent_to_thread_calls() {
    let max_threads = Rc::new(Cell::new(0));
    let seen = max_threads.clone();
    let results = run(move |co| {
        let lp = get_running_loop()?;
        let mut tasks = Vec::new();
        for i in 0..100u64 {
            tasks.push(lp.create_task(move |co| {
                to_thread(co, move || {
                    std::thread::sleep(Duration::from_millis(1));
                    let name = std::thread::current().name().unwrap_or("").to_string();
                    assert!(name.starts_with("asyncio_"), "{name}");
                    i * i
                })
            })?);
        }
        let results = co.wait(&gather(tasks.iter())?)?;
        seen.set(lp.default_executor_threads());
        Ok(results)
    })
    .unwrap();
    assert_eq!(results, (0..100u64).map(|i| i * i).collect::<Vec<_>>());
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(max_threads.get() >= 1 && max_threads.get() <= (cpus + 4).min(32));
}

#[test]
fn a_panicking_thread_fails_only_its_future() {
    run(|co| {
        let lp = get_running_loop()?;
        let bad = lp.run_in_executor(|| -> u8 { panic!("worker exploded") })?;
        let good = lp.run_in_executor(|| 7u8)?;
        let err = co.wait(&bad).unwrap_err();
        assert_eq!(err.exc::<Panic>().unwrap().msg, "worker exploded");
        assert_eq!(co.wait(&good)?, 7);
        // The worker survived its job's panic and still takes work.
        assert_eq!(to_thread(co, || 8u8)?, 8);
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_cancelled_future_ignores_the_late_result() {
    let reported = Rc::new(Cell::new(0));
    let r = reported.clone();
    run(move |co| {
        let lp = get_running_loop()?;
        lp.set_exception_handler(Some(move |_: &EventLoop, _: &tulip::ExceptionContext| {
            r.set(r.get() + 1)
        }));
        let started = Arc::new(Barrier::new(2));
        let release = Arc::new(Barrier::new(2));
        let (s, rl) = (started.clone(), release.clone());
        let delivered = Arc::new(AtomicUsize::new(0));
        let fut = lp.run_in_executor(move || {
            s.wait();
            rl.wait();
            5
        })?;
        started.wait();
        assert!(fut.cancel(None));
        release.wait();
        // The late result arrives through call_soon_threadsafe and finds a done future; a
        // later job in the same (single) worker proves the earlier one has finished.
        let d = delivered.clone();
        to_thread(co, move || d.fetch_add(1, Ordering::SeqCst))?;
        for _ in 0..10 {
            sleep(co, Duration::from_millis(1))?;
        }
        assert!(fut.cancelled());
        assert!(co.wait(&fut).unwrap_err().isinstance::<CancelledError>());
        Ok(())
    })
    .unwrap();
    assert_eq!(reported.get(), 0);
}

#[test]
fn a_job_cancelled_before_it_starts_never_runs() {
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    run(move |co| {
        let lp = get_running_loop()?;
        // Occupy every worker so the next job stays queued.
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let workers = (cpus + 4).min(32);
        let gate = Arc::new(Barrier::new(workers + 1));
        let mut busy = Vec::new();
        for _ in 0..workers {
            let g = gate.clone();
            busy.push(lp.run_in_executor(move || {
                g.wait();
            })?);
        }
        let queued = lp.run_in_executor(move || {
            r.fetch_add(1, Ordering::SeqCst);
        })?;
        queued.cancel(None);
        // As in asyncio, the cancel reaches the job through a done callback (wrap_future's
        // `_call_check_cancel`), which runs in the next iteration.
        sleep(co, Duration::ZERO)?;
        gate.wait();
        for b in &busy {
            co.wait(b)?;
        }
        // Anything queued after the cancelled job runs after it would have.
        to_thread(co, || ())?;
        Ok(())
    })
    .unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn cancelling_a_concurrent_future_cancels_its_task() {
    run(|co| {
        let handle = get_running_loop()?.threadsafe_handle()?;
        let outcome = to_thread(co, move || {
            let cf = run_coroutine_threadsafe(&handle, |co| {
                sleep(co, Duration::from_secs(60))?;
                Ok(1)
            })
            .unwrap();
            let waited = cf.result(Some(Duration::from_millis(20)));
            let timed_out = waited.unwrap_err().isinstance::<tulip::TimeoutError>();
            let cancelled = cf.cancel();
            let after = cf.result(None).unwrap_err().isinstance::<CancelledError>();
            (timed_out, cancelled, after, cf.cancelled())
        })?;
        assert_eq!(outcome, (true, true, true, true));
        // The task got the cancel on the loop's thread and finished.
        for _ in 0..5 {
            sleep(co, Duration::ZERO)?;
        }
        assert!(tulip::all_tasks(None)?.len() == 1);
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_concurrent_future_fails_when_the_loop_closes_first() {
    let lp = EventLoop::new().unwrap();
    let handle = lp.threadsafe_handle().unwrap();
    let cf = run_coroutine_threadsafe(&handle, |_| Ok(1)).unwrap();
    lp.close().unwrap();
    let err = cf.result(Some(Duration::from_secs(5))).unwrap_err();
    assert!(err.isinstance::<tulip::RuntimeError>(), "{err}");
    assert!(run_coroutine_threadsafe(&handle, |_| Ok(1)).is_err());
}

const NO_ARGS: [&str; 0] = [];

#[test]
fn a_child_that_closes_stdout_early() {
    run(|co| {
        // stdout ends long before the child does; reading it does not wait for the exit.
        let proc = create_subprocess_shell(
            co,
            "echo partial; exec >&-; read line; echo \"$line\" >&2; exit 4",
            Piped,
            Piped,
            Piped,
        )?;
        let out = proc.read_stdout(co)?;
        assert_eq!(out, b"partial\n");
        assert_eq!(proc.returncode(), None);
        proc.write_stdin_and_close(co, b"late\n")?;
        assert_eq!(proc.read_stderr(co)?, b"late\n");
        assert_eq!(proc.wait(co)?, 4);
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_child_that_does_not_read_its_input() {
    run(|co| {
        // 4 MiB into a child that reads 10 bytes and exits: EPIPE is not an error.
        let proc = create_subprocess_exec(co, "head", ["-c", "10"], Piped, Piped, Inherit)?;
        let input = vec![b'x'; 4 << 20];
        let (out, err) = proc.communicate(co, Some(&input))?;
        assert_eq!(out.unwrap(), b"xxxxxxxxxx");
        assert!(err.is_none());
        assert_eq!(proc.returncode(), Some(0));
        Ok(())
    })
    .unwrap();
}

#[test]
fn large_output_while_the_loop_runs_other_tasks() {
    run(|co| {
        let lp = get_running_loop()?;
        let ticks = Rc::new(Cell::new(0));
        let t = ticks.clone();
        let ticker = lp.create_task(move |co| {
            for _ in 0..50 {
                t.set(t.get() + 1);
                sleep(co, Duration::ZERO)?;
            }
            Ok(())
        })?;
        let proc = create_subprocess_exec(
            co,
            "head",
            ["-c", "3000000", "/dev/zero"],
            Inherit,
            Piped,
            Inherit,
        )?;
        let (out, _) = proc.communicate(co, None)?;
        assert_eq!(out.unwrap().len(), 3_000_000);
        co.wait(&ticker)?;
        assert_eq!(ticks.get(), 50);
        Ok(())
    })
    .unwrap();
}

#[test]
fn subprocess_errors() {
    run(|co| {
        let missing =
            create_subprocess_exec(co, "/nonexistent/tulip", NO_ARGS, Inherit, Inherit, Inherit);
        let err = missing.unwrap_err();
        let io = err.find::<std::io::Error>().expect("an io::Error");
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
        let proc = create_subprocess_exec(co, "true", NO_ARGS, Inherit, Inherit, Inherit)?;
        assert!(
            proc.communicate(co, Some(b"x"))
                .unwrap_err()
                .isinstance::<tulip::ValueError>()
        );
        assert!(proc.read_stdout(co).is_err());
        proc.wait(co)?;
        Ok(())
    })
    .unwrap();
}

#[test]
fn dropping_a_running_process_kills_it() {
    let pid = run(|co| {
        let proc = create_subprocess_exec(co, "sleep", ["30"], Inherit, Inherit, Inherit)?;
        Ok(proc.pid())
    })
    .unwrap();
    // Killed, then reaped (by the drop itself or its reaper thread): the pid is gone.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    // SAFETY: signal 0 only checks for existence.
    while unsafe { libc::kill(pid as i32, 0) } == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "child {pid} still alive"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn signals_reach_the_loop_that_registered_them() {
    // Two loops on two threads share the process-wide self-pipe; whichever reads a signal
    // forwards it to its owner, whose handler runs on the owner's thread.
    fn on_thread(sig: i32, ready: Arc<Barrier>) -> std::thread::JoinHandle<String> {
        let name = format!("loop-{sig}");
        std::thread::Builder::new()
            .name(name)
            .spawn(move || {
                run(move |co| {
                    let lp = get_running_loop()?;
                    let fut = lp.create_future::<String>();
                    let f = fut.clone();
                    lp.add_signal_handler(sig, move || {
                        let name = std::thread::current().name().unwrap_or("?").to_string();
                        let _ = f.set_result(format!("{sig} on {name}"));
                    })?;
                    ready.wait();
                    co.wait(&fut)
                })
                .unwrap()
            })
            .unwrap()
    }
    let ready = Arc::new(Barrier::new(3));
    let a = on_thread(libc::SIGUSR1, ready.clone());
    let b = on_thread(libc::SIGUSR2, ready.clone());
    ready.wait();
    // SAFETY: both handlers are installed (each loop passed the barrier after adding it).
    unsafe {
        libc::kill(libc::getpid(), libc::SIGUSR1);
        libc::kill(libc::getpid(), libc::SIGUSR2);
    }
    let (ra, rb) = (a.join().unwrap(), b.join().unwrap());
    assert_eq!(ra, "10 on loop-10");
    assert_eq!(rb, "12 on loop-12");
}
