//! asyncio's `StreamWriter`: writes go to the transport at once; `drain` is the flow control.

use std::fmt;
use std::net::SocketAddr;
use std::rc::Rc;

use anyhow::Result;

use super::tls::{SslObject, TlsAcceptor, TlsConnector, client_session, server_session};
use super::transport::{Owner, Transport};
use crate::errors::{OsError, ValueError};
use crate::futures::Future;
use crate::net::streams::DEFAULT_HIGH_WATER;
use crate::tasks::TaskCo;

/// asyncio's `StreamWriter`: writes to a connection. `write` sends at once when it can and
/// buffers the rest; `drain` is the flow control. Clones share one writer.
#[derive(Clone)]
pub struct StreamWriter {
    pub(crate) t: Rc<Transport>,
    pub(crate) _owner: Rc<Owner>,
}

impl StreamWriter {
    /// `writer.write(data)`: sends what the socket takes now, buffers the rest (sent by a
    /// writer callback). After the connection is lost the data is dropped (as asyncio).
    ///
    /// # Errors
    ///
    /// `RuntimeError('Cannot call write() after write_eof()')`.
    pub fn write(&self, data: &[u8]) -> Result<()> {
        self.t.write(data)
    }

    /// `writer.writelines(chunks)`.
    pub fn writelines<I: IntoIterator<Item = B>, B: AsRef<[u8]>>(&self, chunks: I) -> Result<()> {
        for c in chunks {
            self.t.write(c.as_ref())?;
        }
        Ok(())
    }

    /// `await writer.drain()`: waits while the write buffer is over the high-water mark,
    /// until it is at or under the low one. On a closing writer it first yields one
    /// iteration, so the close can complete.
    ///
    /// # Errors
    ///
    /// - The reader's error if the connection failed.
    /// - `ConnectionResetError('Connection lost')` once the connection is gone.
    /// - `CancelledError` when the waiting task is cancelled.
    pub fn drain(&self, co: &TaskCo) -> Result<()> {
        let t = &*self.t;
        t.reader.check_exception()?;
        if t.closing.get() {
            co.yield_now()?;
        }
        match drain_check(t)? {
            None => Ok(()),
            Some(w) => {
                let r = co.wait(&w);
                drain_end(t, &w);
                r
            }
        }
    }

    /// `writer.close()`: stops reading, sends what is buffered, then closes the socket (in a
    /// later iteration). Idempotent.
    pub fn close(&self) {
        self.t.close();
    }

    /// `writer.is_closing()`: `close()` was called or the connection was lost.
    pub fn is_closing(&self) -> bool {
        self.t.closing.get()
    }

    /// `await writer.wait_closed()`: until the socket is closed.
    ///
    /// # Errors
    ///
    /// The connection's error if it was lost with one; `CancelledError` when the waiting
    /// task is cancelled.
    pub fn wait_closed(&self, co: &TaskCo) -> Result<()> {
        co.wait(&self.t.closed)
    }

    /// `writer.write_eof()`: shuts down the sending side once the buffer is sent (the peer
    /// reads EOF); reading goes on. On a TLS connection: `NotImplementedError`, as asyncio.
    pub fn write_eof(&self) -> Result<()> {
        self.t.write_eof()
    }

    /// `writer.can_write_eof()`: true for sockets, false once TLS is on (TLS has no
    /// half-close; `write_eof` is then `NotImplementedError`, as in asyncio).
    pub fn can_write_eof(&self) -> bool {
        !self.t.is_tls.get()
    }

    /// `await writer.start_tls(sslcontext, server_hostname=...)`: upgrades this connection
    /// to TLS as its client, in place (this writer and its reader now carry TLS), once the
    /// write buffer is drained. Returns when the handshake is done; `server_hostname` is the
    /// name (or IP address) the server's certificate must be valid for. The handshake
    /// timeout is the connector's (60 s by default).
    ///
    /// Bytes the reader had already received before the call stay in its buffer, as
    /// plaintext.
    ///
    /// # Errors
    ///
    /// The connection is closed on any of them:
    /// - [`SslError`](crate::SslError) when the handshake fails (`SSLCertVerificationError`:
    ///   `[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: ...`; a peer's alert;
    ///   `WRONG_VERSION_NUMBER` for a peer that does not speak TLS).
    /// - `ConnectionResetError` when the peer closes during the handshake;
    ///   `ConnectionAbortedError('SSL handshake is taking longer than 60.0 seconds: aborting
    ///   the connection')` on the timeout.
    /// - `ValueError` for a `server_hostname` that is neither a DNS name nor an IP address;
    ///   `TypeError` if the connection is already TLS.
    /// - `CancelledError` when the waiting task is cancelled.
    pub fn start_tls(&self, co: &TaskCo, ssl: &TlsConnector, server_hostname: &str) -> Result<()> {
        self.drain(co)?;
        let conn = client_session(ssl, server_hostname)?;
        let handshake = self
            .t
            .tls_begin(conn, ssl.handshake_timeout(), Some(server_hostname))?;
        self.t.tls_wait(co, &handshake)
    }

