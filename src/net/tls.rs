//! TLS on streams (layer 8): asyncio's `ssl=` argument, `start_tls`, `server_hostname`,
//! `ssl_handshake_timeout` and `ssl.SSLError`, with rustls (its `ring` provider).
//!
//! asyncio layers an `SSLProtocol` between the socket transport and the stream protocol.
//! Here the session lives inside the connection's own transport (`Transport::tls`), which
//! keeps one object per connection and lets `start_tls` upgrade a connection in place: the
//! reader and writer the user holds stay the same. A plain connection pays one flag test on
//! its read and write paths.
//!
//! - Reading: one `recv` of up to 64 KiB into the session's scratch buffer, fed to rustls
//!   record by record (rustls reads at most 4 KiB per `read_tls` call from a socket, so the
//!   socket is not its reader), and the plaintext appended to the [`StreamReader`]'s buffer.
//! - Writing: the plaintext is encrypted at once and the records go out as a plain
//!   connection's bytes do (sent now if the socket takes them, else buffered), so `drain()`
//!   and the high-water mark apply to the records. rustls's own buffer limit is off: the
//!   transport's buffer is the flow control.
//! - The handshake: a tulip future resolved by the read path when rustls finishes it, or
//!   failed with the TLS error (the alert rustls queued is sent first), by EOF, or by the
//!   handshake timeout (asyncio's `ConnectionAbortedError`).
//! - Closing sends `close_notify` first; a received `close_notify`, or EOF, is the
//!   reader's EOF and closes the connection, as asyncio's SSL transport does.

use std::fmt;
use std::io::{self, Read, Write};
use std::mem::MaybeUninit;
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, Connection, ServerConfig, ServerConnection};

use super::streams::MAX_READ;
use super::transport::Transport;
use crate::errors::{
    CancelledError, ErrorExt, OsError, PyException, SharedError, TypeError, ValueError,
    py_str_repr, register_py_exception,
};
use crate::event_loop::TimerHandle;
use crate::futures::Future;
use crate::net::sockets::would_block;
use crate::sys;
use crate::tasks::TaskCo;

/// asyncio's `SSL_HANDSHAKE_TIMEOUT`: a handshake not done after 60 seconds is aborted.
pub const SSL_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);

/// A duration as Python prints its float seconds (`60.0`, `0.25`).
fn py_seconds(d: Duration) -> String {
    let s = format!("{}", d.as_secs_f64());
    if s.contains('.') || s.contains('e') {
        s
    } else {
        format!("{s}.0")
    }
}

fn check_timeout(d: Duration) -> Result<Duration> {
    if d.is_zero() {
        return Err(ValueError::new(format!(
            "ssl_handshake_timeout should be a positive number, got {}",
            py_seconds(d)
        ))
        .into());
    }
    Ok(d)
}

/// rustls with *ring*, which builds with a C compiler alone (aws-lc needs cmake); rustls deprecates it for its
/// lack of post-quantum key exchange, which a config of the user's may add.
#[allow(deprecated)]
fn ring() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The client side of asyncio's `ssl=` (an `SSLContext` made for clients): a rustls
/// [`ClientConfig`] and the handshake timeout (asyncio's `ssl_handshake_timeout`, 60 s by
/// default). Cheap to clone.
///
/// Used by [`open_connection_tls`](crate::open_connection_tls) and
/// [`StreamWriter::start_tls`](crate::StreamWriter::start_tls).
#[derive(Clone)]
pub struct TlsConnector {
    config: Arc<ClientConfig>,
    handshake_timeout: Duration,
}

impl TlsConnector {
    /// A connector on a rustls client configuration.
    pub fn new(config: Arc<ClientConfig>) -> TlsConnector {
        TlsConnector {
            config,
            handshake_timeout: SSL_HANDSHAKE_TIMEOUT,
        }
    }

