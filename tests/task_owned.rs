//! Owned results and plain errors (issue #13, part 2): `co.join` and `tulip::run` move a
//! task's outcome out to its one receiver: any `T`, no `Clone`, and the error as it was
//! raised. Errors print their message once; `OsError` converts to and from `io::Error`.
mod common;
use common::MyError;

use std::cell::Cell;
use std::fs::File;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use anyhow::Result;
use tulip::{
    CancelledError, ErrorExt, EventLoop, InvalidStateError, OsError, ValueError, get_running_loop,
    sleep,
};

/// A value that is not `Clone`: a file and an owned buffer.
struct Owned {
    file: File,
    bytes: Box<[u8]>,
}

fn open_owned() -> Result<Owned> {
    Ok(Owned {
        file: File::open(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))?,
        bytes: vec![1, 2, 3].into_boxed_slice(),
    })
}

/// An error made here, with the address of its `MyError` kept to recognise it later (the
/// same allocation is the same error, backtrace included).
fn my_error(n: u32, at: &Cell<usize>) -> anyhow::Error {
    let err = anyhow::Error::new(MyError(n));
    at.set(err.downcast_ref::<MyError>().unwrap() as *const MyError as usize);
    err
}

fn addr(err: &anyhow::Error) -> Option<usize> {
    err.downcast_ref::<MyError>()
        .map(|e| e as *const MyError as usize)
}

#[test]
fn join_moves_a_non_clone_value_out() {
    let owned = tulip::run(|co| {
        let lp = get_running_loop()?;
        let task = lp.create_task(|co| {
            co.yield_now()?;
            open_owned()
        })?;
        let owned: Owned = co.join(task)?;
        // A done task is joined without suspending, too.
        let done = lp.create_task(|_| Ok(Box::new(5u8) as Box<dyn std::any::Any>))?;
        sleep(co, Duration::ZERO)?;
        assert!(done.done());
        let any = co.join(done)?;
        assert_eq!(any.downcast_ref::<u8>(), Some(&5));
        Ok(owned)
    })
    .unwrap();
    assert!(owned.file.metadata().unwrap().is_file());
    assert_eq!(&*owned.bytes, [1, 2, 3]);
}