    /// `start_tls` on a server's side of a connection (asyncio picks the side from how the
    /// connection was made; here the config's type says it): waits for the client's
    /// handshake.
    ///
    /// # Errors
    ///
    /// As [`StreamWriter::start_tls`] (e.g. `TLSV1_ALERT_UNKNOWN_CA` when the client refuses
    /// the certificate).
    pub fn start_tls_server(&self, co: &TaskCo, ssl: &TlsAcceptor) -> Result<()> {
        self.drain(co)?;
        let conn = server_session(ssl)?;
        let handshake = self.t.tls_begin(conn, ssl.handshake_timeout(), None)?;
        self.t.tls_wait(co, &handshake)
    }

    /// `get_extra_info('ssl_object')`: the TLS session's version, cipher, ALPN protocol and
    /// the peer's certificates; `None` on a plain connection.
    pub fn ssl_object(&self) -> Option<SslObject> {
        self.t.ssl_object()
    }

    /// `get_extra_info('peercert')`: the peer's certificate, DER-encoded (Python decodes it
    /// into a dict; parse it with an X.509 crate). `None` on a plain connection or when the
    /// peer sent none.
    pub fn peer_certificate(&self) -> Option<Vec<u8>> {
        self.ssl_object()
            .and_then(|o| o.getpeercert().map(<[u8]>::to_vec))
    }

    /// `get_extra_info('peername')` for TCP (`None` for Unix sockets).
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.t.peer
    }

    /// `get_extra_info('sockname')` for TCP (`None` for Unix sockets).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.t.local
    }

    /// `transport.get_write_buffer_size()`: bytes written and not sent yet.
    pub fn write_buffer_size(&self) -> usize {
        self.t.wbuf.borrow().len()
    }

    /// `transport.set_write_buffer_limits(high, low)`: `high` defaults to 64 KiB (or 4 * `low`),
    /// `low` to a quarter of `high`. `ValueError` unless `high >= low`.
    pub fn set_write_buffer_limits(&self, high: Option<usize>, low: Option<usize>) -> Result<()> {
        let high_v = high.unwrap_or(match low {
            Some(l) => 4 * l,
            None => DEFAULT_HIGH_WATER,
        });
        let low_v = low.unwrap_or(high_v / 4);
        if high_v < low_v {
            return Err(ValueError::new(format!(
                "high ({high_v}) must be >= low ({low_v}) must be >= 0"
            ))
            .into());
        }
        self.t.high.set(high_v);
        self.t.low.set(low_v);
        if self.t.wbuf.borrow().len() > high_v {
            self.t.write_paused.set(true);
        }
        self.t.maybe_resume_writing();
        Ok(())
    }
}

/// The part of `drain` after the closing yield: drained already (`None`), or the future to
/// wait on, registered; [`drain_end`] after the wait.
#[inline]
fn drain_check(t: &Transport) -> Result<Option<Future<()>>> {
    if t.lost.get() {
        return Err(OsError::named("ConnectionResetError", "Connection lost").into());
    }
    if !t.write_paused.get() {
        return Ok(None);
    }
    let w = t.lp.create_future::<()>();
    t.drain_waiters.borrow_mut().push(w.clone());
    Ok(Some(w))
}

/// Forgets the drain waiter `w` however its wait ended.
#[inline]
fn drain_end(t: &Transport, w: &Future<()>) {
    t.drain_waiters.borrow_mut().retain(|x| !x.ptr_eq(w));
}

#[cfg(feature = "nightly")]
mod stackless {
    use std::cell::Cell;
    use std::fmt;
    use std::panic::Location;

    use anyhow::Result;

    use super::{StreamWriter, drain_check, drain_end};
    use crate::errors::RuntimeError;
    use crate::futures::{Awaitable, Future, Suspend};
    use crate::generator::GeneratorState;
    use crate::generator::stackless::Sent;
    use crate::stackless::Delegate;
    use crate::sync::stackless::{Waiting, stackless_wait};
    use crate::sync::{Step, WaitOp};
    use crate::tasks::WaitKind;
    use crate::tasks::stackless::{AwaitStep, set_wait_site_at};

    #[derive(Default)]
    enum State {
        #[default]
        Unstarted,
        /// The closing writer's one-iteration yield.
        Yielded,
        /// On a drain waiter's future.
        Waiting(Future<()>),
        Finished,
    }

    /// What [`StreamWriter::drain_stackless`] returns: `await writer.drain()` for
    /// [`yield_from!`](crate::yield_from).
    #[must_use = "a stackless wait does nothing unless a stackless body yield_from!s it"]
    pub struct StreamDrain {
        w: StreamWriter,
        state: Cell<State>,
        at: &'static Location<'static>,
    }

