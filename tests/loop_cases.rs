//! The loop's behaviour cases: each test is a Rust port of `tests/cases/loop/NAME.py` and
//! prints the same trace (checked by `common::check_case`).
#[macro_use]
mod common;
use common::{py_bool, run_briefly};

use std::cell::{Cell, RefCell};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use tulip::errors::{py_name, py_str, py_str_repr};
use tulip::{EventLoop, ExceptionContext, get_running_loop, py_bytes_repr};

/// Python's `repr` of a list of strings.
fn str_list<S: AsRef<str>>(items: &[S]) -> String {
    let parts: Vec<String> = items.iter().map(|s| py_str_repr(s.as_ref())).collect();
    format!("[{}]", parts.join(", "))
}

/// A shared list of strings, the port of a Python `list` that callbacks append to.
#[derive(Clone, Default)]
struct Calls(Rc<RefCell<Vec<String>>>);

impl Calls {
    fn push(&self, s: impl Into<String>) {
        self.0.borrow_mut().push(s.into());
    }
    fn adder(&self, s: &str) -> impl FnOnce() + 'static {
        let (me, s) = (self.clone(), s.to_string());
        move || me.push(s)
    }
    fn repr(&self) -> String {
        str_list(&self.0.borrow())
    }
    fn clear(&self) {
        self.0.borrow_mut().clear();
    }
    fn len(&self) -> usize {
        self.0.borrow().len()
    }
}

/// `attempt(label, fn)`: prints the value (`show`) or the error as Python prints it.
fn attempt<T>(label: &str, r: anyhow::Result<T>, show: impl Fn(&T) -> String) {
    match r {
        Ok(v) => tprint!("{label} -> {}", show(&v)),
        Err(e) => tprint!("{label} raises {}: {}", py_name(&e), py_str(&e)),
    }
}

fn none<T>(_: &T) -> String {
    "None".into()
}

fn pair() -> (Rc<UnixStream>, Rc<UnixStream>) {
    let (a, b) = UnixStream::pair().unwrap();
    (Rc::new(a), Rc::new(b))
}

fn recv(s: &UnixStream, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    let got = (&*s).read(&mut buf)?;
    buf.truncate(got);
    Ok(buf)
}

#[test]
fn call_soon_order() {
    common::check_case("loop/call_soon_order", || {
        let lp = EventLoop::new().unwrap();
        let calls = Calls::default();
        let cb = |name: &str| {
            let (calls, name) = (calls.clone(), name.to_string());
            move || {
                tprint!("run {name}");
                calls.push(name);
            }
        };
        let h1 = lp.call_soon(cb("a")).unwrap();
        let h2 = lp.call_soon(cb("b")).unwrap();
        let h3 = lp.call_soon(cb("c")).unwrap();
        h2.cancel();
        tprint!(
            "cancelled: {} {} {}",
            py_bool(h1.cancelled()),
            py_bool(h2.cancelled()),
            py_bool(h3.cancelled())
        );
        let (l, d) = (lp.clone(), cb("d"));
        lp.call_soon(move || {
            tprint!("nest schedules d");
            l.call_soon(d).unwrap();
        })
        .unwrap();
        let l = lp.clone();
        lp.call_soon(move || l.stop()).unwrap();
        lp.run_forever().unwrap();
        tprint!("after the first run: {}", calls.repr());
        run_briefly(&lp);
        tprint!("after the second run: {}", calls.repr());

        let results = Calls::default();
        let (r, l) = (results.clone(), lp.clone());
        let callback = move |a: &str, b: &str| {
            r.push(format!("({}, {})", py_str_repr(a), py_str_repr(b)));
            l.stop();
        };
        lp.call_soon(move || callback("hello", "world")).unwrap();
        lp.run_forever().unwrap();
        tprint!("[{}]", results.0.borrow().join(", "));
        lp.close().unwrap();
    });
}

