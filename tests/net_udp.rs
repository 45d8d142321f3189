//! UDP: `create_datagram_endpoint`, the datagram transport and protocol, `sock_sendto` /
//! `sock_recvfrom`. The cases print the same trace as their Python programs in
//! tests/cases/net/udp_*.py (127.0.0.1, port 0, no port numbers printed); the behaviour tests
//! below them cover what a trace cannot show.
mod common;
use common::{ms, py_bool};

use std::cell::{Cell, RefCell};
use std::net::{SocketAddr, UdpSocket};
use std::rc::Rc;

use anyhow::Result;
use tulip::errors::{PyException, py_name};
use tulip::{
    DatagramOptions, DatagramProtocol, DatagramTransport, ExtraInfo, Future, OsError, Queue,
    TaskCo, create_datagram_endpoint, get_running_loop, py_addr, py_bytes_repr, sleep,
    sock_recvfrom, sock_recvfrom_into, sock_sendto, wrap_datagram,
};

fn run_case(name: &str, main: impl FnOnce(&TaskCo) -> Result<()> + 'static) {
    common::check_case(name, || tulip::run(main).unwrap());
}

fn pb(b: &[u8]) -> String {
    py_bytes_repr(b)
}

/// Python's `repr(exc)` of an `OSError` with an errno: `ConnectionRefusedError(111, '...')`.
fn os_repr(e: &anyhow::Error) -> String {
    match e.downcast_ref::<OsError>() {
        Some(os) => format!("{}({})", os.py_name(), os.py_args_repr()),
        None => format!("{e:?}"),
    }
}

fn none_or(e: Option<anyhow::Error>) -> String {
    e.map_or("None".into(), |e| e.to_string())
}

type Events = Rc<RefCell<Vec<String>>>;

struct Echo {
    events: Events,
    transport: RefCell<Option<DatagramTransport>>,
}

impl DatagramProtocol for Echo {
    fn connection_made(&self, t: &DatagramTransport) -> Result<()> {
        self.events.borrow_mut().push("connection_made".into());
        *self.transport.borrow_mut() = Some(t.clone());
        Ok(())
    }
    fn datagram_received(&self, data: &[u8], addr: SocketAddr) -> Result<()> {
        self.events
            .borrow_mut()
            .push(format!("datagram_received {}", pb(data)));
        let t = self.transport.borrow().clone().expect("made");
        t.sendto(&data.to_ascii_uppercase(), Some(addr))
    }
    fn connection_lost(&self, exc: Option<anyhow::Error>) -> Result<()> {
        self.events
            .borrow_mut()
            .push(format!("connection_lost {}", none_or(exc)));
        Ok(())
    }
}

struct Client {
    events: Events,
    done: Future<()>,
    got: Cell<u32>,
}

impl DatagramProtocol for Client {
    fn connection_made(&self, _: &DatagramTransport) -> Result<()> {
        self.events.borrow_mut().push("connection_made".into());
        Ok(())
    }
    fn datagram_received(&self, data: &[u8], _: SocketAddr) -> Result<()> {
        self.events
            .borrow_mut()
            .push(format!("datagram_received {}", pb(data)));
        self.got.set(self.got.get() + 1);
        if self.got.get() == 3 {
            self.done.set_result(())?;
        }
        Ok(())
    }
    fn error_received(&self, exc: anyhow::Error) -> Result<()> {
        self.events
            .borrow_mut()
            .push(format!("error_received {}", os_repr(&exc)));
        Ok(())
    }
    fn connection_lost(&self, exc: Option<anyhow::Error>) -> Result<()> {
        self.events
            .borrow_mut()
            .push(format!("connection_lost {}", none_or(exc)));
        Ok(())
    }
}

fn addr_of(info: Option<ExtraInfo>) -> Option<SocketAddr> {
    match info {
        Some(ExtraInfo::Addr(a)) => Some(a),
        _ => None,
    }
}

