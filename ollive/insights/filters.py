"""What every insight function narrows by: a time range and project/service/provider/model/user.

Filters become Ibis literals in the compiled SQL (``col = 'value'``, quoted by Ibis), never
SQL text: a value with quotes or SQL in it simply matches nothing.

>>> f = Filters(window="6h", model="gpt-4o-mini")
>>> f.model
'gpt-4o-mini'
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from ollive.errors import ConfigError

__all__ = ["Filters", "parse_duration"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)\s*$", re.IGNORECASE)
_UNIT_S = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

#: the dimensions insight functions can filter and group by, and the raw column of each
DIMENSIONS = {
    "project": "project",
    "service": "service",
    "provider": "provider",
    "model": "model",
    "user": "user_id",
    "conversation": "conversation_id",
    "session": "session_id",
}


def parse_duration(text: str | timedelta) -> timedelta:
    """``"30s"``, ``"5m"``, ``"1h"``, ``"7d"``, ``"2w"`` (or a timedelta) as a timedelta."""
    if isinstance(text, timedelta):
        return text
    match = _DURATION.match(str(text))
    if not match:
        raise ConfigError(f"invalid duration {text!r}: use e.g. '30s', '5m', '1h', '7d', '2w'")
    seconds = float(match.group(1)) * _UNIT_S[match.group(2).lower()]
    if seconds <= 0:
        raise ConfigError(f"duration {text!r} must be positive")
    return timedelta(seconds=seconds)


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Filters:
    """A time range (``window`` back from ``end``/now, or ``start``..``end``) and equality
    filters. ``None`` means "any". ``project`` defaults to the connection's project.

    Every insight function accepts a ``Filters`` as ``filters=`` and/or the same fields as
    keyword arguments (keywords win).
    """

    window: str | timedelta = "24h"
    start: datetime | str | None = None
    end: datetime | str | None = None
    project: str | None = None
    service: str | None = None
    provider: str | None = None
    model: str | None = None
    user: str | None = None

    @classmethod
    def of(cls, filters: Filters | None = None, **overrides: Any) -> Filters:
        """``filters`` (or the defaults) with the non-None ``overrides`` applied."""
        base = filters or cls()
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown filter(s) {sorted(unknown)}; filters are {sorted(known)}")
        changes = {k: v for k, v in overrides.items() if v is not None}
        return dataclasses.replace(base, **changes) if changes else base

    def range(self, now: datetime | None = None) -> tuple[datetime, datetime]:
        """The ``[start, end)`` of the filter, in UTC."""
        end = _utc(self.end) if self.end is not None else (now or datetime.now(UTC))
        start = _utc(self.start) if self.start is not None else end - parse_duration(self.window)
        if start >= end:
            raise ConfigError(f"empty time range: start {start} is not before end {end}")
        return start, end

    def previous(self) -> Filters:
        """The same filters over the window just before this one (same length)."""
        start, end = self.range()
        return dataclasses.replace(self, start=start - (end - start), end=start)

    def equalities(self, project: str | None = None) -> dict[str, str]:
        """The set equality filters as ``{raw column: value}`` (project falls back)."""
        values = {
            "project": self.project or project,
            "service": self.service,
            "provider": self.provider,
            "model": self.model,
            "user": self.user,
        }
        return {DIMENSIONS[k]: v for k, v in values.items() if v is not None}

    def apply(
        self,
        table: ir.Table,
        time_column: str,
        project: str | None = None,
        ignore: tuple[str, ...] = (),
    ) -> ir.Table:
        """``table`` filtered by range and equalities (columns the table lacks are
        skipped only when listed in ``ignore``)."""
        start, end = self.range()
        ts = table[time_column]
        predicates = [ts >= ibis.literal(start), ts < ibis.literal(end)]
        for column, value in self.equalities(project).items():
            if column in ignore:
                continue
            predicates.append(table[column] == ibis.literal(str(value)))
        return table.filter(*predicates)
