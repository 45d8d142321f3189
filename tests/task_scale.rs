//! Many tasks at once, and the stack arenas under them: 100,000 suspended tasks, the
//! mprotect fallback's cap (a refusal the process survives), stack overflow reports with
//! both guard kinds, stacks freed on another thread, and `yield_from` that cannot overflow.
//!
//! The guard kind and the stack limit are read once per process, so the tests that set
//! them run this binary again as a child with TULIP_SCALE_CHILD naming the test.

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

use anyhow::Result;
use tulip::generator::{StackGuard, stack_arena_stats, stack_pool_stats};
use tulip::{ErrorExt, EventLoop, Generator, GeneratorState, RuntimeError, Task, gather, py_repr};

fn run_child(test: &str, env: &[(&str, &str)]) -> std::process::Output {
    Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env("TULIP_SCALE_CHILD", test)
        .env_remove("TULIP_STACK_GUARD")
        .env_remove("TULIP_STACK_LIMIT")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn is_child(test: &str) -> bool {
    std::env::var("TULIP_SCALE_CHILD").is_ok_and(|v| v == test)
}

/// The guard kinds to test: mprotect always, madvise where the kernel has it.
fn guard_envs() -> Vec<&'static str> {
    let mut kinds = vec!["mprotect"];
    if stack_arena_stats().guard == StackGuard::Madvise {
        kinds.push("auto");
    }
    kinds
}

/// n tasks that all wait for one future, then return `i * 3`.
fn suspend_many(lp: &EventLoop, n: usize) -> (tulip::Future<()>, Vec<Result<Task<usize>>>) {
    let fut = lp.create_future::<()>();
    let tasks = (0..n)
        .map(|i| {
            let fut = fut.clone();
            lp.create_task(move |co| {
                co.wait(&fut)?;
                Ok(i * 3)
            })
        })
        .collect();
    (fut, tasks)
}

#[test]
fn a_hundred_thousand_suspended_tasks_finish_with_their_results() {
    let n = 100_000;
    let lp = EventLoop::new().unwrap();
    let (fut, tasks) = suspend_many(&lp, n);
    let tasks: Vec<Task<usize>> = tasks.into_iter().map(|t| t.unwrap()).collect();
    let probe = lp.create_future::<()>();
    let p = probe.clone();
    lp.call_soon(move || {
        let _ = p.set_result(());
    })
    .unwrap();
    lp.run_until_complete(&probe).unwrap(); // every task ran to its wait
    assert!(tasks.iter().all(|t| !t.done()));
    assert!(
        stack_arena_stats().carved >= n,
        "100,000 suspended tasks hold 100,000 stacks"
    );
    fut.set_result(()).unwrap();
    let results = lp.run_until_complete(&gather(&tasks).unwrap()).unwrap();
    assert_eq!(results, (0..n).map(|i| i * 3).collect::<Vec<_>>());
    lp.close().unwrap();
    let cache = stack_pool_stats();
    assert!(cache.idle <= 1024, "a thread keeps a bounded cache");
}

// ---- the mprotect fallback's cap ----

#[test]
fn child_fallback_cap() {
    if !is_child("child_fallback_cap") {
        return;
    }
    let stats = stack_arena_stats();
    assert_eq!(stats.guard, StackGuard::Mprotect);
    let limit = stats.limit;
    let lp = EventLoop::new().unwrap();
    // Twice the cap: the tasks past it fail with the RuntimeError, the rest suspend.
    let (fut, tasks) = suspend_many(&lp, limit + 1000);
    let tasks: Vec<Task<usize>> = tasks.into_iter().map(|t| t.unwrap()).collect();
    let probe = lp.create_future::<()>();
    let p = probe.clone();
    lp.call_soon(move || {
        let _ = p.set_result(());
    })
    .unwrap();
    lp.run_until_complete(&probe).unwrap();
    let failed: Vec<&Task<usize>> = tasks.iter().filter(|t| t.done()).collect();
    let refused = failed.len();
    let e = failed[0].exception().unwrap().expect("an error");
    assert!(e.isinstance::<RuntimeError>(), "{e}");
    let msg = py_repr(&e);
    println!("refused {refused} of {}: {msg}", tasks.len());
    // The process goes on: memory, new mappings (big allocations are mmaps), the tasks
    // that got a stack, and new tasks once those are done.
    let big: Vec<Vec<u8>> = (0..64).map(|i| vec![i as u8; 1 << 20]).collect();
    assert_eq!(
        big.iter().map(|v| v[7] as usize).sum::<usize>(),
        63 * 64 / 2
    );
    fut.set_result(()).unwrap();
    for (i, t) in tasks.iter().enumerate() {
        let _ = lp.run_until_complete(t.future());
        if !failed.iter().any(|f| std::ptr::eq(*f, t)) {
            assert_eq!(t.result().unwrap(), i * 3);
        }
    }
    let (fut, again) = suspend_many(&lp, limit);
    let again: Vec<Task<usize>> = again.into_iter().map(|t| t.unwrap()).collect();
    fut.set_result(()).unwrap();
    let r = lp.run_until_complete(&gather(&again).unwrap()).unwrap();
    assert_eq!(r.len(), limit);
    lp.close().unwrap();
    println!(
        "refused={refused} limit={limit} carved={}",
        stack_arena_stats().carved
    );
}