#[test]
fn timers() {
    common::check_case("loop/timers", || {
        let lp = EventLoop::new().unwrap();
        let calls = Calls::default();
        let secs = Duration::from_secs;
        // call_later(-1) is call_at(time() - 1).
        lp.call_at(lp.time() - secs(1), calls.adder("a")).unwrap();
        lp.call_at(lp.time() - secs(2), calls.adder("b")).unwrap();
        run_briefly(&lp);
        tprint!("{}", calls.repr());
        calls.clear();
        lp.call_later(Duration::ZERO, calls.adder("later(0)"))
            .unwrap();
        lp.call_soon(calls.adder("soon")).unwrap();
        lp.call_at(lp.time() - secs(5), calls.adder("at(past)"))
            .unwrap();
        run_briefly(&lp);
        tprint!(
            "{} (expired timers run after already-ready callbacks, in deadline order)",
            calls.repr()
        );
        let out = Rc::new(RefCell::new(Vec::new()));
        let when = lp.time();
        for i in 0..8 {
            let out = out.clone();
            lp.call_at(when, move || out.borrow_mut().push(i)).unwrap();
        }
        run_briefly(&lp);
        // tulip runs equal deadlines FIFO: already sorted.
        let out: Vec<String> = out.borrow().iter().map(|i| i.to_string()).collect();
        tprint!("equal deadlines, all ran: [{}]", out.join(", "));
        lp.close().unwrap();
    });
}

#[test]
fn call_later() {
    common::check_case("loop/call_later", || {
        let lp = EventLoop::new().unwrap();
        let results = Calls::default();
        let (r, l) = (results.clone(), lp.clone());
        let h = lp
            .call_later(Duration::from_millis(100), move || {
                r.push("hello world");
                l.stop();
            })
            .unwrap();
        let name = std::any::type_name_of_val(&h);
        tprint!("{}", name.rsplit("::").next().unwrap());
        lp.run_forever().unwrap();
        tprint!("{}", results.repr());

        let fired = Rc::new(RefCell::new(Vec::new()));
        let t0 = lp.time();
        let when = t0 + Duration::from_millis(50);
        let (f, l) = (fired.clone(), lp.clone());
        let h = lp
            .call_at(when, move || {
                f.borrow_mut().push(l.time());
                l.stop();
            })
            .unwrap();
        tprint!("when() is the deadline: {}", py_bool(h.when() == when));
        lp.run_forever().unwrap();
        let fired = fired.borrow();
        tprint!(
            "fired: {} | not before its deadline: {}",
            fired.len(),
            py_bool(fired[0] >= when)
        );
        lp.close().unwrap();
    });
}

#[test]
fn stop() {
    common::check_case("loop/stop", || {
        let lp = EventLoop::new().unwrap();
        let cb = |name: &'static str| move || tprint!("run {name}");
        lp.call_soon(cb("a")).unwrap();
        let l = lp.clone();
        lp.call_soon(move || {
            tprint!("stop() called");
            l.stop();
            l.call_soon(cb("scheduled after stop")).unwrap();
        })
        .unwrap();
        lp.call_soon(cb("b (same batch: still runs)")).unwrap();
        lp.run_forever().unwrap();
        tprint!(
            "run_forever returned; running: {}",
            py_bool(lp.is_running())
        );
        tprint!("the leftover runs in the next run_forever:");
        run_briefly(&lp);

        let l = lp.clone();
        lp.call_soon(move || {
            tprint!("iteration 1");
            l.call_soon(cb("iteration 2")).unwrap();
        })
        .unwrap();
        lp.stop();
        lp.run_forever().unwrap();
        tprint!("pre-stopped run returned after one iteration");
        let h = lp
            .call_later(Duration::from_secs(3600), cb("never"))
            .unwrap();
        lp.stop();
        lp.run_forever().unwrap();
        tprint!("a timer an hour away does not block a pre-stopped run");
        h.cancel();

        fn tick(lp: EventLoop, n: Rc<Cell<u32>>) {
            n.set(n.get() + 1);
            if n.get() < 3 {
                let l = lp.clone();
                lp.call_soon(move || tick(l, n)).unwrap();
            } else {
                lp.stop();
            }
        }
        let n = Rc::new(Cell::new(0));
        let (l, n2) = (lp.clone(), n.clone());
        lp.call_soon(move || tick(l, n2)).unwrap();
        lp.run_forever().unwrap();
        tprint!("the flag was reset: ticks = {}", n.get());
        lp.close().unwrap();
    });
}

