"""Every notebook runs top to bottom in a real Jupyter kernel against a seeded warehouse,
and is stored without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tests._seed_dir import seed_directory

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_all_seven_notebooks_exist() -> None:
    assert [p.stem[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06", "07"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_are_stripped(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: strip outputs"


@pytest.fixture(scope="module")
def seeded_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A chDB directory seeded in a child process (kernels open it one after another)."""
    return seed_directory(tmp_path_factory.mktemp("notebooks") / "wh", events=100_000)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(
    path: Path,
    seeded_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    from nbclient import NotebookClient

    monkeypatch.setenv("OLLIVE_WAREHOUSE_URL", seeded_url)
    monkeypatch.setenv("OLLIVE_HOME", str(tmp_path))
    if path.stem.startswith("07"):
        # the experiments run on the session's Ray cluster (the documented OLLIVE_RAY_ADDRESS,
        # joined with Ray's own token like any process) instead of starting a second one on
        # 2 cores; without it the first run starts a local Ray, as it does for a user
        ray = request.getfixturevalue("ray_session")
        monkeypatch.setenv("OLLIVE_RAY_ADDRESS", ray.get_runtime_context().gcs_address)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, kernel_name="python3", timeout=300, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError with the failing cell and traceback
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
