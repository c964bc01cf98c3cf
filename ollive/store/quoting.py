"""ClickHouse quoting for the store's own SQL: one literal function, one identifier function.

Maintenance, migrations and deletion build a few statements that Ibis cannot express (MV
rebuilds, ``ALTER ... DELETE``); every value reaches them through :func:`sql_literal` and
every name through :func:`quote_identifier`. Insight queries never use this module: they
are Ibis expressions whose literals Ibis binds.

>>> sql_literal("O'Brien")
"'O\\\\'Brien'"
>>> quote_identifier("inference_logs")
'`inference_logs`'
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

__all__ = ["column_list", "quote_identifier", "sql_literal"]


def sql_literal(value: Any) -> str:
    """``value`` as a ClickHouse literal: NULL, booleans, numbers, UTC DateTime64(3), strings."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):  # naive values are taken as UTC already
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        text = value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        return f"toDateTime64({sql_literal(text)}, 3, 'UTC')"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def quote_identifier(name: str) -> str:
    """A table or column name in backquotes (backquotes and backslashes escaped)."""
    escaped = name.replace("\\", "\\\\").replace("`", "\\`")
    return f"`{escaped}`"


def column_list(names: Iterable[str]) -> str:
    """Quoted column names for an INSERT column list."""
    return ", ".join(quote_identifier(n) for n in names)
