"""A free local TCP port for a server a test starts in another process."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port the kernel just handed out on 127.0.0.1 and closed again.

    Another process could take it before the server binds it; a server started in this process should
    bind its own socket first instead (``tornado.netutil.bind_sockets``, as the sittings test does).
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