    /// A connector that trusts exactly these root certificates (DER), with rustls's safe
    /// defaults (TLS 1.2 and 1.3) on the `ring` provider and no client certificate: what
    /// `ssl.create_default_context(cafile=...)` makes.
    ///
    /// # Errors
    ///
    /// `SSLError` when a certificate cannot be used as a root.
    pub fn with_root_certificates(
        roots: impl IntoIterator<Item = CertificateDer<'static>>,
    ) -> Result<TlsConnector> {
        let mut store = rustls::RootCertStore::empty();
        for cert in roots {
            store
                .add(cert)
                .map_err(|e| SslError::from_rustls(&e, None))?;
        }
        let config = ClientConfig::builder_with_provider(ring())
            .with_safe_default_protocol_versions()
            .map_err(|e| SslError::from_rustls(&e, None))?
            .with_root_certificates(store)
            .with_no_client_auth();
        Ok(TlsConnector::new(Arc::new(config)))
    }

    /// The same connector with another handshake timeout (asyncio's `ssl_handshake_timeout`).
    ///
    /// # Errors
    ///
    /// `ValueError('ssl_handshake_timeout should be a positive number, got 0.0')` for zero.
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Result<TlsConnector> {
        self.handshake_timeout = check_timeout(timeout)?;
        Ok(self)
    }

    /// The handshake timeout.
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }

    /// The rustls configuration.
    pub fn config(&self) -> &Arc<ClientConfig> {
        &self.config
    }
}

impl From<Arc<ClientConfig>> for TlsConnector {
    fn from(config: Arc<ClientConfig>) -> Self {
        TlsConnector::new(config)
    }
}

impl From<ClientConfig> for TlsConnector {
    fn from(config: ClientConfig) -> Self {
        TlsConnector::new(Arc::new(config))
    }
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector")
            .field("handshake_timeout", &self.handshake_timeout)
            .finish_non_exhaustive()
    }
}

/// The server side of asyncio's `ssl=` (an `SSLContext` made for servers): a rustls
/// [`ServerConfig`] and the handshake timeout (60 s by default). Cheap to clone.
///
/// Used by [`start_server_tls`](crate::start_server_tls), [`ServerOptions::ssl`](crate::ServerOptions)
/// and [`StreamWriter::start_tls_server`](crate::StreamWriter::start_tls_server).
#[derive(Clone)]
pub struct TlsAcceptor {
    config: Arc<ServerConfig>,
    handshake_timeout: Duration,
}

impl TlsAcceptor {
    /// An acceptor on a rustls server configuration.
    pub fn new(config: Arc<ServerConfig>) -> TlsAcceptor {
        TlsAcceptor {
            config,
            handshake_timeout: SSL_HANDSHAKE_TIMEOUT,
        }
    }

    /// An acceptor presenting `chain` (the server's certificate first) with its private key,
    /// asking no client certificate, on the `ring` provider: `ctx.load_cert_chain(...)`.
    ///
    /// # Errors
    ///
    /// `SSLError` when the key does not fit the certificate or cannot be used.
    pub fn with_single_cert(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<TlsAcceptor> {
        let config = ServerConfig::builder_with_provider(ring())
            .with_safe_default_protocol_versions()
            .map_err(|e| SslError::from_rustls(&e, None))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| SslError::from_rustls(&e, None))?;
        Ok(TlsAcceptor::new(Arc::new(config)))
    }

    /// The same acceptor with another handshake timeout (asyncio's `ssl_handshake_timeout`).
    ///
    /// # Errors
    ///
    /// `ValueError('ssl_handshake_timeout should be a positive number, got 0.0')` for zero.
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Result<TlsAcceptor> {
        self.handshake_timeout = check_timeout(timeout)?;
        Ok(self)
    }

    /// The handshake timeout.
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }

    /// The rustls configuration.
    pub fn config(&self) -> &Arc<ServerConfig> {
        &self.config
    }
}

impl From<Arc<ServerConfig>> for TlsAcceptor {
    fn from(config: Arc<ServerConfig>) -> Self {
        TlsAcceptor::new(config)
    }
}

impl From<ServerConfig> for TlsAcceptor {
    fn from(config: ServerConfig) -> Self {
        TlsAcceptor::new(Arc::new(config))
    }
}

impl fmt::Debug for TlsAcceptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsAcceptor")
            .field("handshake_timeout", &self.handshake_timeout)
            .finish_non_exhaustive()
    }
}

