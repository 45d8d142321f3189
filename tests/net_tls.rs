//! TLS on streams: `open_connection_tls`, `start_server_tls`, `start_tls`, the handshake's
//! errors and timeout, against asyncio's `ssl=` (the parity case `net/tls_errors`), and what a
//! trace does not show well: large transfers both ways, the peer's certificate, a cancelled
//! handshake, a server that goes on after bad peers. Every certificate is made at run time.

use std::time::Duration;

use anyhow::Result;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use tulip::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tulip::{
    CancelledError, ErrorExt, NotImplementedError, OsError, SslError, StreamReader, StreamWriter,
    TaskCo, TlsAcceptor, TlsConnector, ValueError, get_running_loop, open_connection,
    open_connection_tls, open_connection_tls_with, py_bytes_repr, start_server, start_server_tls,
};

mod common;
use common::{check_case, py_bool};

/// A CA, a second CA nobody's certificate comes from, and a server certificate for
/// `localhost` and `127.0.0.1` signed by the first.
struct Certs {
    ca: CertificateDer<'static>,
    other_ca: CertificateDer<'static>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

fn make_ca(name: &str) -> (Issuer<'static, KeyPair>, CertificateDer<'static>) {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name
        .push(DnType::CommonName, format!("tulip test {name}"));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().unwrap();
    let cert = p.self_signed(&key).unwrap();
    (Issuer::new(p, key), cert.der().clone())
}

fn certs() -> Certs {
    let (issuer, ca) = make_ca("ca");
    let (_, other_ca) = make_ca("other");
    let mut p =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, "localhost");
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, &issuer).unwrap();
    Certs {
        ca,
        other_ca,
        chain: vec![cert.der().clone()],
        key: PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    }
}

impl Certs {
    fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::with_single_cert(self.chain.clone(), self.key.clone_key()).unwrap()
    }

    fn connector(&self) -> TlsConnector {
        TlsConnector::with_root_certificates([self.ca.clone()]).unwrap()
    }
}

fn echo(co: &TaskCo, reader: StreamReader, writer: StreamWriter) -> Result<()> {
    loop {
        let line = reader.readline(co)?;
        if line.is_empty() {
            break;
        }
        writer.write(&line)?;
        writer.drain(co)?;
    }
    writer.close();
    Ok(())
}

/// Python's `describe(e)` of the case.
fn describe(e: &anyhow::Error) -> String {
    if let Some(s) = e.exc::<SslError>() {
        return match s.verify_message() {
            Some(v) => format!("{} {} {v}", tulip::errors::py_name(e), s.reason()),
            None => format!("{} {}", tulip::errors::py_name(e), s.reason()),
        };
    }
    format!("{} {}", tulip::errors::py_name(e), e)
}