#[test]
fn join_returns_the_error_raised() {
    let at = Rc::new(Cell::new(0));
    let a = at.clone();
    tulip::run(move |co| {
        let lp = get_running_loop()?;
        let failing = lp.create_task(move |co| -> Result<Owned> {
            co.yield_now()?;
            Err(my_error(7, &a))
        })?;
        let err = co.join(failing).err().expect("the task failed");
        assert_eq!(err.downcast_ref::<MyError>().map(|e| e.0), Some(7));
        assert_eq!(
            addr(&err),
            Some(at.get()),
            "the very error made in the task"
        );
        assert_eq!(format!("{err}"), "my error 7");
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_shared_error_is_still_found_and_a_joined_clone_sees_invalid_state() {
    tulip::run(|co| {
        let lp = get_running_loop()?;
        let failing = lp.create_task(|_| -> Result<u32> { Err(MyError(3).into()) })?;
        let other = failing.clone();
        // `wait` shares: the error is a handle, found with `find`, not `downcast_ref`.
        let shared = co.wait(&other).unwrap_err();
        assert!(shared.find::<MyError>().is_some());
        // Still shared with `shared`: join gives another handle to the same error.
        let joined = co.join(failing).unwrap_err();
        assert_eq!(joined.find::<MyError>().map(|e| e.0), Some(3));
        let again = other.result().unwrap_err();
        assert!(again.isinstance::<InvalidStateError>());
        assert_eq!(again.to_string(), "Result already taken.");
        assert!(
            other
                .exception()
                .unwrap_err()
                .isinstance::<InvalidStateError>()
        );
        assert!(other.done() && !other.cancelled());

        let ok = lp.create_task(|_| Ok(1u8))?;
        let clone = ok.clone();
        assert_eq!(co.join(ok)?, 1);
        let second = co.join(clone).unwrap_err();
        assert_eq!(second.to_string(), "Result already taken.");
        Ok(())
    })
    .unwrap();
}

#[test]
fn join_after_cancellation_is_cancelled_error() {
    tulip::run(|co| {
        let lp = get_running_loop()?;
        let task = lp.create_task(|co| {
            sleep(co, Duration::from_secs(3600))?;
            open_owned()
        })?;
        co.yield_now()?;
        assert!(task.cancel(Some("stop")));
        let err = co.join(task).err().expect("cancelled");
        assert!(err.isinstance::<CancelledError>());

        // Cancelled before its first step, joined after it ended.
        let early = lp.create_task(|_| open_owned())?;
        early.cancel(None);
        sleep(co, Duration::ZERO)?;
        sleep(co, Duration::ZERO)?;
        assert!(early.cancelled());
        assert!(co.join(early).err().unwrap().isinstance::<CancelledError>());
        Ok(())
    })
    .unwrap();
}

#[test]
fn cancelling_the_joiner_cancels_the_task() {
    let lp = EventLoop::new().unwrap();
    let inner_cancelled = Rc::new(Cell::new(false));
    let flag = inner_cancelled.clone();
    let joiner = lp
        .create_task(move |co| {
            let lp = get_running_loop()?;
            let task = lp.create_task(move |co| -> Result<Owned> {
                let r = sleep(co, Duration::from_secs(3600));
                flag.set(r.as_ref().is_err_and(|e| e.isinstance::<CancelledError>()));
                r?;
                open_owned()
            })?;
            co.join(task).map(|_| ())
        })
        .unwrap();
    let l = lp.clone();
    lp.call_later(Duration::from_millis(1), move || l.stop())
        .unwrap();
    lp.run_forever().unwrap();
    assert!(joiner.cancel(None));
    let err = lp.run_until_complete(&joiner).unwrap_err();
    assert!(err.isinstance::<CancelledError>());
    assert!(joiner.cancelled());
    // The inner task's last step runs in the same iteration as the joiner's, or the next.
    common::run_briefly(&lp);
    assert!(
        inner_cancelled.get(),
        "the joined task got the CancelledError"
    );
    assert!(tulip::all_tasks(Some(&lp)).unwrap().is_empty());
    lp.close().unwrap();
}

#[test]
fn join_works_on_a_future_too() {
    tulip::run(|co| {
        let lp = get_running_loop()?;
        let fut = lp.create_future::<Owned>();
        let setter = fut.clone();
        lp.call_soon(move || {
            let _ = setter.set_result(open_owned().unwrap());
        })?;
        let owned = co.join(fut)?;
        assert_eq!(owned.bytes.len(), 3);
        Ok(())
    })
    .unwrap();
}

#[test]
fn run_returns_a_non_clone_value_and_the_error_raised() {
    let owned = tulip::run(|_| open_owned()).unwrap();
    assert_eq!(&*owned.bytes, [1, 2, 3]);

    let at = Rc::new(Cell::new(0));
    let a = at.clone();
    let err = tulip::run(move |co| -> Result<Owned> {
        co.yield_now()?;
        Err(my_error(9, &a))
    })
    .err()
    .unwrap();
    assert_eq!(err.downcast_ref::<MyError>().map(|e| e.0), Some(9));
    assert_eq!(addr(&err), Some(at.get()), "the very error made in main");

    // Raised in a child and propagated by `?` through `wait`: the child is gone by the
    // time `run` returns, so the error is unshared and comes back as it was raised.
    let at = Rc::new(Cell::new(0));
    let a = at.clone();
    let err = tulip::run(move |co| -> Result<u32> {
        let lp = get_running_loop()?;
        let child = lp.create_task(move |_| -> Result<u32> { Err(my_error(11, &a)) })?;
        co.wait(&child)
    })
    .unwrap_err();
    assert_eq!(err.downcast_ref::<MyError>().map(|e| e.0), Some(11));
    assert_eq!(addr(&err), Some(at.get()));
}

/// The message once in each format: `{}`, `{:#}` (anyhow's chain) and `{:?}`.
fn assert_printed_once(err: &anyhow::Error, msg: &str) {
    for (how, text) in [
        ("{}", format!("{err}")),
        ("{:#}", format!("{err:#}")),
        ("{:?}", format!("{err:?}")),
    ] {
        assert_eq!(
            text.matches(msg).count(),
            1,
            "{how} shows {msg:?} once: {text:?}"
        );
    }
}

#[test]
fn a_message_is_printed_once() {
    // Out of `run`.
    let err = tulip::run(|_| -> Result<()> { Err(MyError(1).into()) }).unwrap_err();
    assert_printed_once(&err, "my error 1");
    let err =
        tulip::run(|_| -> Result<()> { Err(ValueError::new("bad value").into()) }).unwrap_err();
    assert_printed_once(&err, "bad value");

    tulip::run(|co| {
        let lp = get_running_loop()?;
        // Out of a task, joined (the error itself) and waited for (a shared handle).
        let t = lp.create_task(|_| -> Result<()> { Err(MyError(2).into()) })?;
        assert_printed_once(&co.join(t).unwrap_err(), "my error 2");
        let t = lp.create_task(|_| -> Result<()> { Err(MyError(3).into()) })?;
        let shared = co.wait(&t).unwrap_err();
        assert_printed_once(&shared, "my error 3");
        assert_printed_once(&t.exception()?.unwrap(), "my error 3");
        // A context layer on a shared error: each message once, the chain in order.
        let t = lp.create_task(|_| -> Result<()> { Err(MyError(4).into()) })?;
        let layered = co.wait(&t).unwrap_err().context("while waiting");
        assert_eq!(format!("{layered}"), "while waiting");
        assert_eq!(format!("{layered:#}"), "while waiting: my error 4");
        let debug = format!("{layered:?}");
        assert_eq!(debug.matches("my error 4").count(), 1, "{debug:?}");
        assert!(layered.find::<MyError>().is_some());
        Ok(())
    })
    .unwrap();

    // Shared, and the task kept alive: run gives a handle; it prints once all the same.
    let keep = Rc::new(std::cell::RefCell::new(None));
    let k = keep.clone();
    let err = tulip::run(move |co| -> Result<()> {
        let lp = get_running_loop()?;
        let t = lp.create_task(|_| -> Result<()> { Err(MyError(5).into()) })?;
        *k.borrow_mut() = Some(t.clone());
        co.wait(&t)
    })
    .unwrap_err();
    assert_printed_once(&err, "my error 5");
    assert_eq!(err.find::<MyError>().map(|e| e.0), Some(5));
}

#[test]
fn os_error_converts_to_and_from_io_error() {
    // A syscall's error: errno, kind and message all kept, both ways.
    let io_err = io::Error::from_raw_os_error(libc::ECONNREFUSED);
    let os = OsError::from(io_err);
    assert_eq!(os.errno(), Some(libc::ECONNREFUSED));
    assert_eq!(os.py_name(), "ConnectionRefusedError");
    assert_eq!(os.kind(), io::ErrorKind::ConnectionRefused);
    let back = io::Error::from(os.clone());
    assert_eq!(back.raw_os_error(), Some(libc::ECONNREFUSED));
    assert_eq!(back.kind(), io::ErrorKind::ConnectionRefused);
    assert_eq!(OsError::from(back), os);

    // asyncio's own message with an errno: kept, and the errno comes back.
    let os = OsError::with_errno(libc::ECONNREFUSED, "Connect call failed ('127.0.0.1', 1)");
    let back = io::Error::from(os.clone());
    assert_eq!(back.kind(), io::ErrorKind::ConnectionRefused);
    assert_eq!(back.to_string(), os.to_string());
    assert_eq!(OsError::from(back), os);

    // No errno: the class and the kind are kept.
    let os = OsError::named("ConnectionResetError", "Connection lost");
    let back = io::Error::from(os.clone());
    assert_eq!(back.kind(), io::ErrorKind::ConnectionReset);
    assert_eq!(OsError::from(back), os);

    // A std error without an errno: its kind survives the trip.
    let os = OsError::from(io::Error::new(io::ErrorKind::TimedOut, "too slow"));
    assert_eq!(os.errno(), None);
    assert_eq!(os.kind(), io::ErrorKind::TimedOut);
    assert_eq!(os.py_name(), "TimeoutError");
    assert_eq!(io::Error::from(os).kind(), io::ErrorKind::TimedOut);
    let os = OsError::from(io::Error::new(io::ErrorKind::InvalidData, "garbled"));
    assert_eq!(os.kind(), io::ErrorKind::InvalidData);
    assert_eq!(os.message(), "garbled");
    assert_eq!(io::Error::from(os).kind(), io::ErrorKind::InvalidData);

    // `?` from io in a task body: an OsError reaches the caller of `run`.
    let err = tulip::run(|_| -> Result<()> {
        let e = File::open("/nonexistent/tulip").map_err(OsError::from)?;
        drop(e);
        Ok(())
    })
    .unwrap_err();
    let os = err.downcast_ref::<OsError>().expect("the OsError raised");
    assert_eq!(os.errno(), Some(libc::ENOENT));
    assert_eq!(os.kind(), io::ErrorKind::NotFound);
}