/// Python's `ssl.SSLError` (and its subclass `ssl.SSLCertVerificationError`): a TLS failure,
/// printed as OpenSSL's `[SSL: REASON] message` (without CPython's `(_ssl.c:NNNN)` suffix).
/// It is an `OSError` in Python: [`ErrorExt::isinstance::<OsError>`](ErrorExt::isinstance)
/// holds.
///
/// rustls's errors map to OpenSSL's reasons where they correspond: an untrusted, expired or
/// misnamed certificate is `CERTIFICATE_VERIFY_FAILED` ("certificate verify failed:
/// unable to get local issuer certificate", "certificate has expired", "Hostname mismatch,
/// certificate is not valid for 'name'."), a peer's alert is `TLSV1_ALERT_UNKNOWN_CA`,
/// `SSLV3_ALERT_BAD_CERTIFICATE`, ..., and bytes that are not TLS are `WRONG_VERSION_NUMBER`.
/// The rustls error itself is kept ([`SslError::rustls_error`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SslError {
    name: &'static str,
    reason: String,
    msg: String,
    source: Option<rustls::Error>,
}

impl SslError {
    /// An `SSLError` with OpenSSL's reason code (e.g. `"WRONG_VERSION_NUMBER"`) and message.
    pub fn new(reason: impl Into<String>, msg: impl Into<String>) -> SslError {
        register_py_exception::<SslError>();
        SslError {
            name: "SSLError",
            reason: reason.into(),
            msg: msg.into(),
            source: None,
        }
    }

    /// The error for a rustls failure; `server_hostname` names the host in a name mismatch.
    pub fn from_rustls(e: &rustls::Error, server_hostname: Option<&str>) -> SslError {
        use rustls::CertificateError as C;
        use rustls::Error as E;
        let mut err = match e {
            E::InvalidCertificate(c) => {
                let detail = match c {
                    C::UnknownIssuer => "unable to get local issuer certificate".to_string(),
                    C::Expired | C::ExpiredContext { .. } => "certificate has expired".into(),
                    C::NotValidYet | C::NotValidYetContext { .. } => {
                        "certificate is not yet valid".into()
                    }
                    C::NotValidForName | C::NotValidForNameContext { .. } => {
                        match server_hostname {
                            Some(h) if h.parse::<IpAddr>().is_ok() => {
                                format!("IP address mismatch, certificate is not valid for '{h}'.")
                            }
                            Some(h) => {
                                format!("Hostname mismatch, certificate is not valid for '{h}'.")
                            }
                            None => "Hostname mismatch".into(),
                        }
                    }
                    C::Revoked => "certificate revoked".into(),
                    C::BadSignature => "certificate signature failure".into(),
                    other => format!("{other:?}"),
                };
                let mut err = SslError::new(
                    "CERTIFICATE_VERIFY_FAILED",
                    format!("certificate verify failed: {detail}"),
                );
                err.name = "SSLCertVerificationError";
                err
            }
            E::AlertReceived(alert) => {
                let name = snake(&format!("{alert:?}"));
                let prefix = match name.as_str() {
                    "close_notify"
                    | "unexpected_message"
                    | "bad_record_mac"
                    | "decompression_failure"
                    | "handshake_failure"
                    | "bad_certificate"
                    | "unsupported_certificate"
                    | "certificate_revoked"
                    | "certificate_expired"
                    | "certificate_unknown"
                    | "illegal_parameter" => "sslv3",
                    "certificate_required" | "missing_extension" => "tlsv13",
                    _ => "tlsv1",
                };
                SslError::new(
                    format!("{prefix}_alert_{name}").to_uppercase(),
                    format!("{prefix} alert {}", name.replace('_', " ")),
                )
            }
            // Bytes that are not TLS records: what OpenSSL says of a peer speaking plaintext.
            E::InvalidMessage(_) => SslError::new("WRONG_VERSION_NUMBER", "wrong version number"),
            E::PeerIncompatible(p) => SslError::new("NO_SHARED_CIPHER", format!("{p:?}")),
            other => {
                let text = other.to_string();
                SslError::new(snake(&variant(other)).to_uppercase(), text)
            }
        };
        err.source = Some(e.clone());
        err
    }