#[test]
fn tls_errors() {
    check_case("net/tls_errors", || {
        let certs = certs();
        tulip::run(move |co| {
            let acceptor = certs.acceptor();
            let client = certs.connector();
            let stranger = TlsConnector::with_root_certificates([certs.other_ca.clone()])?;
            let server = start_server_tls(co, echo, "127.0.0.1", 0, &acceptor)?;
            let port = server.local_addr().unwrap().port();

            let good_client = |co: &TaskCo, n: u32| -> Result<()> {
                let (reader, writer) =
                    open_connection_tls_with(co, "127.0.0.1", port, &client, "localhost", 1 << 16)?;
                let obj = writer.ssl_object().unwrap();
                tprint!(
                    "good client {n} {} {} {} {}",
                    obj.version(),
                    obj.server_hostname().unwrap(),
                    py_bool(writer.peer_certificate().is_some()),
                    py_bool(writer.can_write_eof())
                );
                writer.write(format!("hello {n}\n").as_bytes())?;
                tprint!("echoed {}", py_bytes_repr(&reader.readline(co)?));
                if let Err(e) = writer.write_eof() {
                    assert!(e.isinstance::<NotImplementedError>());
                    tprint!("write_eof: {}", tulip::errors::py_name(&e));
                }
                writer.close();
                writer.wait_closed(co)
            };

            good_client(co, 1)?;

            let e =
                open_connection_tls_with(co, "127.0.0.1", port, &stranger, "localhost", 1 << 16)
                    .unwrap_err();
            tprint!(
                "untrusted CA: {} {}",
                describe(&e),
                py_bool(e.isinstance::<OsError>())
            );
            good_client(co, 2)?;

            let e =
                open_connection_tls_with(co, "127.0.0.1", port, &client, "other.example", 1 << 16)
                    .unwrap_err();
            tprint!("wrong name: {}", describe(&e));
            good_client(co, 3)?;

            let (reader, writer) = open_connection(co, "127.0.0.1", port)?;
            writer.write(b"GET / HTTP/1.0\r\n\r\n")?;
            reader.read_all(co)?;
            tprint!("plaintext client: closed by the server");
            writer.close();
            writer.wait_closed(co)?;

            let (_reader, writer) = open_connection(co, "127.0.0.1", port)?;
            writer.write(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")?;
            writer.drain(co)?;
            writer.close();
            writer.wait_closed(co)?;
            tprint!("client left mid-handshake");
            good_client(co, 4)?;

            fn plaintext(co: &TaskCo, reader: StreamReader, writer: StreamWriter) -> Result<()> {
                reader.read(co, 1)?;
                writer.write(b"HTTP/1.0 400 Bad Request\r\n\r\n")?;
                writer.drain(co)?;
                writer.close();
                Ok(())
            }
            fn closer(co: &TaskCo, reader: StreamReader, writer: StreamWriter) -> Result<()> {
                reader.read(co, 1)?;
                writer.close();
                Ok(())
            }
            fn silent(co: &TaskCo, reader: StreamReader, _writer: StreamWriter) -> Result<()> {
                reader.read_all(co)?;
                Ok(())
            }
            type H = fn(&TaskCo, StreamReader, StreamWriter) -> Result<()>;
            let quick = client
                .clone()
                .with_handshake_timeout(Duration::from_millis(100))?;
            for (name, handler) in [
                ("plaintext", plaintext as H),
                ("closing", closer as H),
                ("silent", silent as H),
            ] {
                let other = start_server(co, handler, "127.0.0.1", 0)?;
                let oport = other.local_addr().unwrap().port();
                let e =
                    open_connection_tls_with(co, "127.0.0.1", oport, &quick, "localhost", 1 << 16)
                        .unwrap_err();
                match e.exc::<OsError>() {
                    Some(os) if os.py_name() == "ConnectionResetError" => {
                        tprint!("{name} server: ConnectionResetError")
                    }
                    _ => tprint!("{name} server: {}", describe(&e)),
                }
                other.close();
                other.wait_closed(co)?;
            }

            let upgrading = start_server(
                co,
                move |co, reader: StreamReader, writer: StreamWriter| {
                    tprint!("server got {}", py_bytes_repr(&reader.readline(co)?));
                    writer.write(b"go ahead\n")?;
                    writer.drain(co)?;
                    writer.start_tls_server(co, &acceptor)?;
                    let obj = writer.ssl_object().unwrap();
                    assert!(writer.peer_certificate().is_none());
                    tprint!("server side: {} None", py_bool(obj.server_side()));
                    let line = reader.readline(co)?;
                    writer.write(&line.to_ascii_uppercase())?;
                    writer.drain(co)?;
                    writer.close();
                    Ok(())
                },
                "127.0.0.1",
                0,
            )?;
            let uport = upgrading.local_addr().unwrap().port();
            let (reader, writer) = open_connection(co, "127.0.0.1", uport)?;
            writer.write(b"STARTTLS\n")?;
            tprint!("client got {}", py_bytes_repr(&reader.readline(co)?));
            writer.start_tls(co, &client, "localhost")?;
            tprint!(
                "client side: {}",
                py_bool(writer.ssl_object().unwrap().server_side())
            );
            writer.write(b"secret\n")?;
            tprint!("client got {}", py_bytes_repr(&reader.readline(co)?));
            tprint!("then {}", py_bytes_repr(&reader.read_all(co)?));
            writer.close();
            writer.wait_closed(co)?;
            upgrading.close();
            upgrading.wait_closed(co)?;

            good_client(co, 5)?;
            server.close();
            server.wait_closed(co)?;
            tprint!("done");
            Ok(())
        })
        .unwrap();
    });
}

/// A megabyte each way through one connection, in writes larger than a TLS record and than
/// the reader's limit: the flow control holds on both sides and every byte arrives in order.
#[test]
fn large_transfers_both_ways() {
    let certs = certs();
    tulip::run(move |co| {
        let server = start_server_tls(
            co,
            |co: &TaskCo, reader: StreamReader, writer: StreamWriter| {
                // Echo in blocks until EOF.
                loop {
                    let block = reader.read(co, 100_000)?;
                    if block.is_empty() {
                        break;
                    }
                    writer.write(&block)?;
                    writer.drain(co)?;
                }
                writer.close();
                Ok(())
            },
            "127.0.0.1",
            0,
            &certs.acceptor(),
        )?;
        let port = server.local_addr().unwrap().port();
        let (reader, writer) = open_connection_tls(co, "localhost", port, &certs.connector())?;
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let lp = get_running_loop()?;
        let sender = lp.create_task({
            let writer = writer.clone();
            let data = data.clone();
            move |co| {
                for chunk in data.chunks(100 * 1024) {
                    writer.write(chunk)?;
                    writer.drain(co)?;
                }
                Ok(())
            }
        })?;
        let back = reader.readexactly(co, data.len())?;
        co.wait(&sender)?;
        assert!(back == data, "the echo differs");
        writer.close();
        writer.wait_closed(co)?;
        server.close();
        server.wait_closed(co)?;
        Ok(())
    })
    .unwrap();
}

/// The certificate a client sees is the server's, and the session says what was agreed.
#[test]
fn peer_certificate_and_ssl_object() {
    let certs = certs();
    let leaf = certs.chain[0].to_vec();
    tulip::run(move |co| {
        let server = start_server_tls(co, echo, "127.0.0.1", 0, &certs.acceptor())?;
        let port = server.local_addr().unwrap().port();
        let (reader, writer) = open_connection_tls(co, "127.0.0.1", port, &certs.connector())?;
        assert_eq!(writer.peer_certificate().unwrap(), leaf);
        let obj = writer.ssl_object().unwrap();
        assert_eq!(obj.version(), "TLSv1.3");
        assert!(obj.cipher().starts_with("TLS_"), "{}", obj.cipher());
        assert_eq!(obj.server_hostname(), Some("127.0.0.1"));
        assert!(!obj.server_side());
        assert_eq!(obj.peer_certificates().len(), 1);
        assert!(obj.selected_alpn_protocol().is_none());
        // A plain connection has none of it.
        let (plain_reader, plain) = open_connection(co, "127.0.0.1", port)?;
        assert!(plain.ssl_object().is_none() && plain.peer_certificate().is_none());
        assert!(plain.can_write_eof());
        // The last handles of each connection: both close.
        drop((reader, writer, plain_reader, plain));
        server.close();
        server.wait_closed(co)
    })
    .unwrap();
}

/// A task cancelled during the handshake gets `CancelledError`, its connection closes, and
/// the server (that never answers) sees the connection end.
#[test]
fn cancelled_handshake_closes_the_connection() {
    let certs = certs();
    tulip::run(move |co| {
        let lp = get_running_loop()?;
        let ended = lp.create_future::<()>();
        let server = start_server(
            co,
            {
                let ended = ended.clone();
                move |co: &TaskCo, reader: StreamReader, _w: StreamWriter| {
                    reader.read_all(co)?;
                    let _ = ended.set_result(());
                    Ok(())
                }
            },
            "127.0.0.1",
            0,
        )?;
        let port = server.local_addr().unwrap().port();
        let connector = certs.connector();
        let task = lp.create_task(move |co| {
            open_connection_tls(co, "127.0.0.1", port, &connector).map(|_| ())
        })?;
        for _ in 0..5 {
            co.yield_now()?;
        }
        task.cancel(None);
        let e = co.wait(&task).unwrap_err();
        assert!(e.isinstance::<CancelledError>());
        co.wait(&ended)?;
        server.close();
        server.wait_closed(co)
    })
    .unwrap();
}

/// asyncio's argument errors.
#[test]
fn bad_arguments() {
    let certs = certs();
    let e = certs
        .connector()
        .with_handshake_timeout(Duration::ZERO)
        .unwrap_err();
    assert!(e.isinstance::<ValueError>());
    assert_eq!(
        e.to_string(),
        "ssl_handshake_timeout should be a positive number, got 0.0"
    );
    tulip::run(move |co| {
        let e = open_connection_tls_with(co, "127.0.0.1", 1, &certs.connector(), "bad name!", 1)
            .unwrap_err();
        assert!(e.isinstance::<ValueError>(), "{e}");
        // start_tls on a connection that is TLS already: TypeError.
        let server = start_server_tls(co, echo, "127.0.0.1", 0, &certs.acceptor())?;
        let port = server.local_addr().unwrap().port();
        let (_reader, writer) = open_connection_tls(co, "127.0.0.1", port, &certs.connector())?;
        let e = writer
            .start_tls(co, &certs.connector(), "localhost")
            .unwrap_err();
        assert!(e.isinstance::<tulip::TypeError>(), "{e}");
        drop((_reader, writer));
        server.close();
        server.wait_closed(co)
    })
    .unwrap();
}
