//! With the `tokio-io` feature, tulip's streams are tokio byte streams: a tokio-util codec
//! (`Framed` with `LinesCodec`) runs on a connection inside `wait_std`.
#![cfg(feature = "tokio-io")]

use futures::{SinkExt, StreamExt};
use tokio_util::codec::{Framed, LinesCodec};
use tulip::{StreamPair, StreamReader, StreamWriter, TaskCo, open_connection, start_server};

/// A line server written with the codec: answers each line upper-cased.
fn upper(co: &TaskCo, reader: StreamReader, writer: StreamWriter) -> anyhow::Result<()> {
    co.wait_std(async move {
        let mut lines = Framed::new(StreamPair::new(reader, writer), LinesCodec::new());
        while let Some(line) = lines.next().await {
            lines.send(line?.to_uppercase()).await?;
        }
        anyhow::Ok(())
    })?
}

#[test]
fn lines_codec_over_a_connection() {
    tulip::run(|co| {
        let server = start_server(co, upper, "127.0.0.1", 0)?;
        let port = server.local_addr().unwrap().port();
        let pair = StreamPair::from(open_connection(co, "127.0.0.1", port)?);
        let answers = co.wait_std(async move {
            let mut lines = Framed::new(pair, LinesCodec::new());
            let mut answers = Vec::new();
            for word in ["one", "two"] {
                lines.send(word).await?;
                answers.push(lines.next().await.expect("an answer")?);
            }
            // poll_shutdown: the server sees EOF and its loop ends.
            SinkExt::<String>::close(&mut lines).await?;
            assert!(lines.next().await.is_none());
            anyhow::Ok(answers)
        })??;
        assert_eq!(answers, ["ONE", "TWO"]);
        server.close();
        server.wait_closed(co)
    })
    .unwrap();
}
