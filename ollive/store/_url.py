"""Warehouse URLs: ``chdb:///path``, ``clickhouse://user:pass@host:8123/db``, ``clickhouses://…``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from ollive.errors import ConfigError

__all__ = ["WarehouseURL", "parse_warehouse_url"]

ACCEPTED_FORMS = (
    "chdb:///absolute/path/to/dir (embedded chDB), "
    "clickhouse://user:password@host:8123/database (ClickHouse server over HTTP), "
    "clickhouses://user:password@host:8443/database (over HTTPS), "
    "ray://warehouse (the warehouse actor of a running `ollive up`)"
)


@dataclass(frozen=True)
class WarehouseURL:
    """A parsed warehouse URL. ``password`` never appears in ``str()``."""

    scheme: str  # "chdb" | "clickhouse" | "ray"
    path: Path | None = None
    host: str = "localhost"
    port: int = 8123
    username: str = "default"
    password: str = ""
    database: str = "default"
    secure: bool = False
    actor_name: str = "warehouse"
    options: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        if self.scheme == "chdb":
            return f"chdb://{self.path}"
        if self.scheme == "ray":
            return f"ray://{self.actor_name}"
        scheme = "clickhouses" if self.secure else "clickhouse"
        return f"{scheme}://{self.username}@{self.host}:{self.port}/{self.database}"


def parse_warehouse_url(url: str) -> WarehouseURL:
    """Parse and check a warehouse URL; a malformed one names the accepted forms."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == "chdb":
        raw = unquote(parts.netloc + parts.path)
        if not raw:
            raise ConfigError(f"warehouse URL {url!r} has no directory; accepted: {ACCEPTED_FORMS}")
        return WarehouseURL("chdb", path=Path(raw).expanduser().resolve())
    if scheme == "ray":
        return WarehouseURL("ray", actor_name=parts.netloc or "warehouse")
    if scheme in ("clickhouse", "clickhouses", "http", "https"):
        secure = scheme in ("clickhouses", "https")
        if not parts.hostname:
            raise ConfigError(f"warehouse URL {url!r} has no host; accepted: {ACCEPTED_FORMS}")
        try:
            port = parts.port or (8443 if secure else 8123)
        except ValueError as exc:
            raise ConfigError(f"warehouse URL {url!r}: {exc}; accepted: {ACCEPTED_FORMS}") from None
        database = parts.path.strip("/") or "default"
        if "/" in database:
            raise ConfigError(f"warehouse URL {url!r}: the path must be one database name")
        options = tuple(sorted((k, v[-1]) for k, v in parse_qs(parts.query).items()))
        return WarehouseURL(
            "clickhouse",
            host=parts.hostname,
            port=port,
            username=unquote(parts.username or "default"),
            password=unquote(parts.password or ""),
            database=database,
            secure=secure,
            options=options,
        )
    raise ConfigError(f"unsupported warehouse URL {url!r}; accepted: {ACCEPTED_FORMS}")
