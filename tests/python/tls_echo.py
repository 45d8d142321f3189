# Twin of examples/tls_echo.rs: a TLS echo server and one client, with a CA and a server
# certificate made at run time by the openssl command, and a client that trusts another CA.
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
            "-subj", f"/CN={ca}")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")


async def handle_echo(reader, writer):
    while line := await reader.readline():
        writer.write(line)
        await writer.drain()
    writer.close()


async def main(d):
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(os.path.join(d, "server.pem"), os.path.join(d, "server.key"))
    client_ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.pem"))
    stranger_ctx = ssl.create_default_context(cafile=os.path.join(d, "other.pem"))

    server = await asyncio.start_server(handle_echo, '127.0.0.1', 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    print('serving TLS')
    reader, writer = await asyncio.open_connection('localhost', port, ssl=client_ctx)
    print('handshake done:', writer.get_extra_info('ssl_object').version())
    for text in ['Hello', 'World!', 'bye']:
        writer.write(text.encode() + b'\n')
        await writer.drain()
        echo = await reader.readline()
        print('echo:', echo.decode().rstrip())
    writer.close()
    await writer.wait_closed()
    try:
        await asyncio.open_connection('localhost', port, ssl=stranger_ctx)
        print('stranger connected?')
    except ssl.SSLError as e:
        print('stranger refused:', e.reason)
    server.close()
    await server.wait_closed()
    print('closed')


with tempfile.TemporaryDirectory() as d:
    make_certs(d)
    asyncio.run(main(d))
