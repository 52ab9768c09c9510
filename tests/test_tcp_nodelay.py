"""pages.web.keep_nagle_off: connections accepted on a listening socket bound the way Streamlit's
ASGI server binds it (``socket.socket(family)``: protocol 0, so asyncio leaves Nagle on) get
``TCP_NODELAY``. Checked on the server's side of a real connection to a real uvicorn server."""
from __future__ import annotations

import asyncio
import socket
from concurrent.futures import ThreadPoolExecutor

import uvicorn

from pages.web import keep_nagle_off


async def _app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _server_side_nodelay() -> list[int]:
    """TCP_NODELAY of each server-side connection socket after one keep-alive request."""
    listener = socket.socket(socket.AF_INET)   # as streamlit.web.server.starlette.starlette_server binds it
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(_app, http="h11", lifespan="off", log_level="warning"))

    async def run() -> list[int]:
        server.config.load()   # what Server.serve does before startup (no signal handlers here)
        server.lifespan = server.config.lifespan_class(server.config)
        await server.startup(sockets=[listener])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        await reader.readuntil(b"ok")
        flags = [c.transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                 for c in server.server_state.connections]
        writer.close()
        await server.shutdown()
        return flags

    try:   # a thread of its own: Playwright's sync API may hold an event loop in the main thread
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, run()).result(timeout=60)
    finally:
        listener.close()


def test_accepted_connections_get_tcp_nodelay():
    assert listener_proto_is_zero()
    from uvicorn.protocols.http.h11_impl import H11Protocol

    keep_nagle_off()
    wrapped = H11Protocol.connection_made
    keep_nagle_off()   # idempotent: a second call does not wrap the wrapper again
    assert H11Protocol.connection_made is wrapped and wrapped._atlas_nodelay
    flags = _server_side_nodelay()
    assert flags and all(flags), flags


def listener_proto_is_zero() -> bool:
    """The premise: such a listener reports protocol 0 (asyncio's own check then skips NODELAY)."""
    with socket.socket(socket.AF_INET) as s:
        return s.proto == 0