#[test]
fn misuse() {
    common::check_case("loop/misuse", || {
        let lp = EventLoop::new().unwrap();
        tprint!("running before: {}", py_bool(lp.is_running()));
        let l = lp.clone();
        lp.call_soon(move || {
            attempt("nested run_forever", l.run_forever(), none);
            attempt("close inside running loop", l.close(), none);
            let other = EventLoop::new().unwrap();
            attempt("another loop's run_forever", other.run_forever(), none);
            other.close().unwrap();
            let running = get_running_loop().unwrap();
            tprint!(
                "running: {} | get_running_loop() is loop: {}",
                py_bool(l.is_running()),
                py_bool(running == l)
            );
            running.stop();
        })
        .unwrap();
        lp.run_forever().unwrap();
        tprint!("running after: {}", py_bool(lp.is_running()));
        attempt("get_running_loop outside", get_running_loop(), |_| {
            "?".into()
        });
        attempt("close", lp.close(), none);
        attempt("close again", lp.close(), none);
        tprint!("closed: {}", py_bool(lp.is_closed()));
        attempt("run_forever on closed", lp.run_forever(), none);
        attempt("call_soon on closed", lp.call_soon(|| ()), |_| "?".into());
        attempt(
            "call_later on closed",
            lp.call_later(Duration::from_secs(1), || ()),
            |_| "?".into(),
        );
        attempt("call_at on closed", lp.call_at(lp.time(), || ()), |_| {
            "?".into()
        });
        attempt(
            "call_soon_threadsafe on closed",
            lp.call_soon_threadsafe(|| ()),
            none,
        );
        lp.stop();
        attempt("stop on closed", Ok::<(), anyhow::Error>(()), none);
    });
}

/// Routes the `log` crate's records of target "tulip" to a per-thread sink, so a case can
/// print what the default exception handler logged.
mod capture {
    use super::*;

    type Sink = Box<dyn Fn(&str)>;

    thread_local! {
        static SINK: RefCell<Option<Sink>> = const { RefCell::new(None) };
    }

    struct Capture;

    impl log::Log for Capture {
        fn enabled(&self, _: &log::Metadata) -> bool {
            true
        }
        fn log(&self, record: &log::Record) {
            if record.target() != "tulip" || record.level() != log::Level::Error {
                return;
            }
            let text = record.args().to_string();
            SINK.with(|s| {
                if let Some(sink) = &*s.borrow() {
                    sink(&text);
                }
            });
        }
        fn flush(&self) {}
    }

    /// Installs the logger (once per test binary) and this thread's sink.
    pub fn install(sink: impl Fn(&str) + 'static) {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            log::set_logger(&Capture).unwrap();
            log::set_max_level(log::LevelFilter::Error);
        });
        SINK.with(|s| *s.borrow_mut() = Some(Box::new(sink)));
    }
}

/// The default handler's text is the message, one `key: value` line per key, then the
/// exception's line; Python's record holds the exception apart (`exc_info`).
fn log_summary(text: &str, has_exception: bool) -> (Vec<&str>, Vec<&str>, bool) {
    let lines: Vec<&str> = text.split('\n').collect();
    let n = lines.len() - usize::from(has_exception);
    let keys = lines[1..n]
        .iter()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    let logged = has_exception && lines[n].starts_with("Panic: ");
    (lines[..1].to_vec(), keys, logged)
}

#[test]
fn exception_handler() {
    common::check_case("loop/exception_handler", || {
        let lp = EventLoop::new().unwrap();
        fn zero_error() {
            tprint!("zero_error runs");
            panic!("attempt to divide by zero");
        }
        let l = lp.clone();
        lp.set_exception_handler(Some(move |lp: &EventLoop, ctx: &ExceptionContext| {
            tprint!("handler: same loop: {}", py_bool(*lp == l));
            tprint!(
                "  callback named: {}",
                py_bool(
                    ctx.message.starts_with("Exception in callback ")
                        && ctx.message.contains("zero_error")
                )
            );
            tprint!("  keys: {}", str_list(&ctx.keys()));
            tprint!("  has exception: {}", py_bool(ctx.exception.is_some()));
        }));
        lp.call_soon(|| tprint!("before")).unwrap();
        lp.call_soon(zero_error).unwrap();
        lp.call_soon(|| tprint!("after: the batch goes on"))
            .unwrap();
        run_briefly(&lp);
        tprint!("direct call:");
        lp.call_exception_handler(
            ExceptionContext::new("custom").with_field("future", "<Future pending>"),
        );

        capture::install(|text| {
            let (first, keys, logged) = log_summary(text, true);
            tprint!(
                "log ERROR | first line: {} | keys: {} | exception logged: {}",
                py_bool(first[0].starts_with("Exception in callback ")),
                str_list(&keys),
                py_bool(logged)
            );
        });
        lp.set_exception_handler(None::<fn(&EventLoop, &ExceptionContext)>);
        tprint!("default handler:");
        lp.call_soon(zero_error).unwrap();
        lp.call_soon(|| tprint!("after")).unwrap();
        run_briefly(&lp);
        lp.close().unwrap();
    });
}

