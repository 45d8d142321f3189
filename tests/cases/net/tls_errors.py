# TLS over streams: a good client, a client that does not trust the server's CA, a wrong
# server_hostname, a peer that is not TLS (both ways), a peer that closes mid-handshake, a
# handshake that times out, start_tls on an open connection, and the server serving a good
# client again after each bad one. Certificates are made at run time (openssl).
import asyncio
import os
import ssl
import subprocess
import tempfile


def make_certs(d):
    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    for ca in ("ca", "other"):
        run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.pem", "-days", "2",
            "-subj", f"/CN=tulip test {ca}")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")


def describe(e):
    if isinstance(e, ssl.SSLCertVerificationError):
        return f"{type(e).__name__} {e.reason} {e.verify_message}"
    if isinstance(e, ssl.SSLError):
        return f"{type(e).__name__} {e.reason}"
    return f"{type(e).__name__} {e}"


async def main(d):
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(os.path.join(d, "server.pem"), os.path.join(d, "server.key"))
    client_ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.pem"))
    stranger_ctx = ssl.create_default_context(cafile=os.path.join(d, "other.pem"))

    async def echo(reader, writer):
        while line := await reader.readline():
            writer.write(line)
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]

    async def good_client(n):
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=client_ctx, server_hostname="localhost")
        obj = writer.get_extra_info("ssl_object")
        print("good client", n, obj.version(), obj.server_hostname,
              writer.get_extra_info("peercert") is not None, writer.can_write_eof())
        writer.write(f"hello {n}\n".encode())
        print("echoed", await reader.readline())
        try:
            writer.write_eof()
        except NotImplementedError as e:
            print("write_eof:", type(e).__name__)
        writer.close()
        await writer.wait_closed()

    await good_client(1)

    # A client that trusts another CA.
    try:
        await asyncio.open_connection("127.0.0.1", port, ssl=stranger_ctx,
                                      server_hostname="localhost")
    except Exception as e:
        print("untrusted CA:", describe(e), isinstance(e, OSError))
    await good_client(2)

    # A name the certificate is not valid for.
    try:
        await asyncio.open_connection("127.0.0.1", port, ssl=client_ctx,
                                      server_hostname="other.example")
    except Exception as e:
        print("wrong name:", describe(e))
    await good_client(3)

    # A plaintext client: the server closes the connection.
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.0\r\n\r\n")
    await reader.read()
    print("plaintext client: closed by the server")
    writer.close()
    await writer.wait_closed()

    # A client that leaves in the middle of the handshake.
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    print("client left mid-handshake")
    await good_client(4)

    # Servers that are not TLS: one answers in plaintext, one closes at once, one says
    # nothing.
    async def plaintext(reader, writer):
        await reader.read(1)
        writer.write(b"HTTP/1.0 400 Bad Request\r\n\r\n")
        await writer.drain()
        writer.close()

    async def closer(reader, writer):
        await reader.read(1)
        writer.close()

    async def silent(reader, writer):
        await reader.read()

    for name, handler in (("plaintext", plaintext), ("closing", closer), ("silent", silent)):
        other = await asyncio.start_server(handler, "127.0.0.1", 0)
        oport = other.sockets[0].getsockname()[1]
        try:
            await asyncio.open_connection("127.0.0.1", oport, ssl=client_ctx,
                                          server_hostname="localhost",
                                          ssl_handshake_timeout=0.1)
        except ConnectionResetError as e:
            # asyncio raises it bare (no message)
            print(f"{name} server:", type(e).__name__)
        except Exception as e:
            print(f"{name} server:", describe(e))
        other.close()
        await other.wait_closed()

    # start_tls on an open connection: a line in plaintext, then TLS both ways.
    async def starttls(reader, writer):
        print("server got", await reader.readline())
        writer.write(b"go ahead\n")
        await writer.drain()
        await writer.start_tls(server_ctx)
        obj = writer.get_extra_info("ssl_object")
        print("server side:", obj.server_side, writer.get_extra_info("peercert"))
        line = await reader.readline()
        writer.write(line.upper())
        await writer.drain()
        writer.close()

    upgrading = await asyncio.start_server(starttls, "127.0.0.1", 0)
    uport = upgrading.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", uport)
    writer.write(b"STARTTLS\n")
    print("client got", await reader.readline())
    await writer.start_tls(client_ctx, server_hostname="localhost")
    print("client side:", writer.get_extra_info("ssl_object").server_side)
    writer.write(b"secret\n")
    print("client got", await reader.readline())
    print("then", await reader.read())
    writer.close()
    await writer.wait_closed()
    upgrading.close()
    await upgrading.wait_closed()

    await good_client(5)
    server.close()
    await server.wait_closed()
    print("done")


with tempfile.TemporaryDirectory() as d:
    make_certs(d)
    asyncio.run(main(d))
