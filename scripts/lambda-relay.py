#!/usr/bin/env python3
"""A relay between a Lambda function and cargo-lambda's runtime API emulator, for the tests only.

cargo-lambda 1.9.2's emulator answers the function's `POST …/invocation/{id}/response` with 200
before it has read the body, then reads it for the waiting client. When the answer is larger than
its first read (~16 KiB) and the function's next `GET …/next` comes on a new connection, the rest
of the body is never read: the client waits forever, or gets the emulator's own 500 once that
connection closes (reproduced with a hand-written runtime client; AWS's runtime API reads the
whole body). The relay sends every runtime API request to the emulator on a connection of its
own with `Connection: close`, so the emulator reads each body to its end.

    lambda-relay.py EMULATOR_PORT     (prints the port it listens on, chosen by the system; stops
                                      when killed — a port chosen beforehand could be taken meanwhile)

Request bodies come with Content-Length or chunked without trailers, as lambda_runtime sends them.
"""
import asyncio
import sys


async def read_body(reader, head):
    length, chunked = 0, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return await reader.readexactly(length)
    body = b""
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        body += size_line + await reader.readexactly(size + 2)
        if size == 0:
            return body


def closing(head):
    lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
    return b"\r\n".join(lines + [b"Connection: close"])


async def serve(client_reader, client_writer, upstream_port):
    """One runtime API call per connection: the answer says `Connection: close`, so the function
    opens a new connection for its next call."""
    try:
        try:
            head = (await client_reader.readuntil(b"\r\n\r\n"))[:-4]
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        body = await read_body(client_reader, head)
        reader, writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        writer.write(closing(head) + b"\r\n\r\n" + body)
        await writer.drain()
        # Connection: close — the answer is everything up to the end of the stream.
        answer = await reader.read()
        writer.close()
        if not answer:
            return  # the emulator closed without answering: so does the relay
        head, _, rest = answer.partition(b"\r\n\r\n")
        client_writer.write(closing(head) + b"\r\n\r\n" + rest)
        await client_writer.drain()
    finally:
        client_writer.close()


async def main():
    upstream_port = int(sys.argv[1])
    server = await asyncio.start_server(lambda r, w: serve(r, w, upstream_port), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
