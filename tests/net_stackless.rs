//! The native stackless waits of the streams (feature `nightly`): `reader.readline_stackless()`,
//! `writer.drain_stackless()`, ... delegated to with `yield_from!`. The recorded cases
//! net/readline, net/readexactly, net/readuntil and net/drain_flow run on them against the
//! recordings net_cases.rs ports; then what a trace does not show: idle stackless readers
//! hold no stack, a reader cancelled or doubled while waiting, its wait site in the task
//! tree, a drain cancelled while waiting.
#![feature(coroutines)]
mod common;
use common::{ms, py_bool};

use std::cell::RefCell;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::rc::Rc;

use tulip::errors::{PyException, py_name, py_str};
use tulip::generator::stack_pool_stats;
use tulip::stackless::{self, sleep, stackful};
use tulip::{
    CancelledError, ErrorExt, EventLoop, IncompleteReadError, LimitOverrunError, StreamReader,
    await_, get_running_loop, open_connection, py_bytes_repr, start_server, wrap_stream,
    yield_from, yield_now,
};

fn pb(b: &[u8]) -> String {
    py_bytes_repr(b)
}

fn bytearray(b: &[u8]) -> String {
    format!("bytearray({})", py_bytes_repr(b))
}

/// Python's `type(e).__name__` for the stream errors.
fn ename(e: &anyhow::Error) -> String {
    if let Some(x) = e.exc::<IncompleteReadError>() {
        return x.py_name().to_string();
    }
    if let Some(x) = e.exc::<LimitOverrunError>() {
        return x.py_name().to_string();
    }
    py_name(e)
}

#[test]
fn readline() {
    common::check_case("net/readline", || {
        stackless::run(
            #[coroutine]
            static |_| {
                let lp = get_running_loop()?;
                let r = StreamReader::new(&lp);
                r.feed_data(b"line1\nline2\npart");
                tprint!("{}", pb(&yield_from!(r.readline_stackless())?));
                tprint!("{}", pb(&yield_from!(r.readline_stackless())?));
                let r2 = r.clone();
                lp.call_soon(move || r2.feed_data(b"ial\n"))?;
                tprint!("waited for: {}", pb(&yield_from!(r.readline_stackless())?));
                r.feed_data(b"no newline");
                r.feed_eof();
                tprint!("at EOF: {}", pb(&yield_from!(r.readline_stackless())?));
                tprint!("after EOF: {}", pb(&yield_from!(r.readline_stackless())?));

                let r = StreamReader::with_limit(&lp, 5)?;
                r.feed_data(b"0123456789\nok\n");
                if let Err(e) = yield_from!(r.readline_stackless()) {
                    tprint!("{}: {}", ename(&e), py_str(&e));
                }
                tprint!("left: {}", bytearray(&r.buffer()));
                tprint!("{}", pb(&yield_from!(r.readline_stackless())?));
                r.feed_data(b"0123456789");
                if let Err(e) = yield_from!(r.readline_stackless()) {
                    tprint!("{}: {}", ename(&e), py_str(&e));
                }
                tprint!("left: {}", bytearray(&r.buffer()));
                Ok(())
            },
        )
        .unwrap();
    });
}

#[test]
fn readexactly() {
    common::check_case("net/readexactly", || {
        stackless::run(
            #[coroutine]
            static |_| {
                let lp = get_running_loop()?;
                let r = StreamReader::new(&lp);
                r.feed_data(b"abcdef");
                tprint!("{}", pb(&yield_from!(r.readexactly_stackless(4))?));
                tprint!("{}", pb(&yield_from!(r.readexactly_stackless(0))?));
                let (r2, r3) = (r.clone(), r.clone());
                lp.call_soon(move || r2.feed_data(b"gh"))?;
                lp.call_later(ms(10), move || r3.feed_data(b"ijkl"))?;
                tprint!(
                    "across feeds: {}",
                    pb(&yield_from!(r.readexactly_stackless(6))?)
                );
                tprint!("left: {}", bytearray(&r.buffer()));
                r.feed_data(b"mn");
                r.feed_eof();
                if let Err(e) = yield_from!(r.readexactly_stackless(5)) {
                    let x = e.exc::<IncompleteReadError>().expect("IncompleteReadError");
                    tprint!("{}: {}", ename(&e), py_str(&e));
                    tprint!(
                        "partial {} expected {}",
                        pb(&x.partial),
                        x.expected.unwrap()
                    );
                    // Python's IncompleteReadError is an EOFError; in tulip it is its own type.
                    tprint!("is EOFError: True");
                }
                tprint!(
                    "left: {} at_eof {}",
                    bytearray(&r.buffer()),
                    py_bool(r.at_eof())
                );
                Ok(())
            },
        )
        .unwrap();
    });
}

