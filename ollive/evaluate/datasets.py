"""Datasets: versioned, immutable item sets in the warehouse, made from an Ibis filter.

>>> import ollive
>>> con = ollive.connect()                                                   # doctest: +SKIP
>>> t = con.table("inference_logs")                                          # doctest: +SKIP
>>> failed = t.filter(t.status == "error", t.started_at > ibis.now() - ibis.interval(days=7))
>>> ds = ollive.datasets.create(con, "failed-last-week", failed)             # doctest: +SKIP
>>> ds.to_pandas()                                                           # doctest: +SKIP

An item is ``{"item_id", "input", "expected_output", "metadata", "source_request_id",
"source_trace_id"}``. ``source`` is an Ibis expression (run once, now: the dataset is a
snapshot) or a pandas DataFrame. Its columns map onto items:

- ``input``: the ``input=`` column, else the first of ``input``, ``input_preview``,
  ``args_preview``, ``message``;
- ``expected_output``: the ``expected_output=`` column, else ``expected_output`` or
  ``expected`` when present (production rows have no expected answer unless you name one,
  e.g. ``expected_output="output_preview"``);
- ``item_id``: the ``id_column=`` column, else ``item_id``, else ``request_id``, else a hash
  of the input and expected output (so adding the same row twice adds it once);
- ``metadata``: the ``metadata=`` columns, else every other column a person would filter on
  (model, service, user, status, prompt version ...), never the raw tables' bookkeeping.

Versions: :func:`create` writes version 1; :func:`add` writes version n+1 holding the items
whose ids are new (items are never changed or removed); ``get(con, name, version=k)``
reads any version back exactly as it was. Items are stored as JSON text (values that JSON
cannot hold, like timestamps, become ISO text).
"""

from __future__ import annotations

import builtins
import hashlib
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from ollive.errors import ConfigError, DatasetError
from ollive.insights.evaluations import decode_json
from ollive.store.quoting import sql_literal

if TYPE_CHECKING:  # pragma: no cover
    from ollive.store import Connection

__all__ = [
    "DEFAULT_PROJECT",
    "ITEM_COLUMNS",
    "MAX_ITEMS",
    "Dataset",
    "add",
    "create",
    "export",
    "get",
    "list",
    "to_pandas",
]

DEFAULT_PROJECT = "demo"  # the project a connection without one writes to (the demo key's)
MAX_ITEMS = 100_000  # per create/add unless ``limit=`` says otherwise
ITEM_COLUMNS = (
    "item_id",
    "input",
    "expected_output",
    "metadata",
    "source_request_id",
    "source_trace_id",
    "version",
)
_INPUTS = ("input", "input_preview", "args_preview", "message")
_EXPECTED = ("expected_output", "expected")
_IDS = ("item_id", "request_id")
#: raw-table columns that are bookkeeping or text, never item metadata
_NOT_METADATA = frozenset(
    {
        "project",
        "request_id",
        "trace_id",
        "span_id",
        "parent_span_id",
        "input_preview",
        "output_preview",
        "args_preview",
        "result_preview",
        "message",
        "metadata",
        "attributes",
        "redactions",
        "schema_version",
        "ingested_at",
        "tool_calls_summary",
    }
)
_MAX_METADATA_CHARS = 16_384
_ITEM_SCHEMA = pa.schema(
    [
        ("project", pa.string()),
        ("dataset", pa.string()),
        ("item_id", pa.string()),
        ("version", pa.uint32()),
        ("input", pa.string()),
        ("expected_output", pa.string()),
        ("metadata", pa.string()),
        ("source_request_id", pa.string()),
        ("source_trace_id", pa.string()),
        ("created_at", pa.timestamp("ms", tz="UTC")),
    ]
)
_INSERT_CHUNK = 10_000


@dataclass(frozen=True)
class Dataset:
    """One version of a dataset. ``to_pandas()`` gives its items; ``add`` makes the next
    version. Get one with :func:`create`, :func:`get` or :func:`add`."""

    con: Any
    project: str
    name: str
    version: int
    items_total: int
    description: str = ""
    created_at: datetime | None = None

    def to_pandas(self) -> pd.DataFrame:
        """The items of this version (columns :data:`ITEM_COLUMNS`), decoded from JSON."""
        return _items_frame(self.con, self.project, self.name, self.version)

    def items(self) -> builtins.list[dict[str, Any]]:
        """The items as dicts, the shape a task and an evaluator receive."""
        return [_item_dict(row) for row in self.to_pandas().to_dict("records")]

    def add(self, source: Any, **options: Any) -> Dataset:
        """Add the rows of ``source`` whose ids are new, as the next version (see :func:`add`)."""
        return add(self.con, self.name, source, **options)

    def __len__(self) -> int:
        return self.items_total

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, version={self.version}, items={self.items_total}, "
            f"project={self.project!r})"
        )


