//! Sockets and streams: the loop's `sock_*` calls and asyncio's streams.
//!
//! Each function takes the coroutine handle `co`, and `f(co, ...)?` means `await f(...)`.
//! `cargo run --example echo_server` (twin: `tests/python/echo_server.py`):
//!
//! ```python
//! async def handle_echo(reader, writer):
//!     while line := await reader.readline():
//!         writer.write(line)
//!         await writer.drain()
//!     writer.close()
//!
//! async def main():
//!     server = await asyncio.start_server(handle_echo, '127.0.0.1', 0)
//!     port = server.sockets[0].getsockname()[1]
//!     r, w = await asyncio.open_connection('127.0.0.1', port)
//!     w.write(b'Hello\n'); await w.drain()
//!     print(await r.readline())
//!     w.close(); await w.wait_closed()
//!     server.close(); await server.wait_closed()
//! ```
//!
//! ```rust
//! use anyhow::Result;
//! use tulip::{StreamReader, StreamWriter, TaskCo, open_connection, py_bytes_repr, start_server};
//!
//! fn handle_echo(co: &TaskCo, reader: StreamReader, writer: StreamWriter) -> Result<()> {
//!     loop {
//!         let line = reader.readline(co)?;
//!         if line.is_empty() {
//!             break;
//!         }
//!         writer.write(&line)?;
//!         writer.drain(co)?;
//!     }
//!     writer.close();
//!     Ok(())
//! }
//!
//! tulip::run(|co| {
//!     let server = start_server(co, handle_echo, "127.0.0.1", 0)?;
//!     let port = server.local_addr().unwrap().port();
//!     let (r, w) = open_connection(co, "127.0.0.1", port)?;
//!     w.write(b"Hello\n")?;
//!     w.drain(co)?;
//!     println!("{}", py_bytes_repr(&r.readline(co)?)); // b'Hello\n'
//!     w.close();
//!     w.wait_closed(co)?;
//!     server.close();
//!     server.wait_closed(co)?;
//!     Ok(())
//! })?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! A server that runs until it is stopped (`serve_forever`) would block a doctest, so this one
//! is compiled but not run:
//!
//! ```rust,no_run
//! use tulip::{StreamReader, StreamWriter, TaskCo, start_server};
//!
//! fn handler(co: &TaskCo, reader: StreamReader, writer: StreamWriter) -> anyhow::Result<()> {
//!     let request = reader.readline(co)?;
//!     writer.write(&request)?;
//!     writer.drain(co)
//! }
//!
//! tulip::run(|co| {
//!     let server = start_server(co, handler, "127.0.0.1", 8888)?;
//!     server.serve_forever(co) // until the task is cancelled
//! })?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! On the stackless backend (feature `nightly`) the stream waits have native forms that hold
//! no stack while they wait, running the stackful methods' own code:
//! `yield_from!(reader.readline_stackless())?`, `read_stackless(n)`, `read_all_stackless()`,
//! `readexactly_stackless(n)`, `readuntil_stackless(sep)`, `yield_from!(writer.drain_stackless())?`
//! and `wait_closed_stackless()`; so 10,000 idle connections read by stackless tasks hold no
//! stack. So do the low-level socket calls: `yield_from!(stackless::sock_recv(&sock, n))?`,
//! `stackless::sock_sendall(&sock, data)`, `sock_connect(addr)`, `sock_accept(&listener)`, ...,
//! which borrow the socket until they end (hold it in the `static` body). Opening connections and starting servers take `co`: a stackless body reaches them
//! through `tulip::stackless::stackful(move |co| open_connection(co, host, port))`.
//!
//! The low-level calls borrow any socket:
//!
//! ```rust
//! use std::os::unix::net::UnixStream;
//!
//! use tulip::{sock_recv, sock_sendall};
//!
//! tulip::run(|co| {
//!     let (a, b) = UnixStream::pair()?;
//!     a.set_nonblocking(true)?;
//!     b.set_nonblocking(true)?;
//!     sock_sendall(co, &a, b"ping")?;
//!     assert_eq!(sock_recv(co, &b, 100)?, b"ping");
//!     drop(a);
//!     assert!(sock_recv(co, &b, 100)?.is_empty()); // EOF
//!     Ok(())
//! })?;
//! # Ok::<(), anyhow::Error>(())
//! ```
//!
//! | asyncio | tulip |
//! |---|---|
//! | `await loop.sock_recv(s, n)` / `sock_recv_into(s, buf)` | `sock_recv(co, &s, n)?` (empty at EOF) / `sock_recv_into(co, &s, &mut buf)?` |
//! | `await loop.sock_sendall(s, data)` | `sock_sendall(co, &s, &data)?` |
//! | `await loop.sock_connect(s, addr)` | `let s: TcpStream = sock_connect(co, addr)?;` (makes the socket: std has no unconnected one) |
//! | `conn, addr = await loop.sock_accept(l)` | `let (conn, addr) = sock_accept(co, &listener)?;` (TCP or Unix listener, non-blocking) |
//! | `open_connection(host, port, limit=)` / `open_connection(sock=s)` | `open_connection(co, host, port)?`, `open_connection_with(co, host, port, limit)?` / `wrap_stream(&lp, s, limit)?` |
//! | `start_server(cb, host, port, limit=, backlog=)` | `start_server(co, handler, host, port)?`, `start_server_with(.., ServerOptions { limit, backlog })?` |
//! | `reader.read(n)`, `read()`, `readline()`, `readexactly(n)`, `readuntil(sep)`, `at_eof()` | `read(co, n)`, `read_all(co)`, `readline(co)`, `readexactly(co, n)`, `readuntil(co, sep)`, `at_eof()` |
//! | `writer.write`, `writelines`, `drain`, `close`, `is_closing`, `wait_closed`, `write_eof` | the same names (`drain(co)`, `wait_closed(co)`) |
//! | `get_extra_info('peername')`, `transport.get_write_buffer_size()` | `peer_addr()`, `write_buffer_size()`; `set_write_buffer_limits(high, low)` |
//! | `server.close()`, `wait_closed()`, `is_serving()`, `sockets`, `serve_forever()` | the same; `local_addrs()` / `local_addr()` for the sockets |
//! | `await loop.getaddrinfo(host, port, type=, ...)` | `getaddrinfo(co, host, port)?` / `getaddrinfo_with(co, host, port, hints)?` → `Vec<AddrInfo>` (run in the default executor; numeric hosts skip it, as asyncio's `_ipaddr_info`) |
//! | `open_connection(host, port, happy_eyeballs_delay=, interleave=)` | `open_connection_opts(co, host, port, ConnectOptions { .. })?`: every address tried in order, a staggered race with a delay; all failing gives `OSError("Multiple exceptions: ...")` |
//! | `t, p = await loop.create_datagram_endpoint(P, local_addr=, remote_addr=)` | `let (t, p) = create_datagram_endpoint(co, \|\| P, DatagramOptions::local(host, port))?` (or `::remote`) |
//! | `DatagramProtocol`: `connection_made`, `datagram_received`, `error_received`, `connection_lost` | the trait [`DatagramProtocol`](crate::DatagramProtocol), same names, `&self` methods; an ICMP port unreachable on a connected socket is `error_received(ConnectionRefusedError)` |
//! | `transport.sendto(data, addr)`, `close()`, `abort()`, `get_extra_info('sockname')` | [`DatagramTransport`](crate::DatagramTransport): `sendto(data, Some(addr))`, `close()`, `abort()`, `get_extra_info("sockname")`, `local_addr()` |
//! | `await loop.sock_sendto(s, data, addr)`, `sock_recvfrom(s, n)`, `sock_recvfrom_into(s, buf)` | `sock_sendto(co, &s, data, addr)?`, `sock_recvfrom(co, &s, n)?` (cut to `n` as Python's), `sock_recvfrom_into(co, &s, &mut buf)?` |
//!
//! What holds:
//! - **Sockets**: any `&impl AsRawFd` (std's `TcpStream`/`UnixStream`, or another crate's). Each
//!   call tries the syscall first and waits only on `EAGAIN`, with a reader or writer that
//!   resolves a future and is removed however the wait ends (a cancelled `sock_recv` leaves no
//!   reader). `recv`/`send` pass `MSG_DONTWAIT`, and `send` passes `MSG_NOSIGNAL`, so a vanished
//!   peer gives `BrokenPipeError` and never a SIGPIPE.
//! - **Errors** print as Python's: [`OsError`](crate::OsError) carries the class from the errno
//!   (`ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 8)`, `[Errno 24]
//!   Too many open files`), plus `IncompleteReadError("2 bytes read on a total of 5 expected
//!   bytes")`, `LimitOverrunError(msg, consumed)`, the two-readers `RuntimeError`, and
//!   `ConnectionResetError('Connection lost')` from `drain()`.
//! - **Streams** are asyncio's transport and protocol: the connection reads its socket when it
//!   is readable and feeds the `StreamReader`. It owns the socket, so it registers it once
//!   (both directions, edge-triggered, readiness cached and cleared on `EAGAIN` or a short
//!   read/write, as tokio does) and makes no `epoll_ctl` per read, write, pause or resume;
//!   `add_reader` or `sock_recv` on a transport's socket is refused, as asyncio does. Reading
//!   pauses above 2 × limit. `write` sends at once and buffers the rest, and `drain` waits
//!   between 64 KiB and 16 KiB. EOF half-closes the connection, and `connection_lost` runs
//!   through `call_soon`. Running out of fds while accepting is reported ("socket.accept() out
//!   of system resource"), and accepting starts again after 1 s.
//! - **Ownership**: dropping the last `StreamReader`/`StreamWriter` clone of a connection closes
//!   it, after its buffered data is sent. A handler gets the pair by value, so its connection
//!   closes when it returns. An error from a handler is reported ("Unhandled exception in
//!   client_connected_cb"). Closing the loop unwinds pending reads, deregisters their fds and
//!   closes them.
//!
//! # TLS
//!
//! asyncio's `ssl=` is a [`TlsConnector`](crate::TlsConnector) (client) or a
//! [`TlsAcceptor`](crate::TlsAcceptor) (server), each a rustls config (the `ring` provider)
//! and the handshake timeout; `tulip::rustls` is the rustls it is made with.
//!
//! | asyncio | tulip |
//! |---|---|
//! | `open_connection(host, port, ssl=ctx)` | `open_connection_tls(co, host, port, &connector)?` |
//! | `open_connection(.., ssl=ctx, server_hostname=n, limit=l)` | `open_connection_tls_with(co, host, port, &connector, n, l)?` |
//! | `start_server(cb, host, port, ssl=ctx)` | `start_server_tls(co, handler, host, port, &acceptor)?` or `ServerOptions { ssl: Some(acceptor), .. }` |
//! | `await writer.start_tls(ctx, server_hostname=n)` | `writer.start_tls(co, &connector, n)?` (client) / `writer.start_tls_server(co, &acceptor)?` |
//! | `ssl_handshake_timeout=t` (60 s) | `connector.with_handshake_timeout(t)?` (on the acceptor too) |
//! | `get_extra_info('ssl_object')`, `'peercert'` | `writer.ssl_object()` ([`SslObject`](crate::SslObject): `version()`, `cipher()`, `server_hostname()`, `getpeercert()`), `writer.peer_certificate()` (DER, not a dict) |
//! | `ssl.SSLError`, `SSLCertVerificationError` | [`SslError`](crate::SslError): `reason()`, `verify_message()`, `[SSL: REASON] message` |
//!
//! The session lives in the connection's transport, so `start_tls` upgrades the reader and
//! writer in place; a plain connection pays one flag test. The handshake fails as in asyncio:
//! an untrusted or misnamed certificate is `SSLCertVerificationError`
//! (`CERTIFICATE_VERIFY_FAILED`), a peer's alert `TLSV1_ALERT_UNKNOWN_CA` and the like, a peer
//! that is not TLS `WRONG_VERSION_NUMBER`, a peer that leaves `ConnectionResetError` (asyncio
//! raises it without a message; tulip says "Connection lost during the SSL handshake"), the
//! timeout `ConnectionAbortedError('SSL handshake is taking longer than 60.0 seconds: aborting
//! the connection')`. A server's connection whose handshake fails is closed without running
//! its handler, and the server goes on. `close()` sends `close_notify` (it does not wait for
//! the peer's, as asyncio's `ssl_shutdown_timeout` does); a received `close_notify` or EOF is
//! the reader's EOF and closes the connection; `write_eof()` is `NotImplementedError`.
//!
//! # Streams as `AsyncRead` / `AsyncWrite`
//!
//! [`StreamReader`](crate::StreamReader) implements `futures-io`'s `AsyncRead` and
//! [`StreamWriter`](crate::StreamWriter) `AsyncWrite` (tokio's too, with the `tokio-io`
//! feature); [`StreamPair`](crate::StreamPair) joins them into one duplex stream (for a codec's
//! `Framed`). Use them inside [`TaskCo::wait_std`](crate::TaskCo::wait_std): a pending poll
//! leaves the task's waker where the transport resolves a waiting `read()` or `drain()`, so
//! the task polls again when data, EOF, an error or buffer room arrives. `poll_write` keeps
//! `drain()`'s flow control, `poll_flush` waits until the kernel has every byte, `poll_close`
//! shuts the sending side down (TLS: `close_notify` first). The inherent `read`/`close` names
//! win over the traits' extension methods: call `AsyncWriteExt::close(&mut writer)`, or use a
//! `StreamPair`. See `src/net/io_traits.rs` for the details.
//!
//! ```
//! use futures::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
//! use futures::TryStreamExt;
//!
//! tulip::run(|co| {
//!     let server = tulip::start_server(co, |co: &tulip::TaskCo, r, w| {
//!         // An echo server in futures' terms.
//!         co.wait_std(async move {
//!             let (mut r, mut w): (tulip::StreamReader, tulip::StreamWriter) = (r, w);
//!             futures::io::copy(&mut r, &mut w).await?;
//!             AsyncWriteExt::close(&mut w).await
//!         })??;
//!         Ok(())
//!     }, "127.0.0.1", 0)?;
//!     let port = server.local_addr().unwrap().port();
//!     let (reader, mut writer) = tulip::open_connection(co, "127.0.0.1", port)?;
//!     let lines: Vec<String> = co.wait_std(async move {
//!         writer.write_all(b"one\ntwo\n").await?;
//!         AsyncWriteExt::close(&mut writer).await?;
//!         BufReader::new(reader).lines().try_collect().await
//!     })??;
//!     assert_eq!(lines, ["one", "two"]);
//!     server.close();
//!     server.wait_closed(co)
//! })
//! .unwrap();
//! ```
//!
//! Tests: `tests/net_cases.rs` ports cases from `test_sock_lowlevel.py` and `test_streams.py`
//! (twins in `tests/cases/net/`). `tests/net_behaviour.rs` covers peers that close or reset
//! mid-read, 1000 concurrent connections, 10 MiB through an echo server, and a loop closed with
//! reads pending. `tests/net_emfile.rs` covers EMFILE. `tests/net_tls.rs` ports the TLS case
//! `tests/cases/net/tls_errors.py` (bad certificates, non-TLS peers both ways, a peer that
//! leaves, the timeout, `start_tls`) and moves a megabyte each way; `tests/net_io_traits.rs`
//! and `tests/net_tokio_io.rs` (`--features tokio-io`) run futures' and tokio-util's helpers
//! on streams.
