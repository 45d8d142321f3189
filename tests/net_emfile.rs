//! Running out of file descriptors (EMFILE) surfaces as errors, never a crash: clients get
//! `OSError: [Errno 24] Too many open files`, the server reports "socket.accept() out of
//! system resource" and accepts again a second later. Its own test binary: it lowers the
//! process's fd limit.
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use anyhow::Result;
use tulip::{
    ErrorExt, EventLoop, ExceptionContext, OsError, ServerOptions, get_running_loop,
    open_connection, start_server_with, wait_for_fn,
};

fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(16, |d| d.count() as u64)
}

#[test]
fn emfile_is_an_error_not_a_crash() {
    let mut old = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscalls with valid structs.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut old) };
    let lp = EventLoop::new().unwrap();
    let reports = Rc::new(RefCell::new(Vec::<String>::new()));
    let r2 = reports.clone();
    lp.set_exception_handler(Some(move |_: &EventLoop, ctx: &ExceptionContext| {
        r2.borrow_mut().push(ctx.message.clone())
    }));
    let limited = libc::rlimit {
        rlim_cur: open_fds() + 40,
        rlim_max: old.rlim_max,
    };
    // SAFETY: as above.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limited) };

    let (ok, emfile) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
    let gave_up = Rc::new(Cell::new(0));
    let (ok2, emfile2, gave_up2) = (ok.clone(), emfile.clone(), gave_up.clone());
    let main = lp
        .create_task(move |co| {
            let lp = get_running_loop()?;
            let server = start_server_with(
                co,
                |co, r, w| {
                    let line = r.readline(co)?;
                    w.write(&line)?;
                    w.drain(co)
                },
                "127.0.0.1",
                0,
                ServerOptions {
                    backlog: 200,
                    ..Default::default()
                },
            )?;
            let port = server.local_addr().unwrap().port();
            let clients = (0..60)
                .map(|i| {
                    let (ok, emfile, gave_up) = (ok2.clone(), emfile2.clone(), gave_up2.clone());
                    lp.create_task(move |co| -> Result<()> {
                        match open_connection(co, "127.0.0.1", port) {
                            Ok((r, w)) => {
                                w.write(format!("{i}\n").as_bytes())?;
                                // Clients hold every fd, so the server cannot accept: give
                                // up after a while, which frees fds for the server's retry.
                                let echo =
                                    wait_for_fn(co, Some(Duration::from_secs(2)), move |co| {
                                        r.readline(co)
                                    });
                                match echo {
                                    Ok(line) => {
                                        assert_eq!(line, format!("{i}\n").as_bytes());
                                        ok.set(ok.get() + 1);
                                    }
                                    Err(e) => {
                                        assert!(e.isinstance::<tulip::TimeoutError>(), "{e:?}");
                                        gave_up.set(gave_up.get() + 1);
                                    }
                                }
                            }
                            Err(e) => {
                                let os = e.exc::<OsError>().expect("an OSError");
                                assert_eq!(os.errno(), Some(libc::EMFILE), "{os}");
                                assert_eq!(os.to_string(), "[Errno 24] Too many open files");
                                emfile.set(emfile.get() + 1);
                            }
                        }
                        Ok(())
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            wait_for_fn(co, Some(Duration::from_secs(30)), move |co| {
                for c in &clients {
                    co.wait(c)?;
                }
                Ok(())
            })?;
            server.close();
            Ok(())
        })
        .unwrap();
    let result = lp.run_until_complete(&main);
    // SAFETY: as above.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &old) };
    result.unwrap();
    lp.close().unwrap();
    assert_eq!(ok.get() + emfile.get() + gave_up.get(), 60);
    assert!(emfile.get() > 0, "the fd limit must have been hit");
    assert!(
        reports
            .borrow()
            .iter()
            .any(|m| m == "socket.accept() out of system resource"),
        "the server must report EMFILE: {:?}",
        reports.borrow()
    );
    println!(
        "ok {} emfile {} gave up {} reports {:?}",
        ok.get(),
        emfile.get(),
        gave_up.get(),
        reports.borrow()
    );
}
