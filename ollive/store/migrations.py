"""``ollive migrate``: the numbered DDL files of ``sql/``, applied in order, idempotently.

``migrate(warehouse)`` applies what is pending and returns the names applied now.

Each file is a list of ``;``-separated statements written with ``IF NOT EXISTS``, so a file
that failed half-way is simply applied again from its first statement on the next run. The
versions applied are recorded in ``_ollive_migrations``. Placeholders (``${name}``) are
filled from :class:`~ollive.config.Settings` (TTL days) and, for a ClickHouse cluster, with
``ON CLUSTER`` and Replicated engines (see ``sql/README.md``).

Cluster variant: ``ollive migrate --cluster NAME`` also applies ``sql/cluster/NNN_name.sql``
after the base files (Distributed ``<table>_all`` tables over every shard). They are recorded
in the ledger as version ``1000 + NNN``; without a cluster they are never applied.
:func:`render_migrations` returns every statement a fresh warehouse would run.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ollive.errors import MigrationError, StorageError
from ollive.store.quoting import sql_literal
from ollive.store.tables import AGGREGATES

if TYPE_CHECKING:  # pragma: no cover
    from ollive.store.base import Warehouse

__all__ = [
    "CLUSTER_VERSION_OFFSET",
    "Migration",
    "aggregate_select",
    "applied_versions",
    "load_cluster_migrations",
    "load_migrations",
    "migrate",
    "render_migrations",
]

_LEDGER = (
    "CREATE TABLE IF NOT EXISTS _ollive_migrations {on_cluster} "
    "(version UInt32, name String, applied_at DateTime DEFAULT now()) "
    "ENGINE = {engine}MergeTree ORDER BY version"
)
_FILE = re.compile(r"^(\d{3})_([\w-]+)\.sql$")
CLUSTER_VERSION_OFFSET = 1000  # ledger version of sql/cluster/NNN_name.sql is 1000 + NNN


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    text: str

    def statements(self, values: dict[str, str]) -> list[str]:
        """The file's statements with placeholders filled, comments kept out."""
        lines = [ln for ln in self.text.splitlines() if not ln.lstrip().startswith("--")]
        body = string.Template("\n".join(lines)).substitute(values)
        return [s.strip() for s in body.split(";") if s.strip()]


def sql_dir() -> Path:
    """Where the DDL lives: inside the wheel (``ollive/_sql``) or the repo's ``sql/``."""
    packaged = resources.files("ollive").joinpath("_sql")
    if packaged.is_dir():
        return Path(str(packaged))
    repo = Path(__file__).resolve().parents[2] / "sql"
    if repo.is_dir():
        return repo
    raise MigrationError("cannot find the sql/ directory; reinstall ollive (pip install ollive)")


def _numbered(directory: Path, offset: int = 0, prefix: str = "") -> tuple[Migration, ...]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE.match(path.name)
        if match:
            name = prefix + match[2]
            found.append(Migration(offset + int(match[1]), name, path.read_text("utf-8")))
    return tuple(found)


@lru_cache(maxsize=1)
def load_migrations() -> tuple[Migration, ...]:
    """Every numbered file, in version order."""
    return _numbered(sql_dir())


@lru_cache(maxsize=1)
def load_cluster_migrations() -> tuple[Migration, ...]:
    """The cluster-only files of ``sql/cluster/`` (versions offset by 1000, names ``cluster/…``)."""
    directory = sql_dir() / "cluster"
    if not directory.is_dir():
        return ()
    return _numbered(directory, CLUSTER_VERSION_OFFSET, "cluster/")


def placeholder_values(settings: Any = None, cluster: str | None = None) -> dict[str, str]:
    """Values for the ``${...}`` placeholders: TTLs from settings, cluster clauses."""
    from ollive.config import Settings

    s = settings or Settings()
    return {
        "ttl_inference_days": str(s.ttl_inference_days),
        "ttl_tool_days": str(s.ttl_tool_days),
        "ttl_application_days": str(s.ttl_application_days),
        "ttl_scores_days": str(s.ttl_scores_days),
        "on_cluster": f"ON CLUSTER '{cluster}'" if cluster else "",
        "replicated": "Replicated" if cluster else "",
        "cluster": cluster or "",
    }


def _migrations_for(cluster: str | None) -> tuple[Migration, ...]:
    return load_migrations() + (load_cluster_migrations() if cluster else ())


def render_migrations(settings: Any = None, cluster: str | None = None) -> list[str]:
    """Every statement :func:`migrate` runs on a fresh warehouse, in order.

    For review before touching a server (e.g. the ``ON CLUSTER`` variant), and for tests.
    """
    values = placeholder_values(settings, cluster)
    engine = "Replicated" if cluster else ""
    statements = [_LEDGER.format(on_cluster=values["on_cluster"], engine=engine)]
    for migration in _migrations_for(cluster):
        statements.extend(migration.statements(values))
    return statements


def applied_versions(warehouse: Warehouse) -> set[int]:
    """Versions recorded as applied (empty for a fresh warehouse)."""
    exists = warehouse.scalar(
        "SELECT count() FROM system.tables "
        "WHERE database = currentDatabase() AND name = '_ollive_migrations'"
    )
    if not exists:
        return set()
    result = warehouse.query_arrow("SELECT DISTINCT version FROM _ollive_migrations")
    return {int(v) for v in result.column(0).to_pylist()}


def migrate(warehouse: Warehouse, settings: Any = None, cluster: str | None = None) -> list[str]:
    """Apply every migration not yet recorded; returns the ``NNN_name`` of each applied now."""
    values = placeholder_values(settings, cluster)
    engine = "Replicated" if cluster else ""
    warehouse.command(_LEDGER.format(on_cluster=values["on_cluster"], engine=engine))
    done = applied_versions(warehouse)
    applied = []
    for migration in _migrations_for(cluster):
        if migration.version in done:
            continue
        for index, statement in enumerate(migration.statements(values), start=1):
            try:
                warehouse.command(statement)
            except StorageError as exc:
                raise MigrationError(
                    f"migration {_label(migration)} failed at statement "
                    f"{index}: {exc}. Fix the cause and run `ollive migrate` again; it resumes "
                    "from this file."
                ) from exc
        warehouse.command(
            "INSERT INTO _ollive_migrations (version, name) VALUES "
            f"({migration.version}, {sql_literal(migration.name)})"
        )
        applied.append(_label(migration))
    return applied


def _label(migration: Migration) -> str:
    """``NNN_name``, or ``cluster/NNN_name`` for a cluster-only file."""
    if migration.version >= CLUSTER_VERSION_OFFSET:
        number = migration.version - CLUSTER_VERSION_OFFSET
        return f"cluster/{number:03d}_{migration.name.removeprefix('cluster/')}"
    return f"{migration.version:03d}_{migration.name}"


def aggregate_select(target: str, source: str, where: str) -> str:
    """The SELECT of ``target``'s materialized view, reading ``source`` filtered by ``where``.

    Taken from the DDL itself, so a rebuild aggregates exactly as the MV does.
    """
    mv, raw, _column = AGGREGATES[target]
    for migration in load_migrations():
        pattern = rf"CREATE MATERIALIZED VIEW IF NOT EXISTS {mv}\b.*?\bAS\s+(SELECT.*?);"
        match = re.search(pattern, migration.text, flags=re.S)
        if match:
            select = match[1]
            return re.sub(
                rf"FROM {raw}\s+GROUP BY",
                f"FROM {source} WHERE {where} GROUP BY",
                select,
            )
    raise MigrationError(f"no materialized view {mv} in sql/")
