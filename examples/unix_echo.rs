//! An echo server on a Unix socket and one client in one program: `start_unix_server`,
//! `open_unix_connection`, `readline`, `write`/`drain`, `close`/`wait_closed`.
//!
//! Run: `cargo run --example unix_echo`. It prints `serving`, three echoes and `closed`; the
//! socket file lives in the temporary directory and is removed at the end. Python twin:
//! `tests/python/unix_echo.py`.
use tulip::{StreamReader, StreamWriter, TaskCo, open_unix_connection, start_unix_server};

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
    let path = std::env::temp_dir().join(format!("tulip-unix-echo-{}.sock", std::process::id()));
    tulip::run({
        let path = path.clone();
        move |co| {
            let server = start_unix_server(co, handle_echo, &path)?;
            println!("serving");
            let (reader, writer) = open_unix_connection(co, &path)?;
            for text in ["Hello", "World!", "bye"] {
                writer.write(format!("{text}\n").as_bytes())?;
                writer.drain(co)?;
                let echo = reader.readline(co)?;
                println!("echo: {}", String::from_utf8_lossy(&echo).trim_end());
            }
            writer.close();
            writer.wait_closed(co)?;
            server.close();
            server.wait_closed(co)?;
            println!("closed");
            Ok(())
        }
    })?;
    // As asyncio 3.11, closing the server leaves the socket file.
    std::fs::remove_file(&path)?;
    Ok(())
}
