"""Shared by the Serve tests: one Serve HTTP proxy per test session, on a free port."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_base_url() -> str:
    """The base URL of the running Serve proxy, starting Serve on a free port if needed."""
    from ray import serve
    from ray.serve.context import _get_global_client

    try:
        client = _get_global_client()
    except Exception:
        client = None
    if client is None:
        serve.start(http_options={"host": "127.0.0.1", "port": free_port()})
        client = _get_global_client()
    return f"http://127.0.0.1:{client.http_config.port}"