#[test]
fn exception_handler_broken() {
    common::check_case("loop/exception_handler_broken", || {
        let lp = EventLoop::new().unwrap();
        capture::install(|text| {
            let (first, keys, logged) = log_summary(text, true);
            tprint!(
                "log ERROR | {} | keys: {} | exception logged: {}",
                first[0],
                str_list(&keys),
                py_bool(logged)
            );
        });
        fn zero_error() {
            panic!("attempt to divide by zero");
        }
        lp.set_exception_handler(Some(|_: &EventLoop, ctx: &ExceptionContext| {
            tprint!(
                "broken handler called for: {}",
                py_bool(ctx.message.contains("zero_error"))
            );
            panic!("spam");
        }));
        lp.call_soon(zero_error).unwrap();
        lp.call_soon(|| tprint!("the loop goes on")).unwrap();
        run_briefly(&lp);
        lp.close().unwrap();
    });
}

#[test]
fn timer_cleanup() {
    common::check_case("loop/timer_cleanup", || {
        let lp = EventLoop::new().unwrap();
        let secs = Duration::from_secs;
        let cb = || ();
        let stats = |lp: &EventLoop| {
            let (s, c) = lp.timer_stats();
            format!("scheduled {s} cancelled_count {c}")
        };
        lp.call_later(secs(3000), cb).unwrap(); // blocks the head
        for _ in 0..2 {
            lp.call_later(secs(3600), cb).unwrap().cancel(); // cancelled, not at head
        }
        for _ in 0..2 {
            lp.call_later(secs(100), cb).unwrap().cancel(); // cancelled, at head
        }
        tprint!("before: {}", stats(&lp));
        run_briefly(&lp);
        tprint!("after head-pop: {}", stats(&lp));
        let add_cancel = 51;
        let add_keep = 100 - add_cancel;
        for _ in 0..add_keep {
            lp.call_later(secs(3600), cb).unwrap();
        }
        for _ in 0..add_cancel {
            lp.call_later(secs(3600), cb).unwrap().cancel();
        }
        tprint!("before bulk: {}", stats(&lp));
        run_briefly(&lp);
        // No cancelled entry left means every entry is live.
        tprint!(
            "after bulk: {} all live: {}",
            stats(&lp),
            py_bool(lp.timer_stats().1 == 0)
        );
        let h = lp.call_later(secs(10), cb).unwrap();
        h.cancel();
        h.cancel();
        tprint!("double cancel counted once: {}", lp.timer_stats().1);
        lp.close().unwrap();

        let lp = EventLoop::new().unwrap();
        let h1 = lp.call_later(secs(5), cb).unwrap();
        let _h2 = lp.call_later(secs(10), cb).unwrap();
        h1.cancel();
        run_briefly(&lp);
        tprint!("test__run_once: {}", stats(&lp));
        lp.close().unwrap();
    });
}