#[test]
fn udp_endpoint_echo() {
    run_case("net/udp_endpoint", |co| {
        let lp = get_running_loop()?;
        let server_events: Events = Rc::default();
        let client_events: Events = Rc::default();
        let se = server_events.clone();
        let (server, _) = create_datagram_endpoint(
            co,
            move || Echo {
                events: se,
                transport: RefCell::new(None),
            },
            DatagramOptions::local("127.0.0.1", 0),
        )?;
        tprint!(
            "after create: server connection_made ran: {}",
            py_bool(*server_events.borrow() == ["connection_made"])
        );
        let addr = addr_of(server.get_extra_info("sockname")).expect("bound");
        tprint!("server sockname host: {}", addr.ip());
        tprint!(
            "server peername: {}",
            addr_of(server.get_extra_info("peername")).map_or("None".into(), |a| py_addr(&a))
        );
        let done = lp.create_future::<()>();
        let (ce, d) = (client_events.clone(), done.clone());
        let (client, _) = create_datagram_endpoint(
            co,
            move || Client {
                events: ce,
                done: d,
                got: Cell::new(0),
            },
            DatagramOptions::remote("127.0.0.1", addr.port()),
        )?;
        tprint!(
            "client peername is the server: {}",
            py_bool(client.peer_addr() == Some(addr))
        );
        tprint!(
            "client sockname host: {}",
            client.local_addr().expect("bound").ip()
        );
        client.sendto(b"one", None)?;
        client.sendto(b"", None)?;
        client.sendto(b"two", Some(addr))?;
        client.sendto(b"three", None)?;
        match client.sendto(b"x", Some(SocketAddr::from(([127, 0, 0, 1], 9)))) {
            Err(e) => tprint!(
                "{}: {}",
                py_name(&e),
                e.to_string().replace(&addr.port().to_string(), "PORT")
            ),
            Ok(()) => tprint!("no error"),
        }
        tprint!("write buffer size: {}", client.get_write_buffer_size());
        co.wait(&done)?;
        tprint!("is_closing before close: {}", py_bool(client.is_closing()));
        client.close();
        tprint!("is_closing after close: {}", py_bool(client.is_closing()));
        server.close();
        client.sendto(b"after close", None)?;
        sleep(co, ms(0))?;
        for (side, events) in [("server", &server_events), ("client", &client_events)] {
            for e in events.borrow().iter() {
                tprint!("{side}: {e}");
            }
        }
        Ok(())
    });
}

struct Refused {
    errors: Queue<anyhow::Error>,
}

impl DatagramProtocol for Refused {
    fn connection_made(&self, _: &DatagramTransport) -> Result<()> {
        tprint!("connection_made");
        Ok(())
    }
    fn datagram_received(&self, data: &[u8], _: SocketAddr) -> Result<()> {
        tprint!("datagram_received {}", pb(data));
        Ok(())
    }
    fn error_received(&self, exc: anyhow::Error) -> Result<()> {
        tprint!("error_received {} {}", os_repr(&exc), py_name(&exc));
        self.errors.put_nowait(exc)
    }
    fn connection_lost(&self, exc: Option<anyhow::Error>) -> Result<()> {
        tprint!("connection_lost {}", none_or(exc));
        Ok(())
    }
}

/// A port on 127.0.0.1 that nobody listens on (bound, then closed).
fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

#[test]
fn udp_port_unreachable_is_error_received() {
    run_case("net/udp_refused", |co| {
        let port = free_udp_port();
        let errors = Queue::new(0);
        let q = errors.clone();
        let (t, _) = create_datagram_endpoint(
            co,
            move || Refused { errors: q },
            DatagramOptions::remote("127.0.0.1", port),
        )?;
        t.sendto(b"hello", None)?;
        errors.get(co)?;
        tprint!("still open: {}", py_bool(!t.is_closing()));
        t.sendto(b"again", None)?;
        errors.get(co)?;
        t.close();
        sleep(co, ms(0))?;
        tprint!("closed");
        Ok(())
    });
}