    impl StreamDrain {
        /// `drain` after the closing yield: done, or suspended on a drain waiter.
        fn check(&self) -> Result<GeneratorState<Suspend, ()>> {
            match drain_check(&self.w.t)? {
                None => Ok(GeneratorState::Returned(())),
                Some(fut) => {
                    set_wait_site_at(self.at, WaitKind::Wait);
                    let suspend = fut.suspend();
                    self.state.set(State::Waiting(fut));
                    Ok(GeneratorState::Yielded(suspend))
                }
            }
        }
    }

    impl Delegate for StreamDrain {
        type Yield = Suspend;
        type Send = ();
        type Return = ();

        fn prime(&self) -> Result<GeneratorState<Suspend, ()>> {
            match self.state.replace(State::Finished) {
                State::Unstarted => {}
                other => {
                    self.state.set(other);
                    return Err(reused());
                }
            }
            let t = &*self.w.t;
            t.reader.check_exception()?;
            if t.closing.get() {
                self.state.set(State::Yielded);
                return Ok(GeneratorState::Yielded(Suspend::bare()));
            }
            self.check()
        }

        fn forward(&self, sent: Sent<()>) -> Result<GeneratorState<Suspend, ()>> {
            match self.state.replace(State::Finished) {
                State::Yielded => {
                    Sent::into_result(sent)?;
                    self.check()
                }
                State::Waiting(fut) => {
                    // What `co.wait` returns: the error thrown in, or the future's outcome.
                    let r = Sent::into_result(sent).and_then(|()| AwaitStep::end(&fut));
                    drain_end(&self.w.t, &fut);
                    r.map(GeneratorState::Returned)
                }
                other => {
                    self.state.set(other);
                    Err(reused())
                }
            }
        }
    }

    /// Dropped while suspended: the writer keeps no waiter of a dead task.
    impl Drop for StreamDrain {
        fn drop(&mut self) {
            if let State::Waiting(fut) = self.state.take() {
                drain_end(&self.w.t, &fut);
            }
        }
    }

    impl fmt::Debug for StreamDrain {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("StreamDrain")
                .field("at", &self.at)
                .finish_non_exhaustive()
        }
    }

    #[cold]
    fn reused() -> anyhow::Error {
        RuntimeError::new("cannot reuse already awaited coroutine").into()
    }

    /// `wait_closed()` as a [`WaitOp`]: the wait on the connection's closed future.
    pub(crate) struct WaitClosed;

    impl WaitOp<StreamWriter> for WaitClosed {
        type Output = ();

        fn begin(&mut self, w: &StreamWriter) -> Step<()> {
            let closed = &w.t.closed;
            if closed.done() {
                // `co.wait` on a done future does not suspend.
                return Step::Done(closed.result());
            }
            Step::Wait(closed.clone(), WaitKind::Wait)
        }

        fn resume(&mut self, _: &StreamWriter, _: Future<()>, waited: Result<()>) -> Step<()> {
            Step::Done(waited)
        }
    }

    stackless_wait!(
        /// What [`StreamWriter::wait_closed_stackless`] returns: `await writer.wait_closed()`.
        StreamWaitClosed [] [] (StreamWriter, WaitClosed) -> ()
    );

    impl StreamWriter {
        /// `await writer.drain()` for a stackless body:
        /// `yield_from!(writer.drain_stackless())?`. Exactly [`StreamWriter::drain`] (the
        /// closing writer's one-iteration yield, the same errors), holding no stack while it
        /// waits.
        ///
        /// # Errors
        ///
        /// As [`StreamWriter::drain`].
        #[track_caller]
        pub fn drain_stackless(&self) -> StreamDrain {
            StreamDrain {
                w: self.clone(),
                state: Cell::new(State::Unstarted),
                at: Location::caller(),
            }
        }

        /// `await writer.wait_closed()` for a stackless body:
        /// `yield_from!(writer.wait_closed_stackless())?`. Exactly
        /// [`StreamWriter::wait_closed`].
        ///
        /// # Errors
        ///
        /// As [`StreamWriter::wait_closed`].
        #[track_caller]
        pub fn wait_closed_stackless(&self) -> StreamWaitClosed {
            StreamWaitClosed(Waiting::new(self.clone(), WaitClosed, Location::caller()))
        }
    }
}
#[cfg(feature = "nightly")]
pub use stackless::{StreamDrain, StreamWaitClosed};

impl fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.t.sock.borrow().is_none() {
            "closed"
        } else if self.t.closing.get() {
            "closing"
        } else {
            "open"
        };
        write!(f, "<StreamWriter fd={} {state}>", self.t.fd)
    }
}