#[test]
fn handles() {
    common::check_case("loop/handles", || {
        let lp = EventLoop::new().unwrap();
        let out = Calls::default();
        let h = lp.call_soon(out.adder("x")).unwrap();
        tprint!("Handle cancelled: {}", py_bool(h.cancelled()));
        h.cancel();
        h.cancel();
        tprint!("cancelled twice: {}", py_bool(h.cancelled()));
        run_briefly(&lp);
        tprint!("ran: {}", out.repr());
        let h = lp.call_soon(out.adder("y")).unwrap();
        run_briefly(&lp);
        h.cancel();
        tprint!(
            "cancel after it ran: {} {}",
            out.repr(),
            py_bool(h.cancelled())
        );

        let later: Rc<RefCell<Option<tulip::Handle>>> = Rc::default();
        let l = later.clone();
        lp.call_soon(move || {
            tprint!("first cancels later");
            l.borrow().as_ref().unwrap().cancel();
        })
        .unwrap();
        *later.borrow_mut() = Some(lp.call_soon(|| tprint!("later (must not run)")).unwrap());
        lp.call_soon(|| tprint!("third")).unwrap();
        run_briefly(&lp);

        let t = Rc::new(
            lp.call_at(lp.time() - Duration::from_secs(1), || {
                tprint!("due timer (must not run)")
            })
            .unwrap(),
        );
        let t2 = t.clone();
        lp.call_soon(move || {
            tprint!("a ready callback cancels the due timer");
            t2.cancel();
        })
        .unwrap();
        run_briefly(&lp);
        tprint!("timer cancelled: {}", py_bool(t.cancelled()));
        run_briefly(&lp);

        let when = lp.time() + Duration::from_secs(10);
        let th = lp.call_at(when, || ()).unwrap();
        tprint!(
            "TimerHandle when() is the deadline: {}",
            py_bool(th.when() == when)
        );
        th.cancel();
        lp.close().unwrap();
    });
}

#[test]
fn threadsafe() {
    common::check_case("loop/threadsafe", || {
        let lp = EventLoop::new().unwrap();
        let results = Arc::new(Mutex::new(Vec::<String>::new()));
        // The Python callback; Send, so it can come from another thread.
        let callback = |results: &Arc<Mutex<Vec<String>>>, arg: &str| {
            let (results, arg) = (results.clone(), arg.to_string());
            move || {
                let mut r = results.lock().unwrap();
                r.push(arg);
                if r.len() >= 2 {
                    get_running_loop().unwrap().stop();
                }
            }
        };
        lp.call_soon_threadsafe(callback(&results, "hello"))
            .unwrap();
        lp.call_soon(callback(&results, "world")).unwrap();
        lp.run_forever().unwrap();
        tprint!("{}", str_list(&results.lock().unwrap()));

        results.lock().unwrap().clear();
        let handle = lp.threadsafe_handle().unwrap();
        let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
        let (a, b) = (
            callback(&results, "from thread"),
            callback(&results, "second"),
        );
        let t = std::thread::spawn(move || {
            started_rx.recv().unwrap();
            handle.call_soon_threadsafe(a).unwrap();
            handle.call_soon_threadsafe(b).unwrap();
        });
        lp.call_soon(move || started_tx.send(()).unwrap()).unwrap();
        let l = lp.clone();
        let safety = lp
            .call_later(Duration::from_secs(30), move || l.stop())
            .unwrap();
        lp.run_forever().unwrap();
        t.join().unwrap();
        safety.cancel();
        tprint!("{}", str_list(&results.lock().unwrap()));
        let handle = lp.threadsafe_handle().unwrap();
        lp.close().unwrap();
        if let Err(e) = handle.call_soon_threadsafe(|| ()) {
            tprint!("closed loop: {}: {}", py_name(&e), py_str(&e));
        }
    });
}