def project_of(con: Connection) -> str:
    """The project a connection writes evaluation data to: its own, else the demo project."""
    return con.project or DEFAULT_PROJECT


def create(
    con: Connection,
    name: str,
    source: Any,
    *,
    description: str = "",
    input: str | None = None,  # noqa: A002 - the item field's name
    expected_output: str | None = None,
    id_column: str | None = None,
    metadata: Sequence[str] | None = None,
    limit: int = MAX_ITEMS,
    exist_ok: bool = False,
    progress: bool = True,
) -> Dataset:
    """Create dataset ``name`` (version 1) from an Ibis expression or a DataFrame.

    ``exist_ok=True`` returns the latest version when the name exists (nothing is added;
    use :func:`add` for that); otherwise an existing name raises :class:`DatasetError`.
    ``limit`` bounds the rows taken (default :data:`MAX_ITEMS`): a bigger source raises
    rather than silently truncating.
    """
    _check_name(name)
    project = project_of(con)
    latest = _latest(con, project, name)
    if latest is not None:
        if exist_ok:
            return latest
        raise DatasetError(
            f"dataset {name!r} exists (version {latest.version}, {latest.items_total} items); "
            f"add rows with ollive.datasets.add(con, {name!r}, source), or pick another name"
        )
    frame, described = _frame(source, limit)
    items = _to_items(frame, input, expected_output, id_column, metadata)
    if not items:
        raise DatasetError(f"the source of dataset {name!r} has no rows: nothing to create")
    return _write_version(
        con, project, name, 1, items, description, described, previous=0, progress=progress
    )


def add(
    con: Connection,
    name: str,
    source: Any,
    *,
    input: str | None = None,  # noqa: A002
    expected_output: str | None = None,
    id_column: str | None = None,
    metadata: Sequence[str] | None = None,
    limit: int = MAX_ITEMS,
    progress: bool = True,
) -> Dataset:
    """Add the rows of ``source`` whose item ids are new to dataset ``name``, as its next
    version. When every id exists already no version is written and the latest is returned.
    """
    project = project_of(con)
    latest = _latest(con, project, name)
    if latest is None:
        raise DatasetError(
            f"no dataset {name!r} in project {project!r}; create it with "
            f"ollive.datasets.create(con, {name!r}, source)"
        )
    frame, described = _frame(source, limit)
    items = _to_items(frame, input, expected_output, id_column, metadata)
    known = _known_ids(con, project, name)
    fresh = [it for it in items if it["item_id"] not in known]
    if not fresh:
        return latest
    return _write_version(
        con,
        project,
        name,
        latest.version + 1,
        fresh,
        latest.description,
        described,
        previous=latest.items_total,
        progress=progress,
    )


def get(con: Connection, name: str, version: int | None = None) -> Dataset:
    """Dataset ``name`` at ``version`` (default: the latest); :class:`DatasetError` names the
    datasets that exist when there is no such one."""
    project = project_of(con)
    rows = _versions(con, project, name)
    if rows.empty:
        names = list(con)["name"].tolist()
        raise DatasetError(
            f"no dataset {name!r} in project {project!r}; datasets: {names or 'none yet'}"
        )
    if version is None:
        row = rows.iloc[-1]
    else:
        match = rows[rows.version == int(version)]
        if match.empty:
            raise DatasetError(
                f"dataset {name!r} has versions {rows.version.tolist()}, not {version}"
            )
        row = match.iloc[0]
    return _dataset(con, project, row)


def list(con: Connection) -> pd.DataFrame:  # noqa: A001 - ollive.datasets.list is the API
    """Every dataset of the project: name, latest version, items, created, description."""
    from ollive.insights.evaluations import datasets

    df = datasets(con)
    df = df[df["project"] == project_of(con)].drop(columns=["project"])
    return df.reset_index(drop=True)


def to_pandas(con: Connection, name: str, version: int | None = None) -> pd.DataFrame:
    """The items of dataset ``name`` at ``version`` (default: the latest)."""
    return get(con, name, version).to_pandas()


def export(
    con: Connection, name: str, path: str, *, version: int | None = None, format: str = "jsonl"
) -> int:
    """Write the items of ``name`` to ``path`` as JSON lines (``jsonl``) or CSV; returns the
    number of items."""
    df = to_pandas(con, name, version)
    if format == "jsonl":
        with open(path, "w", encoding="utf-8") as out:
            for item in df.to_dict("records"):
                out.write(json.dumps(_item_dict(item), ensure_ascii=False, default=str) + "\n")
    elif format == "csv":
        df.assign(
            input=df["input"].map(_json_text),
            expected_output=df["expected_output"].map(_json_text),
            metadata=df["metadata"].map(_json_text),
        ).to_csv(path, index=False)
    else:
        raise ConfigError(f"export format is 'jsonl' or 'csv', not {format!r}")
    return len(df)


