//! tulip's streams as `futures-io` byte streams: futures' own helpers (`copy`, `read_to_end`,
//! `BufReader::lines`, `write_all`, `split`) run on them inside `wait_std`, plain and over TLS,
//! with the transport's flow control, EOF and errors seen through the traits.

use anyhow::Result;
use futures::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use futures::{StreamExt, TryStreamExt};
use tulip::{
    OsError, StreamPair, StreamReader, StreamWriter, TaskCo, get_running_loop, open_connection,
    start_server,
};

/// An echo server written with futures' `copy`: it ends at EOF and shuts its side down.
fn copy_echo(co: &TaskCo, reader: StreamReader, writer: StreamWriter) -> Result<()> {
    co.wait_std(async move {
        let mut reader = reader;
        let mut writer = writer;
        let n = futures::io::copy(&mut reader, &mut writer).await?;
        AsyncWriteExt::close(&mut writer).await?;
        anyhow::Ok(n)
    })??;
    Ok(())
}

#[test]
fn copy_lines_and_read_to_end() {
    tulip::run(|co| {
        let server = start_server(co, copy_echo, "127.0.0.1", 0)?;
        let port = server.local_addr().unwrap().port();
        let (reader, writer) = open_connection(co, "127.0.0.1", port)?;
        let lines = co.wait_std(async move {
            let mut writer = writer;
            writer.write_all(b"one\ntwo\nthree").await?;
            writer.flush().await?;
            // The server sees EOF, and its copy ends.
            AsyncWriteExt::close(&mut writer).await?;
            let lines: Vec<String> = BufReader::new(reader).lines().try_collect().await?;
            anyhow::Ok(lines)
        })??;
        assert_eq!(lines, ["one", "two", "three"]);
        server.close();
        server.wait_closed(co)
    })
    .unwrap();
}

/// Four megabytes through futures' `write_all` and `read_exact`: `poll_write` waits while the
/// buffer is over the high-water mark, `poll_read` while nothing is buffered, and the bytes
/// arrive in order.
#[test]
fn flow_control_both_ways() {
    tulip::run(|co| {
        let server = start_server(co, copy_echo, "127.0.0.1", 0)?;
        let port = server.local_addr().unwrap().port();
        let (reader, writer) = open_connection(co, "127.0.0.1", port)?;
        let data: Vec<u8> = (0..4_000_000u32).map(|i| (i % 253) as u8).collect();
        let lp = get_running_loop()?;
        let sending = data.clone();
        let sender = lp.create_task(move |co| {
            co.wait_std(async move {
                let mut writer = writer;
                for chunk in sending.chunks(300_000) {
                    writer.write_all(chunk).await?;
                }
                AsyncWriteExt::close(&mut writer).await?;
                anyhow::Ok(())
            })?
        })?;
        let back = co.wait_std(async move {
            let mut reader = reader;
            let mut back = Vec::new();
            reader.read_to_end(&mut back).await?;
            anyhow::Ok(back)
        })??;
        co.wait(&sender)?;
        assert!(back == data, "the echo differs ({} bytes)", back.len());
        server.close();
        server.wait_closed(co)
    })
    .unwrap();
}

/// A `StreamPair` is one duplex stream: futures' `split` takes it apart again.
#[test]
fn stream_pair_splits() {
    tulip::run(|co| {
        let server = start_server(co, copy_echo, "127.0.0.1", 0)?;
        let port = server.local_addr().unwrap().port();
        let pair = StreamPair::from(open_connection(co, "127.0.0.1", port)?);
        let got = co.wait_std(async move {
            let (r, mut w) = pair.split();
            w.write_all(b"ping\n").await?;
            w.close().await?;
            let mut lines = BufReader::new(r).lines();
            let first = lines.next().await.transpose()?;
            anyhow::Ok(first)
        })??;
        assert_eq!(got.as_deref(), Some("ping"));
        server.close();
        server.wait_closed(co)
    })
    .unwrap();
}

/// The connection's error is an `io::Error` with its errno and kind (here set by hand, as a
/// transport sets a reset); a write after the connection closed is `BrokenPipe`.
#[test]
fn errors_as_io_errors() {
    tulip::run(|co| {
        let lp = get_running_loop()?;
        let reader = StreamReader::new(&lp);
        reader.feed_data(b"unread");
        reader.set_exception(
            OsError::with_errno(libc::ECONNRESET, "Connection reset by peer").into(),
        );
        let e = co
            .wait_std(async move {
                let mut reader = reader;
                let mut buf = [0u8; 16];
                AsyncReadExt::read(&mut reader, &mut buf).await
            })?
            .unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset);
        assert_eq!(e.raw_os_error(), Some(libc::ECONNRESET));

        let server = start_server(co, copy_echo, "127.0.0.1", 0)?;
        let port = server.local_addr().unwrap().port();
        let (_reader, writer) = open_connection(co, "127.0.0.1", port)?;
        writer.close();
        writer.wait_closed(co)?;
        let e = co
            .wait_std(async move {
                let mut writer = writer;
                writer.write_all(b"x").await
            })?
            .unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
        drop(_reader);
        server.close();
        server.wait_closed(co)
    })
    .unwrap();
}

/// A reader fed by hand wakes a poll-based reader too; EOF is `Ok(0)`.
#[test]
fn fed_reader_wakes_a_poll() {
    tulip::run(|co| {
        let lp = get_running_loop()?;
        let reader = StreamReader::new(&lp);
        let feeder = reader.clone();
        lp.call_soon(move || {
            feeder.feed_data(b"fed ");
            feeder.feed_data(b"by hand");
            feeder.feed_eof();
        })?;
        let all = co.wait_std(async move {
            let mut reader = reader;
            let mut s = String::new();
            reader.read_to_string(&mut s).await.map(|_| s)
        })??;
        assert_eq!(all, "fed by hand");
        Ok(())
    })
    .unwrap();
}