#[test]
fn readers_writers() {
    common::check_case("loop/readers_writers", || {
        let lp = EventLoop::new().unwrap();
        let l = lp.clone();
        let safety = lp
            .call_later(Duration::from_secs(30), move || l.stop())
            .unwrap();
        let (r, w) = pair();
        r.set_nonblocking(true).unwrap();
        let (l, rs) = (lp.clone(), r.clone());
        lp.add_reader(r.as_raw_fd(), move || {
            let data = match recv(&rs, 1024) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                r => r.unwrap(),
            };
            if !data.is_empty() {
                tprint!("read {}", py_bytes_repr(&data));
            } else {
                tprint!(
                    "EOF: remove_reader -> {}",
                    py_bool(l.remove_reader(rs.as_raw_fd()))
                );
                tprint!(
                    "remove_reader again -> {}",
                    py_bool(l.remove_reader(rs.as_raw_fd()))
                );
            }
            l.stop();
        })
        .unwrap();
        let w = Rc::new(RefCell::new(Some(Rc::try_unwrap(w).unwrap())));
        for chunk in [b"abc", b"def"] {
            let w = w.clone();
            lp.call_soon(move || {
                w.borrow().as_ref().unwrap().write_all(chunk).unwrap();
            })
            .unwrap();
            lp.run_forever().unwrap();
        }
        lp.call_soon(move || drop(w.borrow_mut().take())).unwrap();
        lp.run_forever().unwrap();
        drop(r);

        let (r, w) = pair();
        w.set_nonblocking(true).unwrap();
        let (l, ws) = (lp.clone(), w.clone());
        let data = [b'x'; 1024];
        lp.add_writer(w.as_raw_fd(), move || {
            tprint!("writer sent {}", (&*ws).write(&data).unwrap());
            l.stop();
        })
        .unwrap();
        lp.run_forever().unwrap();
        tprint!(
            "remove_writer -> {} {}",
            py_bool(lp.remove_writer(w.as_raw_fd())),
            py_bool(lp.remove_writer(w.as_raw_fd()))
        );
        drop(w);
        tprint!("read back {} bytes", recv(&r, 2048).unwrap().len());
        drop(r);

        let (a, b) = pair();
        a.set_nonblocking(true).unwrap();
        (&*b).write_all(b"q").unwrap();
        let order = Calls::default();
        let (o, l, s) = (order.clone(), lp.clone(), a.clone());
        lp.add_writer(&*a, move || {
            o.push("write");
            l.remove_writer(&*s);
            l.stop();
        })
        .unwrap();
        let (o, l, s) = (order.clone(), lp.clone(), a.clone());
        lp.add_reader(&*a, move || {
            o.push("read");
            recv(&s, 10).unwrap();
            l.remove_reader(&*s);
        })
        .unwrap();
        lp.run_forever().unwrap();
        tprint!("one fd, both ready: {}", order.repr());
        safety.cancel();
        lp.close().unwrap();
    });
}

#[test]
fn fds_after_closing() {
    common::check_case("loop/fds_after_closing", || {
        let lp = EventLoop::new().unwrap();
        let (r, w) = UnixStream::pair().unwrap();
        lp.add_reader(&r, || ()).unwrap();
        lp.add_writer(&w, || ()).unwrap();
        lp.close().unwrap();
        tprint!(
            "remove_reader after close: {}",
            py_bool(lp.remove_reader(&r))
        );
        tprint!(
            "remove_writer after close: {}",
            py_bool(lp.remove_writer(&w))
        );
        for (name, res) in [
            ("add_reader", lp.add_reader(&r, || ())),
            ("add_writer", lp.add_writer(&r, || ())),
        ] {
            let e = res.unwrap_err();
            tprint!("{name} after close: {}: {}", py_name(&e), py_str(&e));
        }
        let lp = EventLoop::new().unwrap();
        tprint!(
            "remove_reader of an fd never added: {}",
            py_bool(lp.remove_reader(&r))
        );
        tprint!(
            "remove_writer of an fd never added: {}",
            py_bool(lp.remove_writer(&r))
        );
        let e = lp.add_reader(-1, || ()).unwrap_err();
        tprint!("add_reader(-1): {}: {}", py_name(&e), py_str(&e));
        lp.close().unwrap();
    });
}

#[test]
fn iteration_order() {
    common::check_case("loop/iteration_order", || {
        let lp = EventLoop::new().unwrap();
        let (r, w) = pair();
        r.set_nonblocking(true).unwrap();
        (&*w).write_all(b"z").unwrap(); // fd already readable
        lp.add_reader(r.as_raw_fd(), || {
            tprint!("reader fired (level-triggered, data not consumed)")
        })
        .unwrap();
        lp.call_at(lp.time() - Duration::from_secs(1), || {
            tprint!("expired timer")
        })
        .unwrap();
        lp.call_soon(|| tprint!("ready callback")).unwrap();
        let done = Rc::new(Cell::new(false));
        let (l, d, rs) = (lp.clone(), done.clone(), r.clone());
        lp.call_soon(move || {
            let l2 = l.clone();
            l.call_soon(move || {
                tprint!("stop");
                l2.remove_reader(rs.as_raw_fd());
                l2.stop();
                d.set(true);
            })
            .unwrap();
        })
        .unwrap();
        // One pre-stopped run_forever is one iteration with timeout 0, the same _run_once
        // Python's TraceLoop counts (there, callbacks are ready, so its timeout is 0 too).
        let mut n = 0;
        while !done.get() {
            n += 1;
            tprint!("-- iteration {n}");
            lp.stop();
            lp.run_forever().unwrap();
        }
        lp.close().unwrap();
    });
}