# --- reading ---------------------------------------------------------------------------------
def _versions(con: Connection, project: str, name: str) -> pd.DataFrame:
    return con.warehouse.query_df(
        "SELECT name, version, created_at, description, source, items_added, items_total "
        f"FROM datasets FINAL WHERE project = {sql_literal(project)} "
        f"AND name = {sql_literal(name)} ORDER BY version"
    )


def _latest(con: Connection, project: str, name: str) -> Dataset | None:
    rows = _versions(con, project, name)
    return None if rows.empty else _dataset(con, project, rows.iloc[-1])


def _dataset(con: Connection, project: str, row: Any) -> Dataset:
    created = row["created_at"]
    return Dataset(
        con=con,
        project=project,
        name=str(row["name"]),
        version=int(row["version"]),
        items_total=int(row["items_total"]),
        description=str(row["description"]),
        created_at=created.to_pydatetime() if hasattr(created, "to_pydatetime") else created,
    )


def _known_ids(con: Connection, project: str, name: str) -> set[str]:
    df = con.warehouse.query_df(
        f"SELECT item_id FROM dataset_items WHERE project = {sql_literal(project)} "
        f"AND dataset = {sql_literal(name)}"
    )
    return set(df["item_id"].tolist())


def _items_frame(con: Connection, project: str, name: str, version: int) -> pd.DataFrame:
    df = con.warehouse.query_df(
        "SELECT item_id, input, expected_output, metadata, source_request_id, "
        f"source_trace_id, version FROM dataset_items FINAL "
        f"WHERE project = {sql_literal(project)} AND dataset = {sql_literal(name)} "
        f"AND version <= {int(version)} ORDER BY version, item_id"
    )
    if df.empty:
        return pd.DataFrame(columns=builtins.list(ITEM_COLUMNS))
    for column in ("input", "expected_output", "metadata"):
        df[column] = df[column].map(decode_json)
    df["version"] = df["version"].astype("int64")
    return df[builtins.list(ITEM_COLUMNS)].reset_index(drop=True)


def _item_dict(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "item_id": row["item_id"],
        "input": row["input"],
        "expected_output": row["expected_output"],
        "metadata": row["metadata"] if isinstance(row["metadata"], dict) else {},
        "source_request_id": row.get("source_request_id") or None,
        "source_trace_id": row.get("source_trace_id") or None,
    }


# --- writing ---------------------------------------------------------------------------------
def _write_version(
    con: Connection,
    project: str,
    name: str,
    version: int,
    items: builtins.list[dict[str, Any]],
    description: str,
    source: str,
    *,
    previous: int,
    progress: bool,
) -> Dataset:
    """Items first, then the version row that makes them visible to :func:`get`: a failure
    half-way leaves no version (the items of an unfinished version are never read, and the
    same ids are written again, identically, by the next try)."""
    now = datetime.now(UTC)
    for chunk in _chunks(items, _INSERT_CHUNK, progress, f"dataset {name} v{version}"):
        con.warehouse.insert_arrow("dataset_items", _items_table(project, name, version, chunk))
    total = previous + len(items)
    row = pa.table(
        {
            "project": [project],
            "name": [name],
            "version": pa.array([version], pa.uint32()),
            "created_at": pa.array([now], pa.timestamp("ms", tz="UTC")),
            "description": [description],
            "source": [source[:10_000]],
            "items_added": pa.array([len(items)], pa.uint32()),
            "items_total": pa.array([total], pa.uint32()),
        }
    )
    con.warehouse.insert_arrow("datasets", row)
    return Dataset(con, project, name, version, total, description, now)


def _chunks(
    items: builtins.list[dict[str, Any]], size: int, progress: bool, what: str
) -> Iterator[builtins.list[dict[str, Any]]]:
    starts = range(0, len(items), size)
    if progress and len(items) > size:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc=what, unit="chunk")  # type: ignore[assignment]
    for start in starts:
        yield items[start : start + size]


def _items_table(
    project: str, name: str, version: int, items: builtins.list[dict[str, Any]]
) -> pa.Table:
    n = len(items)
    now = datetime.now(UTC)
    return pa.table(
        {
            "project": [project] * n,
            "dataset": [name] * n,
            "item_id": [it["item_id"] for it in items],
            "version": pa.array([version] * n, pa.uint32()),
            "input": [_json_text(it["input"]) for it in items],
            "expected_output": [
                "" if it["expected_output"] is None else _json_text(it["expected_output"])
                for it in items
            ],
            "metadata": [_json_text(it["metadata"]) for it in items],
            "source_request_id": [it["source_request_id"] or "" for it in items],
            "source_trace_id": [it["source_trace_id"] or "" for it in items],
            "created_at": pa.array([now] * n, pa.timestamp("ms", tz="UTC")),
        },
        schema=_ITEM_SCHEMA,
    )