    /// OpenSSL's reason code, Python's `reason` attribute (e.g. `"CERTIFICATE_VERIFY_FAILED"`).
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Python's `library` attribute: always `"SSL"`.
    pub fn library(&self) -> &str {
        "SSL"
    }

    /// The message after the reason (`"certificate verify failed: ..."`).
    pub fn message(&self) -> &str {
        &self.msg
    }

    /// Python's `verify_message` of an `SSLCertVerificationError` (e.g. `"unable to get
    /// local issuer certificate"`); `None` for other TLS errors.
    pub fn verify_message(&self) -> Option<&str> {
        if self.is_cert_verification() {
            self.msg.strip_prefix("certificate verify failed: ")
        } else {
            None
        }
    }

    /// Whether this is Python's `SSLCertVerificationError` (the peer's certificate was
    /// refused).
    pub fn is_cert_verification(&self) -> bool {
        self.name == "SSLCertVerificationError"
    }

    /// The rustls error this was made from.
    pub fn rustls_error(&self) -> Option<&rustls::Error> {
        self.source.as_ref()
    }
}

/// A variant name from its `Debug` form (`General("x")` -> `General`).
fn variant(e: &rustls::Error) -> String {
    let d = format!("{e:?}");
    d.split(['(', ' ', '{']).next().unwrap_or("").to_string()
}

/// `UnknownCA` -> `unknown_ca`.
fn snake(camel: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in camel.chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c.to_ascii_lowercase());
    }
    out
}

impl fmt::Display for SslError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[SSL: {}] {}", self.reason, self.msg)
    }
}

impl std::error::Error for SslError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl PyException for SslError {
    fn py_name(&self) -> &str {
        self.name
    }
    fn py_arg(&self) -> Option<&str> {
        Some(&self.msg)
    }
    fn py_args_repr(&self) -> String {
        format!("1, {}", py_str_repr(&self.to_string()))
    }
    fn py_str(&self) -> String {
        self.to_string()
    }
    fn py_subclass_of(&self, base: std::any::TypeId) -> bool {
        base == std::any::TypeId::of::<OsError>()
    }
}