#[test]
fn level_triggered() {
    common::check_case("loop/level_triggered", || {
        let lp = EventLoop::new().unwrap();
        let (r, w) = pair();
        r.set_nonblocking(true).unwrap();
        (&*w).write_all(b"0123456789").unwrap();
        let mut calls = 0;
        let (l, rs) = (lp.clone(), r.clone());
        lp.add_reader(&*r, move || {
            calls += 1;
            tprint!(
                "reader call {calls} reads {}",
                py_bytes_repr(&recv(&rs, 2).unwrap())
            );
            if calls == 3 {
                l.remove_reader(&*rs);
                l.stop();
            }
        })
        .unwrap();
        lp.run_forever().unwrap();
        tprint!("left unread: {}", py_bytes_repr(&recv(&r, 100).unwrap()));
        lp.close().unwrap();
    });
}

#[test]
fn reader_replace() {
    common::check_case("loop/reader_replace", || {
        let lp = EventLoop::new().unwrap();
        let l = lp.clone();
        let safety = lp
            .call_later(Duration::from_secs(30), move || l.stop())
            .unwrap();
        let (a, b) = pair();
        a.set_nonblocking(true).unwrap();
        let first = || tprint!("first reader (replaced: must not run)");
        lp.add_reader(&*a, first).unwrap();
        let (l, s) = (lp.clone(), a.clone());
        lp.add_reader(&*a, move || {
            tprint!(
                "second reader got {}",
                py_bytes_repr(&recv(&s, 10).unwrap())
            );
            tprint!("remove_reader -> {}", py_bool(l.remove_reader(&*s)));
            tprint!("remove_reader again -> {}", py_bool(l.remove_reader(&*s)));
            l.stop();
        })
        .unwrap();
        (&*b).write_all(b"hi").unwrap();
        lp.run_forever().unwrap();

        lp.add_reader(&*a, first).unwrap();
        let (l, s) = (lp.clone(), a.clone());
        lp.add_writer(&*a, move || {
            tprint!("writer still registered");
            tprint!("remove_writer -> {}", py_bool(l.remove_writer(&*s)));
            l.stop();
        })
        .unwrap();
        tprint!("remove_reader -> {}", py_bool(lp.remove_reader(&*a)));
        lp.run_forever().unwrap();

        (&*b).write_all(b"yo").unwrap();
        let (l, s) = (lp.clone(), a.clone());
        lp.add_reader(&*a, move || {
            tprint!("r1 replaces itself with r2 and leaves the data");
            let (l2, s2) = (l.clone(), s.clone());
            l.add_reader(&*s, move || {
                tprint!("r2 got {}", py_bytes_repr(&recv(&s2, 10).unwrap()));
                l2.remove_reader(&*s2);
                l2.stop();
            })
            .unwrap();
        })
        .unwrap();
        lp.run_forever().unwrap();
        safety.cancel();
        lp.close().unwrap();
    });
}

#[test]
fn event_after_stopping() {
    common::check_case("loop/event_after_stopping", || {
        let lp = EventLoop::new().unwrap();
        let (r, w) = pair();
        r.set_nonblocking(true).unwrap();
        let calls = Rc::new(Cell::new(0));
        let (c, rs) = (calls.clone(), r.clone());
        lp.add_reader(&*r, move || {
            c.set(c.get() + 1);
            tprint!("reader got {}", py_bytes_repr(&recv(&rs, 10).unwrap()));
        })
        .unwrap();
        (&*w).write_all(b"x").unwrap();
        for i in 1..3 {
            run_briefly(&lp);
            tprint!("run {i}/2: calls={}", calls.get());
        }
        lp.remove_reader(&*r);
        lp.close().unwrap();
    });
}

#[test]
fn calls_helper_counts() {
    // Keeps the helpers honest (and used).
    let c = Calls::default();
    c.adder("x")();
    assert_eq!(c.len(), 1);
    assert_eq!(c.repr(), "['x']");
}