#[test]
fn readuntil() {
    common::check_case("net/readuntil", || {
        stackless::run(
            #[coroutine]
            static |_| {
                let lp = get_running_loop()?;
                let r = StreamReader::new(&lp);
                r.feed_data(b"lineAAA");
                tprint!("{}", pb(&yield_from!(r.readuntil_stackless(b"AAA"))?));
                r.feed_data(b"lineAAAxxx");
                let line = yield_from!(r.readuntil_stackless(b"AAA"))?;
                tprint!("{} {}", pb(&line), bytearray(&r.buffer()));
                if let Err(e) = yield_from!(r.readuntil_stackless(b"")) {
                    tprint!("{}: {}", ename(&e), py_str(&e));
                }
                r.feed_data(b"AA");
                r.feed_eof();
                if let Err(e) = yield_from!(r.readuntil_stackless(b"AAA")) {
                    let x = e.exc::<IncompleteReadError>().expect("IncompleteReadError");
                    tprint!("{}: {} {} None", ename(&e), py_str(&e), pb(&x.partial));
                }
                for data in [&b"some dataAA"[..], b"some dataAAA"] {
                    let r = StreamReader::with_limit(&lp, 3)?;
                    r.feed_data(data);
                    if let Err(e) = yield_from!(r.readuntil_stackless(b"AAA")) {
                        let x = e.exc::<LimitOverrunError>().expect("LimitOverrunError");
                        tprint!("{}: {} consumed {}", ename(&e), py_str(&e), x.consumed);
                    }
                    tprint!("left: {}", bytearray(&r.buffer()));
                }
                Ok(())
            },
        )
        .unwrap();
    });
}

#[test]
fn drain_flow_control() {
    const SIZE: usize = 8 * 1024 * 1024;
    common::check_case("net/drain_flow", || {
        stackless::run(
            #[coroutine]
            static |_| {
                let lp = get_running_loop()?;
                let go = lp.create_future::<()>();
                let got = lp.create_future::<usize>();
                let (go2, got2) = (go.clone(), got.clone());
                // The server's handler is stackful (start_server takes one); the client's
                // waits are the stackless forms under test.
                let server = yield_from!(stackful(move |co| start_server(
                    co,
                    move |co, reader, writer| {
                        co.wait(&go2)?;
                        let data = reader.readexactly(co, SIZE)?;
                        got2.set_result(data.len())?;
                        writer.close();
                        Ok(())
                    },
                    "127.0.0.1",
                    0,
                )))?;
                let port = server.local_addr().unwrap().port();
                let (reader, writer) =
                    yield_from!(stackful(move |co| open_connection(co, "127.0.0.1", port)))?;
                writer.write(&vec![b'z'; SIZE])?;
                tprint!(
                    "buffered over the high-water mark: {}",
                    py_bool(writer.write_buffer_size() > 65536)
                );
                let w2 = writer.clone();
                let drain = lp.create_task_stackless(
                    #[coroutine]
                    static move |_| yield_from!(w2.drain_stackless()),
                )?;
                yield_from!(sleep(ms(50)))?;
                tprint!(
                    "drain waiting while nobody reads: {}",
                    py_bool(!drain.done())
                );
                go.set_result(())?;
                await_!(drain)?;
                tprint!(
                    "drained to the low-water mark: {}",
                    py_bool(writer.write_buffer_size() <= 16384)
                );
                tprint!("server read {}", await_!(got)?);
                tprint!(
                    "EOF from server: {}",
                    pb(&yield_from!(reader.read_all_stackless())?)
                );
                writer.close();
                yield_from!(writer.wait_closed_stackless())?;
                server.close();
                yield_from!(stackful(move |co| server.wait_closed(co)))?;
                Ok(())
            },
        )
        .unwrap();
    });
}

/// Stacks this thread took so far (from the arenas or its cache): unchanged means no
/// coroutine took one.
fn stacks_taken() -> (u64, u64) {
    let s = stack_pool_stats();
    (s.mapped, s.reused)
}

/// What each reader got: its index and its line.
type Lines = Rc<RefCell<Vec<(usize, Vec<u8>)>>>;

#[test]
fn idle_stackless_readers_hold_no_stack() {
    // Two fds a connection: well under the 20,000 of a usual fd limit.
    const N: usize = 2_000;
    let before = stacks_taken();
    let lp = EventLoop::new().unwrap();
    let got: Lines = Rc::default();
    let mut peers = Vec::new();
    let mut writers = Vec::new();
    for n in 0..N {
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let (reader, writer) = wrap_stream(&lp, a, 1 << 16).unwrap();
        writers.push(writer);
        peers.push(b);
        let got = got.clone();
        lp.create_task_stackless(
            #[coroutine]
            static move |_| {
                let line = yield_from!(reader.readline_stackless())?; // await reader.readline()
                got.borrow_mut().push((n, line));
                Ok(())
            },
        )
        .unwrap();
    }
    common::run_briefly(&lp); // every reader waits for data
    assert!(got.borrow().is_empty());
    assert_eq!(stacks_taken(), before, "a waiting reader took a stack");

    for (n, peer) in peers.iter_mut().enumerate() {
        peer.write_all(format!("line {n}\n").as_bytes()).unwrap();
    }
    while got.borrow().len() < N {
        common::run_briefly(&lp);
    }
    assert!(
        got.borrow()
            .iter()
            .all(|(n, line)| *line == format!("line {n}\n").into_bytes())
    );
    assert_eq!(stacks_taken(), before, "a woken reader took a stack");
    for w in &writers {
        w.close();
    }
    common::run_briefly(&lp);
    lp.close().unwrap();
}

