//! A server's handler that fails, by an error or by a panic, is reported the same way:
//! "Unhandled exception in client_connected_cb", naming the peer, and the server goes on.
use std::cell::RefCell;
use std::rc::Rc;

use anyhow::Result;
use tulip::{
    EventLoop, ExceptionContext, ValueError, get_running_loop, open_connection, py_addr,
    start_server,
};

fn failing(co: &tulip::TaskCo, r: tulip::StreamReader, w: tulip::StreamWriter) -> Result<()> {
    let line = r.readline(co)?;
    match &line[..] {
        b"error\n" => Err(ValueError::new("bad request").into()),
        b"panic\n" => panic!("handler panicked"),
        _ => {
            w.write(b"ok\n")?;
            w.drain(co)?;
            Ok(())
        }
    }
}

#[test]
fn handler_errors_and_panics_are_reported_with_the_peer() {
    // The test's own panic is expected; keep the hook from printing it as a failure.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info.to_string().contains("handler panicked") {
            hook(info);
        }
    }));
    let reports: Rc<RefCell<Vec<(String, String, String)>>> = Rc::default();
    let seen = reports.clone();
    tulip::run(move |co| {
        let lp = get_running_loop()?;
        lp.set_exception_handler(Some(move |_: &EventLoop, ctx: &ExceptionContext| {
            seen.borrow_mut().push((
                ctx.message.clone(),
                ctx.exception
                    .as_ref()
                    .map(tulip::py_repr)
                    .unwrap_or_default(),
                ctx.get("transport").unwrap_or_default().to_string(),
            ));
        }));
        let server = start_server(co, failing, "127.0.0.1", 0)?;
        let port = server.local_addr().unwrap().port();
        let mut peers = Vec::new();
        for req in ["error\n", "panic\n", "fine\n"] {
            let (r, w) = open_connection(co, "127.0.0.1", port)?;
            peers.push(py_addr(&w.local_addr().unwrap()));
            w.write(req.as_bytes())?;
            // The server closes the connection either way; a good request gets its answer.
            let answer = r.read_all(co)?;
            assert_eq!(answer, if req == "fine\n" { &b"ok\n"[..] } else { b"" });
        }
        server.close();
        server.wait_closed(co)?;
        let got = reports.borrow().clone();
        assert_eq!(
            got,
            vec![
                (
                    "Unhandled exception in client_connected_cb".to_string(),
                    "ValueError('bad request')".to_string(),
                    format!("<Transport peername={}>", peers[0]),
                ),
                (
                    "Unhandled exception in client_connected_cb".to_string(),
                    "Panic('handler panicked')".to_string(),
                    format!("<Transport peername={}>", peers[1]),
                ),
            ]
        );
        Ok(())
    })
    .unwrap();
}
