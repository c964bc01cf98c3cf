"""``ollive datasets list|show|export`` and ``ollive experiments list|show|compare``.

Thin commands over :mod:`ollive.evaluate`; they read the warehouse the notebook would
(``--warehouse``, else the running platform's, else the embedded one) and the project of
``--project`` (default: the demo project, where a connection without one writes).
"""

from __future__ import annotations

from typing import Any

from ollive.cli._typer import WAREHOUSE_OPTION, typer
from ollive.config import get_settings

__all__ = ["datasets_app", "experiments_app"]

datasets_app = typer.Typer(help="Datasets: versioned item sets for experiments.")
experiments_app = typer.Typer(help="Experiment runs: list, show, compare.")

_PROJECT = typer.Option(None, "--project", help="The project (default: demo).")


def _con(warehouse: str | None, project: str | None) -> Any:
    from ollive.store import connect

    return connect(warehouse, project=project, settings=get_settings())


def _print(df: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(df.to_json(orient="records", date_format="iso", default_handler=str))
        return
    import pandas as pd

    with pd.option_context("display.max_columns", 30, "display.width", 200,
                           "display.max_colwidth", 60):  # fmt: skip
        typer.echo(df.to_string(index=False) if len(df) else "(none)")


def _fail(exc: Exception) -> None:
    typer.echo(str(exc), err=True)
    raise typer.Exit(1) from None


@datasets_app.command("list")
def datasets_list(
    project: str | None = _PROJECT,
    as_json: bool = typer.Option(False, "--json", help="Print JSON records."),
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """Every dataset: name, latest version, items, dates, description."""
    from ollive.evaluate import datasets

    _print(datasets.list(_con(warehouse, project)), as_json)


@datasets_app.command("show")
def datasets_show(
    name: str = typer.Argument(..., help="The dataset."),
    version: int | None = typer.Option(None, "--version", help="Default: the latest."),
    limit: int = typer.Option(20, "--limit", help="Items to print."),
    project: str | None = _PROJECT,
    as_json: bool = typer.Option(False, "--json", help="Print JSON records."),
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """A dataset's versions and its first items."""
    from ollive.errors import DatasetError
    from ollive.evaluate import datasets
    from ollive.insights.evaluations import dataset_versions

    con = _con(warehouse, project)
    try:
        ds = datasets.get(con, name, version)
    except DatasetError as exc:
        _fail(exc)
    items = ds.to_pandas().head(limit)
    if as_json:
        _print(items, True)
        return
    typer.echo(f"{ds!r}")
    _print(dataset_versions(con, name)[["version", "created_at", "items_added", "items_total"]],
           False)  # fmt: skip
    typer.echo("")
    _print(items[["item_id", "input", "expected_output", "version"]], False)


@datasets_app.command("export")
def datasets_export(
    name: str = typer.Argument(..., help="The dataset."),
    path: str = typer.Argument(..., help="The file to write (.jsonl or .csv)."),
    version: int | None = typer.Option(None, "--version", help="Default: the latest."),
    project: str | None = _PROJECT,
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """Write a dataset's items to JSON lines or CSV (by the file's suffix)."""
    from ollive.errors import ConfigError, DatasetError
    from ollive.evaluate import datasets

    fmt = "csv" if path.endswith(".csv") else "jsonl"
    try:
        n = datasets.export(_con(warehouse, project), name, path, version=version, format=fmt)
    except (DatasetError, ConfigError) as exc:
        _fail(exc)
    typer.echo(f"wrote {n} items of {name!r} to {path}")


@experiments_app.command("list")
def experiments_list(
    dataset: str | None = typer.Option(None, "--dataset", help="Only runs on this dataset."),
    project: str | None = _PROJECT,
    as_json: bool = typer.Option(False, "--json", help="Print JSON records."),
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """Every run, newest first, with its mean score per evaluator."""
    from ollive.evaluate import experiments

    _print(experiments.list_runs(_con(warehouse, project), dataset=dataset), as_json)


@experiments_app.command("show")
def experiments_show(
    run: str = typer.Argument(..., help="A run's name or id (exp-…)."),
    project: str | None = _PROJECT,
    as_json: bool = typer.Option(False, "--json", help="Print JSON records."),
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """A run's summary (score means with 95% bootstrap intervals)."""
    from ollive.errors import ExperimentError
    from ollive.evaluate import experiments

    try:
        found = experiments.get(_con(warehouse, project), run)
    except ExperimentError as exc:
        _fail(exc)
    if not as_json:
        typer.echo(repr(found))
    _print(found.summary(), as_json)


@experiments_app.command("compare")
def experiments_compare(
    run_a: str = typer.Argument(..., help="The baseline run (name or id)."),
    run_b: str = typer.Argument(..., help="The candidate run (name or id)."),
    project: str | None = _PROJECT,
    as_json: bool = typer.Option(False, "--json", help="Print JSON records."),
    warehouse: str | None = WAREHOUSE_OPTION,
) -> None:
    """Mean score deltas (b - a) with 95% bootstrap intervals, per score."""
    from ollive.errors import ExperimentError
    from ollive.evaluate import experiments

    try:
        cmp = experiments.compare(run_a, run_b, con=_con(warehouse, project))
    except ExperimentError as exc:
        _fail(exc)
    aggregate = cmp[cmp.level == "aggregate"].drop(columns=["level", "item_id"])
    _print(aggregate, as_json)