impl From<SslError> for io::Error {
    fn from(e: SslError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

/// asyncio's `get_extra_info('ssl_object')`: what the handshake settled, read once it is
/// done (a snapshot; cheap to clone).
#[derive(Clone, Debug)]
pub struct SslObject(Rc<SslInfo>);

#[derive(Debug)]
struct SslInfo {
    server_side: bool,
    server_hostname: Option<String>,
    version: &'static str,
    cipher: String,
    alpn: Option<Vec<u8>>,
    peer_certificates: Vec<CertificateDer<'static>>,
}

impl SslObject {
    fn of(conn: &Connection, server_hostname: Option<&str>) -> SslObject {
        let version = match conn.protocol_version() {
            Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
            Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
            _ => "unknown",
        };
        let cipher = conn
            .negotiated_cipher_suite()
            .and_then(|s| s.suite().as_str())
            .map(|s| s.replacen("TLS13_", "TLS_", 1))
            .unwrap_or_default();
        SslObject(Rc::new(SslInfo {
            server_side: matches!(conn, Connection::Server(_)),
            server_hostname: server_hostname.map(str::to_string),
            version,
            cipher,
            alpn: conn.alpn_protocol().map(<[u8]>::to_vec),
            peer_certificates: conn
                .peer_certificates()
                .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
                .unwrap_or_default(),
        }))
    }

    /// `ssl_object.version()`: `"TLSv1.3"` or `"TLSv1.2"`.
    pub fn version(&self) -> &str {
        self.0.version
    }

    /// The cipher suite's IANA name, e.g. `"TLS_AES_256_GCM_SHA384"` (`cipher()[0]` in
    /// Python for TLS 1.3; OpenSSL names TLS 1.2 suites its own way).
    pub fn cipher(&self) -> &str {
        &self.0.cipher
    }

    /// `ssl_object.selected_alpn_protocol()`.
    pub fn selected_alpn_protocol(&self) -> Option<&[u8]> {
        self.0.alpn.as_deref()
    }

    /// `ssl_object.server_hostname`: the name a client asked for (`None` on a server).
    pub fn server_hostname(&self) -> Option<&str> {
        self.0.server_hostname.as_deref()
    }

    /// `ssl_object.server_side`.
    pub fn server_side(&self) -> bool {
        self.0.server_side
    }

    /// `ssl_object.getpeercert(binary_form=True)`: the peer's certificate, DER (`None` when
    /// it sent none: a client of a server that asks none).
    pub fn getpeercert(&self) -> Option<&[u8]> {
        self.0.peer_certificates.first().map(|c| c.as_ref())
    }

    /// The peer's whole chain as it sent it, its own certificate first, DER.
    pub fn peer_certificates(&self) -> &[CertificateDer<'static>] {
        &self.0.peer_certificates
    }
}

/// A connection's TLS state (see the module's notes).
pub(crate) struct TlsSession {
    conn: Connection,
    /// What one `recv` read, fed to rustls.
    rbuf: Vec<u8>,
    /// Records rustls produced, on their way to the socket.
    out: Vec<u8>,
    /// Resolved when the handshake is done (`None` after).
    handshake: Option<Future<()>>,
    timer: Option<TimerHandle>,
    server_hostname: Option<String>,
    info: Option<SslObject>,
    /// `close_notify` was sent, or must not be (the peer is gone).
    notified: bool,
}

impl TlsSession {
    /// Moves what rustls has to send into `out`.
    fn collect(&mut self) {
        while self.conn.wants_write() {
            if self.conn.write_tls(&mut self.out).is_err() {
                break;
            }
        }
    }
}

/// `ServerName` for `server_hostname`: a DNS name or an IP address.
fn server_name(host: &str) -> Result<ServerName<'static>> {
    ServerName::try_from(host.to_string()).map_err(|_| {
        ValueError::new(format!("invalid server_hostname {}", py_str_repr(host))).into()
    })
}

impl Transport {
    /// Puts a TLS session on this connection and starts the handshake; the returned future
    /// resolves when it is done. Must run before the loop reads the socket again.
    pub(crate) fn tls_begin(
        self: &Rc<Self>,
        conn: Connection,
        timeout: Duration,
        server_hostname: Option<&str>,
    ) -> Result<Future<()>> {
        if self.is_tls.get() {
            return Err(TypeError::new(format!(
                "transport <_SSLProtocolTransport fd={}> is not supported by start_tls()",
                self.fd
            ))
            .into());
        }
        let mut conn = conn;
        conn.set_buffer_limit(None);
        let fut = self.lp.create_future::<()>();
        let weak = Rc::downgrade(self);
        let timer = self.lp.call_later(timeout, move || {
            if let Some(t) = weak.upgrade() {
                t.tls_handshake_timeout(timeout);
            }
        })?;
        *self.tls.borrow_mut() = Some(Box::new(TlsSession {
            conn,
            rbuf: Vec::new(),
            out: Vec::new(),
            handshake: Some(fut.clone()),
            timer: Some(timer),
            server_hostname: server_hostname.map(str::to_string),
            info: None,
            notified: false,
        }));
        self.is_tls.set(true);
        // A client's hello goes out now.
        self.tls_flush();
        Ok(fut)
    }

    /// Waits for the handshake `tls_begin` started; on failure or cancellation the
    /// connection is closed.
    pub(crate) fn tls_wait(self: &Rc<Self>, co: &TaskCo, handshake: &Future<()>) -> Result<()> {
        match co.wait(handshake) {
            Ok(()) => Ok(()),
            Err(e) => {
                if e.isinstance::<CancelledError>() {
                    self.force_close(None);
                }
                Err(e)
            }
        }
    }

    /// The TLS record of `data`, sent or buffered.
    pub(crate) fn tls_write(self: &Rc<Self>, data: &[u8]) -> Result<()> {
        {
            let mut g = self.tls.borrow_mut();
            let s = g.as_mut().expect("a TLS session");
            // Unlimited (set_buffer_limit(None)): the whole of `data` is taken.
            s.conn
                .writer()
                .write_all(data)
                .map_err(|e| OsError::from_io(&e))?;
        }
        self.tls_flush();
        Ok(())
    }