fn check_fallback_cap(env: &[(&str, &str)]) -> String {
    let out = run_child("child_fallback_cap", env);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("refused=1000 "), "{stdout}");
    assert!(
        stdout.contains("RuntimeError('cannot make another coroutine stack: "),
        "{stdout}"
    );
    stdout
}

#[test]
fn the_fallback_refuses_at_a_set_limit_and_the_process_goes_on() {
    let out = check_fallback_cap(&[
        ("TULIP_STACK_GUARD", "mprotect"),
        ("TULIP_STACK_LIMIT", "500"),
    ]);
    assert!(
        out.contains("stacks exist, the limit is 500 (set by TULIP_STACK_LIMIT=500)"),
        "{out}"
    );
}

#[test]
fn the_fallback_refuses_below_max_map_count_and_the_process_goes_on() {
    let out = check_fallback_cap(&[("TULIP_STACK_GUARD", "mprotect")]);
    assert!(out.contains("vm.max_map_count = "), "{out}");
    assert!(out.contains("sysctl vm.max_map_count=N"), "{out}");
    assert!(out.contains("TULIP_STACK_GUARD=mprotect"), "{out}");
}

// ---- stack overflow reports, with both guard kinds ----

fn recurse(n: u64) -> u64 {
    let buf = std::hint::black_box([n; 64]);
    if n == 0 { 0 } else { recurse(n - 1) + buf[3] }
}

/// A suspended neighbour: the slot carved right before the overflowing one.
fn neighbour() -> Generator<u64> {
    let g = Generator::<u64>::new(|co| {
        let canary = std::hint::black_box([0xC0FFEEu64; 32]);
        co.yield_(1)?;
        assert!(
            canary.iter().all(|x| *x == 0xC0FFEE),
            "neighbour overwritten"
        );
        Ok(())
    });
    g.next().unwrap();
    g
}

#[test]
fn child_overflow_generator() {
    if !is_child("child_overflow_generator") {
        return;
    }
    let _n = neighbour();
    let g = Generator::<u64>::new(|co| {
        let r = recurse(u64::MAX);
        co.yield_(r)
    });
    let _ = g.next();
}

#[test]
fn child_overflow_task() {
    if !is_child("child_overflow_task") {
        return;
    }
    let lp = EventLoop::new().unwrap();
    let fut = lp.create_future::<()>();
    let f = fut.clone();
    let _waiting = lp.create_task(move |co| co.wait(&f)).unwrap();
    let t = lp
        .create_task(|co| {
            co.yield_now()?;
            Ok(recurse(u64::MAX))
        })
        .unwrap();
    let _ = lp.run_until_complete(&t);
}

/// A sub whose stack is smaller than what is left on its delegator's: it runs inline.
#[test]
fn child_overflow_inline_sub() {
    if !is_child("child_overflow_inline_sub") {
        return;
    }
    let _n = neighbour();
    let g = Generator::<u64, (), u64>::with_stack_size(1 << 20, |co| {
        co.yield_from(Generator::with_stack_size(64 * 1024, |_co| {
            Ok(recurse(u64::MAX))
        }))
    });
    let _ = g.next();
}

/// A sub whose stack is as big as its delegator's: it runs on its own.
#[test]
fn child_overflow_delegated_sub() {
    if !is_child("child_overflow_delegated_sub") {
        return;
    }
    let _n = neighbour();
    let g = Generator::<u64, (), u64>::new(|co| {
        co.yield_from(Generator::new(|_co| Ok(recurse(u64::MAX))))
    });
    let _ = g.next();
}

fn check_overflow(child: &str, body: &str, kib: usize) {
    for guard in guard_envs() {
        let out = run_child(child, &[("TULIP_STACK_GUARD", guard)]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGABRT),
            "guard {guard}: {stderr}"
        );
        let want = format!("tulip: stack overflow in generator `task_scale::{child}::{body}`");
        assert!(stderr.contains(&want), "guard {guard}: {want}\n{stderr}");
        assert!(
            stderr.contains(&format!(" = {kib} KiB); give it a bigger stack")),
            "guard {guard}: {stderr}"
        );
        assert!(!stderr.contains("neighbour overwritten"), "{stderr}");
    }
}

#[test]
fn a_generator_overflow_is_reported_with_either_guard() {
    check_overflow("child_overflow_generator", "{{closure}}", 67);
}