#[test]
fn udp_sock_calls() {
    run_case("net/udp_sock", |co| {
        let lp = get_running_loop()?;
        let a = UdpSocket::bind("127.0.0.1:0")?;
        let b = Rc::new(UdpSocket::bind("127.0.0.1:0")?);
        a.set_nonblocking(true)?;
        b.set_nonblocking(true)?;
        let (addr_a, addr_b) = (a.local_addr()?, b.local_addr()?);
        tprint!("sent: {}", sock_sendto(co, &*b, b"early", addr_a)?);
        let (data, from) = sock_recvfrom(co, &a, 100)?;
        tprint!("queued: {} {}", pb(&data), py_bool(from == addr_b));
        let b2 = b.clone();
        lp.call_later(ms(10), move || {
            let _ = b2.send_to(b"late", addr_a);
        })?;
        let (data, from) = sock_recvfrom(co, &a, 100)?;
        tprint!("arrives later: {} {}", pb(&data), py_bool(from == addr_b));
        sock_sendto(co, &*b, b"0123456789", addr_a)?;
        sock_sendto(co, &*b, b"next", addr_a)?;
        let (data, _) = sock_recvfrom(co, &a, 4)?;
        tprint!("cut to 4: {}", pb(&data));
        let (data, _) = sock_recvfrom(co, &a, 100)?;
        tprint!("the next one whole: {}", pb(&data));
        sock_sendto(co, &a, b"into", addr_b)?;
        let mut buf = [0u8; 10];
        let (n, from) = sock_recvfrom_into(co, &*b, &mut buf)?;
        tprint!(
            "recvfrom_into: {} {} {}",
            n,
            pb(&buf[..n]),
            py_bool(from == addr_a)
        );
        tprint!("reader left behind: {}", py_bool(lp.remove_reader(&a)));
        Ok(())
    });
}

struct Quiet;
impl DatagramProtocol for Quiet {}