    /// Sends what rustls has to send (records, alerts, handshake messages).
    fn tls_flush(self: &Rc<Self>) {
        let out = {
            let mut g = self.tls.borrow_mut();
            let s = g.as_mut().expect("a TLS session");
            s.collect();
            if s.out.is_empty() {
                return;
            }
            std::mem::take(&mut s.out)
        };
        self.write_raw(&out);
        // The scratch buffer goes back for the next time.
        let mut out = out;
        out.clear();
        if let Some(s) = self.tls.borrow_mut().as_mut()
            && s.out.capacity() < out.capacity()
        {
            s.out = out;
        }
    }

    /// Sends `close_notify` once (before a close).
    pub(crate) fn tls_close_notify(self: &Rc<Self>) {
        if self.conn_lost.get() > 0 {
            return;
        }
        {
            let mut g = self.tls.borrow_mut();
            let s = g.as_mut().expect("a TLS session");
            if std::mem::replace(&mut s.notified, true) {
                return;
            }
            s.conn.send_close_notify();
        }
        self.tls_flush();
    }

    /// `AsyncWrite::poll_close` / `poll_shutdown`: `close_notify`, then the write side shut
    /// down once the buffer is sent.
    pub(crate) fn tls_shutdown(self: &Rc<Self>) {
        self.tls_close_notify();
        if self.closing.get() || self.eof.replace(true) {
            return;
        }
        if self.wbuf.borrow().is_empty() && self.sock.borrow().is_some() {
            let _ = self.shutdown_write();
        }
    }