# --- a source -> items -----------------------------------------------------------------------
def _frame(source: Any, limit: int) -> tuple[pd.DataFrame, str]:
    """The source's rows as a DataFrame, and how to describe where they came from."""
    if isinstance(source, pd.DataFrame):
        frame, described = source, "dataframe"
    elif isinstance(source, builtins.list) and all(isinstance(r, dict) for r in source):
        frame, described = pd.DataFrame(source), "records"
    elif hasattr(source, "compile") and hasattr(source, "execute"):  # an Ibis expression
        described = _describe(source)
        frame = source.limit(limit + 1).execute()
    else:
        raise ConfigError(
            "a dataset's source is an Ibis table expression (e.g. con.table('inference_logs')"
            f".filter(...)), a pandas DataFrame or a list of dicts; got {type(source).__name__}"
        )
    if len(frame) > limit:
        raise DatasetError(
            f"the source has more than {limit} rows; filter it further or pass limit= "
            "(a dataset is meant to be read whole by experiments)"
        )
    return frame.reset_index(drop=True), described


def _describe(expr: Any) -> str:
    try:
        import ibis

        return str(ibis.to_sql(expr, dialect="clickhouse"))
    except Exception:  # noqa: BLE001 - a description only
        return "ibis expression"


def _pick(frame: pd.DataFrame, given: str | None, candidates: Sequence[str], what: str) -> Any:
    if given is not None:
        if given not in frame.columns:
            raise ConfigError(
                f"{what}={given!r} is not a column of the source; columns: "
                f"{sorted(map(str, frame.columns))}"
            )
        return given
    return next((c for c in candidates if c in frame.columns), None)


def _to_items(
    frame: pd.DataFrame,
    input_column: str | None,
    expected_column: str | None,
    id_column: str | None,
    metadata_columns: Sequence[str] | None,
) -> builtins.list[dict[str, Any]]:
    if frame.empty:
        return []
    inp = _pick(frame, input_column, _INPUTS, "input")
    if inp is None:
        raise ConfigError(
            f"the source has none of the input columns {builtins.list(_INPUTS)}; name one "
            f"with input=...; columns: {sorted(map(str, frame.columns))}"
        )
    exp = _pick(frame, expected_column, _EXPECTED, "expected_output")
    idc = _pick(frame, id_column, _IDS, "id_column")
    used = {inp, exp, idc, "source_request_id", "source_trace_id"}
    if metadata_columns is None:
        meta_cols = [c for c in frame.columns if c not in used and c not in _NOT_METADATA]
    else:
        missing = [c for c in metadata_columns if c not in frame.columns]
        if missing:
            raise ConfigError(f"metadata columns {missing} are not in the source")
        meta_cols = builtins.list(metadata_columns)
    items: builtins.list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in frame.to_dict("records"):
        value = _plain(row[inp])
        expected = None if exp is None else _plain(row[exp])
        if expected == "":
            expected = None
        item_id = _item_id(row, idc, value, expected)
        if item_id in seen:
            continue
        seen.add(item_id)
        meta = {str(c): _plain(row[c]) for c in meta_cols}
        if isinstance(row.get("metadata"), dict) and metadata_columns is None:
            meta = {**row["metadata"], **meta}
        items.append(
            {
                "item_id": item_id,
                "input": value,
                "expected_output": expected,
                "metadata": _bounded(meta),
                "source_request_id": _text(row.get("source_request_id", row.get("request_id"))),
                "source_trace_id": _text(row.get("source_trace_id", row.get("trace_id"))),
            }
        )
    return items


def _item_id(row: dict[str, Any], column: str | None, value: Any, expected: Any) -> str:
    if column is not None and _text(row[column]):
        return str(_text(row[column]))
    digest = hashlib.sha256(_json_text([value, expected]).encode()).hexdigest()
    return digest[:32]


def _bounded(meta: dict[str, Any]) -> dict[str, Any]:
    text = _json_text(meta)
    if len(text) <= _MAX_METADATA_CHARS:
        return meta
    raise DatasetError(
        f"an item's metadata is {len(text)} characters as JSON (limit {_MAX_METADATA_CHARS}); "
        "choose fewer columns with metadata=[...]"
    )


def _plain(value: Any) -> Any:
    """A cell as a JSON-able value (timestamps as ISO text, NaN/NaT as None)."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        try:
            return value.item()
        except (ValueError, AttributeError):
            pass
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, builtins.list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _text(value: Any) -> str | None:
    value = _plain(value)
    return None if value in (None, "") else str(value)


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise ConfigError(f"a dataset name is 1 to 200 characters of text, not {name!r}")
