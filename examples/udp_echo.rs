//! A UDP echo server and a client in one program: `create_datagram_endpoint` with
//! `local_addr` and `remote_addr`, a `DatagramProtocol` on each side, `sendto`, `close`.
//!
//! Run: `cargo run --example udp_echo`. It prints `serving`, what the server got and the
//! three echoes, then `client closed` and `closed`. Python twin: `tests/python/udp_echo.py`.
use std::cell::RefCell;
use std::net::SocketAddr;

use anyhow::Result;
use tulip::{
    DatagramOptions, DatagramProtocol, DatagramTransport, Queue, create_datagram_endpoint, sleep,
};

/// The server: sends every datagram back where it came from.
struct EchoServer {
    transport: RefCell<Option<DatagramTransport>>,
}

impl DatagramProtocol for EchoServer {
    fn connection_made(&self, transport: &DatagramTransport) -> Result<()> {
        *self.transport.borrow_mut() = Some(transport.clone());
        Ok(())
    }

    fn datagram_received(&self, data: &[u8], addr: SocketAddr) -> Result<()> {
        println!("server got: {}", String::from_utf8_lossy(data));
        // Cloned out, so that no borrow is held while the transport runs.
        let transport = self.transport.borrow().clone().expect("connection made");
        transport.sendto(data, Some(addr))
    }
}

/// The client: hands each reply to the main task through a queue.
struct EchoClient {
    replies: Queue<Vec<u8>>,
}

impl DatagramProtocol for EchoClient {
    fn connection_made(&self, _transport: &DatagramTransport) -> Result<()> {
        println!("client ready");
        Ok(())
    }

    fn datagram_received(&self, data: &[u8], _addr: SocketAddr) -> Result<()> {
        self.replies.put_nowait(data.to_vec())
    }

    fn error_received(&self, exc: anyhow::Error) -> Result<()> {
        println!("error: {exc}");
        Ok(())
    }

    fn connection_lost(&self, _exc: Option<anyhow::Error>) -> Result<()> {
        println!("client closed");
        Ok(())
    }
}

fn main() -> Result<()> {
    tulip::run(|co| {
        let server_opts = DatagramOptions::local("127.0.0.1", 0);
        let make_server = || EchoServer {
            transport: RefCell::new(None),
        };
        let (server, _) = create_datagram_endpoint(co, make_server, server_opts)?;
        let port = server.local_addr().expect("bound").port();
        println!("serving");

        let replies = Queue::new(0);
        let r = replies.clone();
        let client_opts = DatagramOptions::remote("127.0.0.1", port);
        let (client, _) = create_datagram_endpoint(co, || EchoClient { replies: r }, client_opts)?;
        for text in ["Hello", "World!", "bye"] {
            client.sendto(text.as_bytes(), None)?;
            let echo = replies.get(co)?;
            println!("echo: {}", String::from_utf8_lossy(&echo));
        }
        client.close();
        server.close();
        sleep(co, std::time::Duration::ZERO)?; // connection_lost runs in the next iteration
        println!("closed");
        Ok(())
    })
}