#[test]
fn a_task_overflow_is_reported_with_either_guard() {
    check_overflow("child_overflow_task", "{{closure}}", 67);
}

#[test]
fn an_inline_sub_overflow_names_the_sub() {
    // named after the sub, sized after the stack it overflowed (its delegator's 1 MiB)
    check_overflow(
        "child_overflow_inline_sub",
        "{{closure}}::{{closure}}",
        1027,
    );
}

#[test]
fn a_delegated_sub_overflow_names_the_sub() {
    check_overflow(
        "child_overflow_delegated_sub",
        "{{closure}}::{{closure}}",
        67,
    );
}

// ---- yield_from never turns working code into an overflow ----

/// Uses about 180 KiB of its stack, then returns.
fn big_locals() -> u64 {
    let mut buf = [7u8; 180 * 1024];
    std::hint::black_box(&mut buf);
    buf.iter().map(|b| *b as u64).sum()
}

/// Recurses until about `depth` bytes of stack are used, then runs `f`.
fn at_depth(depth: usize, f: &mut dyn FnMut() -> u64) -> u64 {
    let mut buf = [1u8; 4096];
    std::hint::black_box(&mut buf);
    if depth <= 4096 {
        f() + buf[9] as u64
    } else {
        at_depth(depth - 4096, f) + buf[9] as u64
    }
}

#[test]
fn a_sub_that_completes_on_its_own_stack_completes_when_delegated_to() {
    let sub = || Generator::<u64, (), u64>::with_stack_size(256 * 1024, |_co| Ok(big_locals()));
    assert_eq!(
        sub().next().unwrap(),
        GeneratorState::Returned(180 * 1024 * 7)
    );
    let g = Generator::<u64, (), u64>::with_stack_size(256 * 1024, move |co| {
        // 100 KiB deep: 156 KiB left, less than the sub's own 256 KiB, so not inline.
        Ok(at_depth(100 * 1024, &mut || co.yield_from(sub()).unwrap()))
    });
    let r = g.next().unwrap().as_returned().unwrap();
    assert_eq!(r, 180 * 1024 * 7 + 25);
}

// ---- stacks freed on other threads ----

/// Moves a value to another thread; only for generators no other thread can see.
struct SendBox<T>(T);
// SAFETY: each value is used by one thread at a time (moved, never shared).
unsafe impl<T> Send for SendBox<T> {}

#[test]
fn child_stacks_freed_on_other_threads() {
    if !is_child("child_stacks_freed_on_other_threads") {
        return;
    }
    let before = stack_arena_stats();
    for round in 0..20 {
        // Made and suspended here...
        let gens: Vec<Generator<u64>> = (0..500)
            .map(|i| {
                let g = Generator::<u64>::new(move |co| {
                    co.yield_(i)?;
                    Ok(())
                });
                g.next().unwrap();
                g
            })
            .collect();
        let gens = SendBox(gens);
        // ...finished and freed there: the slots go to that thread's cache, then to the
        // shared free list when it exits.
        std::thread::spawn(move || {
            let gens = gens;
            for g in &gens.0 {
                assert!(g.next().unwrap().is_returned());
            }
            drop(gens);
            let s = stack_pool_stats();
            assert_eq!((s.idle, s.mapped, s.reused), (500, 0, 0), "round {round}");
        })
        .join()
        .unwrap();
    }
    let after = stack_arena_stats();
    // Every round after the first took its stacks back from the shared list instead of
    // carving new ones, and no slot is lost.
    assert!(
        after.carved - before.carved <= 1000,
        "{before:?} -> {after:?}"
    );
    assert_eq!(
        after.shared_idle + stack_pool_stats().idle,
        after.carved,
        "{after:?}"
    );
    println!("ok: {after:?}");
}

#[test]
fn stacks_freed_on_other_threads_go_back_to_the_shared_list() {
    let out = run_child("child_stacks_freed_on_other_threads", &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("ok: "),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---- the default stack fits a panic's backtrace ----

#[test]
fn child_panic_with_backtrace() {
    if !is_child("child_panic_with_backtrace") {
        return;
    }
    let g = Generator::<u64>::new(|co| {
        co.yield_(1)?;
        panic!("boom");
    });
    g.next().unwrap();
    assert!(g.next().is_err());
    println!("ok");
}

#[test]
fn a_panic_with_a_full_backtrace_fits_the_default_stack() {
    for guard in guard_envs() {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["child_panic_with_backtrace", "--exact", "--nocapture"])
            .env("TULIP_SCALE_CHILD", "child_panic_with_backtrace")
            .env("TULIP_STACK_GUARD", guard)
            .env("RUST_BACKTRACE", "full")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(
            stderr.contains("boom") && stderr.contains("stack backtrace"),
            "{stderr}"
        );
    }
}