#[test]
fn udp_endpoint_errors() {
    run_case("net/udp_errors", |co| {
        match create_datagram_endpoint(co, || Quiet, DatagramOptions::default()) {
            Err(e) => tprint!("{}: {}", py_name(&e), e),
            Ok(_) => tprint!("no error"),
        }
        let (t, _) =
            create_datagram_endpoint(co, || Quiet, DatagramOptions::local("127.0.0.1", 0))?;
        let port = t.local_addr().expect("bound").port();
        match create_datagram_endpoint(co, || Quiet, DatagramOptions::local("127.0.0.1", port)) {
            Err(e) => {
                let os = e.downcast_ref::<OsError>().expect("an OSError");
                tprint!("{} {} {}", os.py_name(), os.errno().unwrap(), os.message());
            }
            Ok(_) => tprint!("no error"),
        }
        t.close();
        t.close();
        t.abort();
        tprint!("closing: {}", py_bool(t.is_closing()));
        sleep(co, ms(0))?;
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------
// Behaviour beyond the traces
// ---------------------------------------------------------------------------------------

/// Counts what it receives; fails on demand.
#[derive(Default)]
struct Counter {
    got: RefCell<Vec<Vec<u8>>>,
    lost: Cell<u32>,
    fail: Cell<bool>,
}

impl DatagramProtocol for Counter {
    fn datagram_received(&self, data: &[u8], _: SocketAddr) -> Result<()> {
        self.got.borrow_mut().push(data.to_vec());
        if self.fail.get() {
            anyhow::bail!("protocol failed");
        }
        Ok(())
    }
    fn connection_lost(&self, _: Option<anyhow::Error>) -> Result<()> {
        self.lost.set(self.lost.get() + 1);
        Ok(())
    }
}

#[test]
fn a_failing_protocol_is_reported_and_the_transport_goes_on() {
    let reported = Rc::new(RefCell::new(Vec::new()));
    let r = reported.clone();
    let got = tulip::run(move |co| {
        let lp = get_running_loop()?;
        lp.set_exception_handler(Some(
            move |_lp: &tulip::EventLoop, ctx: &tulip::ExceptionContext| {
                r.borrow_mut().push(ctx.message.clone());
            },
        ));
        let (t, p) =
            create_datagram_endpoint(co, Counter::default, DatagramOptions::local("127.0.0.1", 0))?;
        p.fail.set(true);
        let to = t.local_addr().unwrap();
        let s = UdpSocket::bind("127.0.0.1:0")?;
        s.send_to(b"a", to)?;
        s.send_to(b"b", to)?;
        while p.got.borrow().len() < 2 {
            sleep(co, ms(1))?;
        }
        t.close();
        sleep(co, ms(0))?;
        assert_eq!(p.lost.get(), 1);
        let got = p.got.borrow().clone();
        Ok(got)
    })
    .unwrap();
    assert_eq!(got, [b"a".to_vec(), b"b".to_vec()]);
    assert_eq!(
        *reported.borrow(),
        [
            "Exception in callback DatagramProtocol.datagram_received()",
            "Exception in callback DatagramProtocol.datagram_received()"
        ]
    );
}

#[test]
fn many_datagrams_arrive_in_order_one_per_iteration() {
    let got = tulip::run(|co| {
        let (t, p) =
            create_datagram_endpoint(co, Counter::default, DatagramOptions::local("127.0.0.1", 0))?;
        let to = t.local_addr().unwrap();
        let (c, _) = create_datagram_endpoint(
            co,
            || Quiet,
            DatagramOptions::remote("127.0.0.1", to.port()),
        )?;
        for i in 0..200u32 {
            c.sendto(&i.to_be_bytes(), None)?;
        }
        // Readiness alone must bring them all, with no busy loop left behind.
        while p.got.borrow().len() < 200 {
            sleep(co, ms(1))?;
        }
        c.close();
        t.close();
        let got = p.got.borrow().clone();
        Ok(got)
    })
    .unwrap();
    let want: Vec<Vec<u8>> = (0..200u32).map(|i| i.to_be_bytes().to_vec()).collect();
    assert_eq!(got, want);
}

#[test]
fn largest_datagram_is_received_whole() {
    let n = tulip::run(|co| {
        let (t, p) =
            create_datagram_endpoint(co, Counter::default, DatagramOptions::local("127.0.0.1", 0))?;
        let to = t.local_addr().unwrap();
        let s = UdpSocket::bind("127.0.0.1:0")?;
        s.send_to(&vec![7u8; 65507], to)?;
        while p.got.borrow().is_empty() {
            sleep(co, ms(1))?;
        }
        t.close();
        let n = p.got.borrow()[0].len();
        Ok(n)
    })
    .unwrap();
    assert_eq!(n, 65507);
}

/// Holds its transport: a cycle the transport breaks at `connection_lost` or loop close.
struct Holder(
    RefCell<Option<DatagramTransport>>,
    #[allow(dead_code)] Rc<()>,
);
impl DatagramProtocol for Holder {
    fn connection_made(&self, t: &DatagramTransport) -> Result<()> {
        *self.0.borrow_mut() = Some(t.clone());
        Ok(())
    }
}

#[test]
fn a_protocol_holding_its_transport_is_freed_on_close_and_on_loop_close() {
    let alive = Rc::new(());
    let a = alive.clone();
    tulip::run(move |co| {
        let (t, _) = create_datagram_endpoint(
            co,
            move || Holder(RefCell::new(None), a),
            DatagramOptions::local("127.0.0.1", 0),
        )?;
        t.close();
        sleep(co, ms(0))?;
        Ok(())
    })
    .unwrap();
    assert_eq!(Rc::strong_count(&alive), 1, "closed: protocol freed");

    let a = alive.clone();
    tulip::run(move |co| {
        // Never closed: the loop's close lets it go.
        let _ = create_datagram_endpoint(
            co,
            move || Holder(RefCell::new(None), a),
            DatagramOptions::local("127.0.0.1", 0),
        )?;
        Ok(())
    })
    .unwrap();
    assert_eq!(Rc::strong_count(&alive), 1, "loop closed: protocol freed");
}

#[test]
fn wrap_datagram_uses_a_socket_of_the_callers() {
    let got = tulip::run(|co| {
        let sock = UdpSocket::bind("127.0.0.1:0")?;
        let to = sock.local_addr()?;
        let (t, p) = wrap_datagram(co, sock, Counter::default)?;
        assert_eq!(t.local_addr(), Some(to));
        assert_eq!(t.peer_addr(), None);
        let s = UdpSocket::bind("127.0.0.1:0")?;
        s.send_to(b"hi", to)?;
        while p.got.borrow().is_empty() {
            sleep(co, ms(1))?;
        }
        t.abort();
        let got = p.got.borrow().clone();
        Ok(got)
    })
    .unwrap();
    assert_eq!(got, [b"hi".to_vec()]);
}

#[test]
fn a_host_name_that_does_not_resolve_is_a_gaierror() {
    let e = tulip::run(|co| {
        let opts = DatagramOptions::remote("no-such-host.invalid", 9);
        create_datagram_endpoint(co, || Quiet, opts).map(|_| ())
    })
    .unwrap_err();
    assert_eq!(e.downcast_ref::<OsError>().unwrap().py_name(), "gaierror");
}
