//! Host names off the loop: `getaddrinfo` in the default executor (the case prints what
//! tests/cases/net/getaddrinfo.py prints), and the connection calls resolving through it only
//! for names, never for numeric addresses.
mod common;
use common::py_bool;

use anyhow::Result;
use tulip::{
    AddrInfoHints, OsError, SOCK_DGRAM, SOCK_STREAM, TaskCo, get_running_loop, getaddrinfo,
    getaddrinfo_with, open_connection, start_server,
};

fn run_case(name: &str, main: impl FnOnce(&TaskCo) -> Result<()> + 'static) {
    common::check_case(name, || tulip::run(main).unwrap());
}

fn socktype_repr(t: i32) -> String {
    match t {
        1 => "<SocketKind.SOCK_STREAM: 1>".into(),
        2 => "<SocketKind.SOCK_DGRAM: 2>".into(),
        3 => "<SocketKind.SOCK_RAW: 3>".into(),
        t => t.to_string(),
    }
}

#[test]
fn getaddrinfo_tuples() {
    run_case("net/getaddrinfo", |co| {
        let stream = AddrInfoHints {
            socktype: SOCK_STREAM,
            ..Default::default()
        };
        for info in getaddrinfo_with(co, "127.0.0.1", 80, stream)? {
            tprint!("{}", info.py_repr());
        }
        let dgram = AddrInfoHints {
            socktype: SOCK_DGRAM,
            ..Default::default()
        };
        for info in getaddrinfo_with(co, "::1", 53, dgram)? {
            tprint!("{}", info.py_repr());
        }
        let mut types: Vec<i32> = getaddrinfo(co, "127.0.0.1", 8080)?
            .iter()
            .map(|i| i.socktype)
            .collect();
        types.sort();
        let types: Vec<String> = types.into_iter().map(socktype_repr).collect();
        tprint!("[{}]", types.join(", "));
        let infos = getaddrinfo_with(co, "localhost", 80, stream)?;
        tprint!(
            "localhost is loopback: {}",
            py_bool(infos.iter().all(|i| i.addr.ip().is_loopback()))
        );
        Ok(())
    });
}

#[test]
fn numeric_addresses_skip_the_executor_and_names_use_it() {
    tulip::run(|co| {
        let lp = get_running_loop()?;
        let server = start_server(co, common::echo, "127.0.0.1", 0)?;
        let port = server.local_addr().unwrap().port();
        let (_r, w) = open_connection(co, "127.0.0.1", port)?;
        w.close();
        assert_eq!(lp.default_executor_threads(), 0, "no lookup for 127.0.0.1");
        let (r, w) = open_connection(co, "localhost", port)?;
        assert_eq!(lp.default_executor_threads(), 1, "a lookup for localhost");
        w.write(b"hi")?;
        w.write_eof()?;
        assert_eq!(r.read_all(co)?, b"hi");
        w.close();
        w.wait_closed(co)?;
        server.close();
        server.wait_closed(co)?;
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_name_that_does_not_resolve_is_a_gaierror() {
    let e = tulip::run(|co| getaddrinfo(co, "no-such-host.invalid", 80).map(|_| ())).unwrap_err();
    let os = e.downcast_ref::<OsError>().unwrap();
    assert_eq!(os.py_name(), "gaierror");
    assert!(os.errno().unwrap() < 0, "{os}");
    let e =
        tulip::run(|co| open_connection(co, "no-such-host.invalid", 80).map(|_| ())).unwrap_err();
    assert_eq!(e.downcast_ref::<OsError>().unwrap().py_name(), "gaierror");
}
