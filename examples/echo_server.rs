//! An echo server and one client in one program: `start_server`, `open_connection`,
//! `readline`, `write`/`drain`, `close`/`wait_closed`.
//!
//! Run: `cargo run --example echo_server`. It prints `serving`, three echoes and `closed`.
//! Python twin: `tests/python/echo_server.py`.
use tulip::{StreamReader, StreamWriter, TaskCo, open_connection, start_server};

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
    tulip::run(|co| {
        let server = start_server(co, handle_echo, "127.0.0.1", 0)?;
        let port = server.local_addr().expect("listening").port();
        println!("serving");
        let (reader, writer) = open_connection(co, "127.0.0.1", port)?;
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
    })
}
