//! A TLS echo server and one client in one program, with a certificate authority and a
//! server certificate made at run time (rcgen): `start_server_tls`, `open_connection_tls`,
//! `ssl_object()`, and a client that does not trust the server refused with asyncio's error.
//!
//! Run: `cargo run --example tls_echo`. Python twin: `tests/python/tls_echo.py` (its
//! certificates come from the `openssl` command).
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use tulip::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tulip::{
    ErrorExt, SslError, StreamReader, StreamWriter, TaskCo, TlsAcceptor, TlsConnector,
    open_connection_tls, start_server_tls,
};

/// A CA certificate and its issuer.
fn make_ca(name: &str) -> anyhow::Result<(Issuer<'static, KeyPair>, CertificateDer<'static>)> {
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate()?;
    let cert = p.self_signed(&key)?;
    Ok((Issuer::new(p, key), cert.der().clone()))
}

/// One connection: echo each line until the client closes.
fn handle_echo(co: &TaskCo, reader: StreamReader, writer: StreamWriter) -> anyhow::Result<()> {
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

fn main() -> anyhow::Result<()> {
    let (issuer, ca) = make_ca("tls_echo CA")?;
    let (_, stranger_ca) = make_ca("another CA")?;
    let mut p = CertificateParams::new(vec!["localhost".to_string()])?;
    p.distinguished_name.push(DnType::CommonName, "localhost");
    let key = KeyPair::generate()?;
    let cert = p.signed_by(&key, &issuer)?;
    let acceptor = TlsAcceptor::with_single_cert(
        vec![cert.der().clone()],
        PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )?;
    let client = TlsConnector::with_root_certificates([ca])?;
    let stranger = TlsConnector::with_root_certificates([stranger_ca])?;

    tulip::run(move |co| {
        let server = start_server_tls(co, handle_echo, "127.0.0.1", 0, &acceptor)?;
        let port = server.local_addr().expect("listening").port();
        println!("serving TLS");
        let (reader, writer) = open_connection_tls(co, "localhost", port, &client)?;
        println!(
            "handshake done: {}",
            writer.ssl_object().expect("TLS").version()
        );
        for text in ["Hello", "World!", "bye"] {
            writer.write(format!("{text}\n").as_bytes())?;
            writer.drain(co)?;
            let echo = reader.readline(co)?;
            println!("echo: {}", String::from_utf8_lossy(&echo).trim_end());
        }
        writer.close();
        writer.wait_closed(co)?;
        match open_connection_tls(co, "localhost", port, &stranger) {
            Ok(_) => println!("stranger connected?"),
            Err(e) => {
                let ssl = e.exc::<SslError>().expect("an SSL error");
                println!("stranger refused: {}", ssl.reason());
            }
        }
        server.close();
        server.wait_closed(co)?;
        println!("closed");
        Ok(())
    })
}