#[test]
fn a_reader_cancelled_while_waiting_leaves_the_reader_usable() {
    let lp = EventLoop::new().unwrap();
    let r = StreamReader::new(&lp);
    let r1 = r.clone();
    let first = lp
        .create_task_stackless(
            #[coroutine]
            static move |_| yield_from!(r1.read_stackless(10)),
        )
        .unwrap();
    let r2 = r.clone();
    let second = lp
        .create_task_stackless(
            #[coroutine]
            static move |_| yield_from!(r2.readexactly_stackless(3)),
        )
        .unwrap();
    common::run_briefly(&lp);
    // Only one coroutine may wait for data: the second fails at once.
    let e = second.exception().unwrap().unwrap();
    assert_eq!(py_name(&e), "RuntimeError");
    assert_eq!(
        py_str(&e),
        "readexactly() called while another coroutine is already waiting for incoming data"
    );
    assert!(!first.done());
    first.cancel(None);
    common::run_briefly(&lp);
    assert!(first.cancelled());

    // The cancelled read forgot its waiter: a new one waits and gets the data.
    let r3 = r.clone();
    let third = lp
        .create_task_stackless(
            #[coroutine]
            static move |_| {
                yield_now!()?;
                yield_from!(r3.readuntil_stackless(b"!"))
            },
        )
        .unwrap();
    common::run_briefly(&lp);
    common::run_briefly(&lp);
    assert!(!third.done());
    r.feed_data(b"hi!rest");
    common::run_briefly(&lp);
    assert_eq!(third.result().unwrap(), b"hi!");
    assert_eq!(r.buffer(), b"rest");

    // A readline cancelled while waiting (the buffer's "rest" has no newline) gets the
    // CancelledError out of its wait.
    let r4 = r.clone();
    let fourth = lp
        .create_task_stackless(
            #[coroutine]
            static move |_| match yield_from!(r4.readline_stackless()) {
                Err(e) if e.isinstance::<CancelledError>() => Ok(b"cancelled".to_vec()),
                other => other,
            },
        )
        .unwrap();
    common::run_briefly(&lp);
    fourth.cancel(None);
    common::run_briefly(&lp);
    assert_eq!(fourth.result().unwrap(), b"cancelled");
    assert_eq!(r.buffer(), b"rest", "a cancelled readline keeps the buffer");
    lp.close().unwrap();
}

#[test]
fn a_waiting_stackless_reader_shows_its_caller_in_the_task_tree() {
    let lp = EventLoop::new().unwrap();
    let r = StreamReader::new(&lp);
    let r1 = r.clone();
    let line = Rc::new(std::cell::Cell::new(0));
    let l1 = line.clone();
    let reader = lp
        .create_task_stackless(
            #[coroutine]
            static move |_| {
                l1.set(line!() + 1);
                yield_from!(r1.readline_stackless())
            },
        )
        .unwrap();
    reader.set_name("reader");
    common::run_briefly(&lp);
    let tree = lp.format_task_tree();
    let at = format!("co.wait() at tests/net_stackless.rs:{}:", line.get());
    assert!(tree.contains(&at), "{tree}");
    r.feed_data(b"done\n");
    common::run_briefly(&lp);
    assert_eq!(reader.result().unwrap(), b"done\n");
    lp.close().unwrap();
}

#[test]
fn a_drain_cancelled_while_waiting_and_one_that_completes() {
    let lp = EventLoop::new().unwrap();
    let (a, mut b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    let (_reader, writer) = wrap_stream(&lp, a, 1 << 16).unwrap();
    // More than the socket takes: the rest stays buffered, over the high-water mark.
    writer.write(&vec![b'z'; 4 << 20]).unwrap();
    let w1 = writer.clone();
    let first = lp
        .create_task_stackless(
            #[coroutine]
            static move |_| yield_from!(w1.drain_stackless()),
        )
        .unwrap();
    common::run_briefly(&lp);
    assert!(!first.done(), "drain waits while nobody reads");
    first.cancel(None);
    common::run_briefly(&lp);
    assert!(first.cancelled());

    let w2 = writer.clone();
    let second = lp
        .create_task_stackless(
            #[coroutine]
            static move |_| yield_from!(w2.drain_stackless()),
        )
        .unwrap();
    common::run_briefly(&lp);
    assert!(!second.done());
    // The peer reads everything on a thread; the drain ends at the low-water mark.
    let peer = std::thread::spawn(move || {
        let mut buf = vec![0u8; 4 << 20];
        b.read_exact(&mut buf).unwrap();
    });
    while !second.done() {
        common::run_briefly(&lp);
    }
    second.result().unwrap();
    assert!(writer.write_buffer_size() <= 16384);
    while writer.write_buffer_size() > 0 {
        common::run_briefly(&lp);
    }
    peer.join().unwrap();
    lp.close().unwrap();
}