    /// The reader callback of a TLS connection: one `recv`, fed to rustls; the plaintext
    /// to the reader.
    pub(crate) fn tls_read_ready(self: &Rc<Self>) {
        if self.conn_lost.get() > 0 {
            self.stop_reading();
            return;
        }
        let mut g = self.tls.borrow_mut();
        let s = g.as_mut().expect("a TLS session");
        s.rbuf.clear();
        s.rbuf.reserve(MAX_READ);
        let spare: &mut [MaybeUninit<u8>] = &mut s.rbuf.spare_capacity_mut()[..MAX_READ];
        match sys::recv_nonblocking(self.fd, spare) {
            Ok(0) => {
                drop(g);
                return self.tls_eof();
            }
            Ok(n) => {
                // SAFETY: recv initialised the first `n` bytes of the spare capacity.
                unsafe { s.rbuf.set_len(n) };
                if n < MAX_READ {
                    self.lp.clear_source(self.fd, true);
                }
            }
            Err(e) if would_block(&e) => {
                self.lp.clear_source(self.fd, true);
                return;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return,
            Err(e) => {
                drop(g);
                self.force_close(Some(SharedError::new(OsError::from_io(&e).into())));
                return;
            }
        }
        let mut input: &[u8] = &s.rbuf;
        let mut got_data = false;
        let mut peer_closed = false;
        let mut failure: Option<SslError> = None;
        // Never feed an empty slice: rustls would take it for EOF.
        while !input.is_empty() {
            if let Err(e) = s.conn.read_tls(&mut input) {
                failure = Some(SslError::new("RECORD_LAYER_FAILURE", e.to_string()));
                break;
            }
            match s.conn.process_new_packets() {
                Ok(state) => {
                    let n = state.plaintext_bytes_to_read();
                    if n > 0 {
                        let conn = &mut s.conn;
                        let r = self
                            .reader
                            .buf
                            .borrow_mut()
                            .fill_with(n, |buf| conn.reader().read(buf));
                        got_data |= matches!(r, Ok(k) if k > 0);
                    }
                    if state.peer_has_closed() {
                        peer_closed = true;
                        break;
                    }
                }
                Err(e) => {
                    failure = Some(SslError::from_rustls(&e, s.server_hostname.as_deref()));
                    break;
                }
            }
        }
        let handshake_done = failure.is_none() && s.handshake.is_some() && !s.conn.is_handshaking();
        drop(g);
        // Handshake replies, or the alert telling the peer why it failed.
        self.tls_flush();
        if let Some(e) = failure {
            return self.tls_fatal(e.into());
        }
        if handshake_done {
            self.tls_handshake_done();
        }
        if got_data {
            self.reader.data_arrived();
        }
        if peer_closed {
            // close_notify: EOF for the reader; the connection closes, answering it.
            self.stop_reading();
            self.reader.feed_eof();
            self.close();
        }
    }

    /// EOF on the socket.
    fn tls_eof(self: &Rc<Self>) {
        self.stop_reading();
        let handshaking = {
            let mut g = self.tls.borrow_mut();
            let s = g.as_mut().expect("a TLS session");
            // The peer is gone: no close_notify to it.
            s.notified = true;
            s.handshake.is_some()
        };
        if handshaking {
            // asyncio: ConnectionResetError (raised bare there).
            return self.tls_fatal(
                OsError::named(
                    "ConnectionResetError",
                    "Connection lost during the SSL handshake",
                )
                .into(),
            );
        }
        // asyncio's SSL transport closes on EOF (a missing close_notify is tolerated).
        self.reader.feed_eof();
        self.close();
    }

    fn tls_handshake_done(self: &Rc<Self>) {
        let (fut, timer) = {
            let mut g = self.tls.borrow_mut();
            let s = g.as_mut().expect("a TLS session");
            s.info = Some(SslObject::of(&s.conn, s.server_hostname.as_deref()));
            (s.handshake.take(), s.timer.take())
        };
        if let Some(t) = timer {
            t.cancel();
        }
        if let Some(f) = fut
            && !f.done()
        {
            let _ = f.set_result(());
        }
    }

    fn tls_handshake_timeout(self: &Rc<Self>, timeout: Duration) {
        let pending = self
            .tls
            .borrow()
            .as_ref()
            .is_some_and(|s| s.handshake.is_some());
        if pending {
            self.tls_fatal(
                OsError::named(
                    "ConnectionAbortedError",
                    format!(
                        "SSL handshake is taking longer than {} seconds: aborting the connection",
                        py_seconds(timeout)
                    ),
                )
                .into(),
            );
        }
    }

    /// asyncio's `_fatal_error`: the handshake (if pending) fails with `err`, and the
    /// connection closes at once with it.
    fn tls_fatal(self: &Rc<Self>, err: anyhow::Error) {
        let shared = SharedError::new(err);
        self.tls_fail_handshake(&shared);
        self.force_close(Some(shared));
    }

    fn tls_fail_handshake(&self, err: &SharedError) {
        let (fut, timer) = {
            let mut g = self.tls.borrow_mut();
            match g.as_mut() {
                Some(s) => (s.handshake.take(), s.timer.take()),
                None => (None, None),
            }
        };
        if let Some(t) = timer {
            t.cancel();
        }
        if let Some(f) = fut
            && !f.done()
        {
            let _ = f.set_exception(err.to_error());
        }
    }

    /// From `connection_lost`: a handshake still pending fails.
    pub(crate) fn tls_connection_lost(&self, exc: Option<&SharedError>) {
        let err = match exc {
            Some(e) => e.clone(),
            None => {
                SharedError::new(OsError::named("ConnectionResetError", "Connection lost").into())
            }
        };
        self.tls_fail_handshake(&err);
    }

    /// The session's `ssl_object`, once the handshake is done.
    pub(crate) fn ssl_object(&self) -> Option<SslObject> {
        self.tls.borrow().as_ref().and_then(|s| s.info.clone())
    }
}

/// A client session for `server_hostname`.
pub(crate) fn client_session(ssl: &TlsConnector, server_hostname: &str) -> Result<Connection> {
    let name = server_name(server_hostname)?;
    let conn = ClientConnection::new(ssl.config.clone(), name)
        .map_err(|e| SslError::from_rustls(&e, Some(server_hostname)))?;
    Ok(Connection::Client(conn))
}

/// A server session.
pub(crate) fn server_session(ssl: &TlsAcceptor) -> Result<Connection> {
    let conn =
        ServerConnection::new(ssl.config.clone()).map_err(|e| SslError::from_rustls(&e, None))?;
    Ok(Connection::Server(conn))
}
