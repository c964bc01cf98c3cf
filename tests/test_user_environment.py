"""The tests run with the environment a user has: nothing turns Ray's authentication off.

A new local Ray cluster runs in token-auth mode, and a process that joins it must use the
token; a suite that forces ``RAY_AUTH_MODE`` would test a platform no user runs. A test that
must deviate says why, in a comment with "because" just above the line that sets it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIABLE = "RAY_AUTH_MODE"


def _settings_without_reason(path: Path, root: Path = ROOT) -> list[str]:
    """``file:line`` of each place in ``path`` that names the variable in code (a string or a
    keyword argument) with no "because" comment on it or in the three lines above."""
    text = path.read_text("utf-8")
    lines = text.splitlines()
    found = []
    for node in ast.walk(ast.parse(text)):
        named = (isinstance(node, ast.Constant) and node.value == VARIABLE) or (
            isinstance(node, ast.keyword) and node.arg == VARIABLE
        )
        if not named:
            continue
        line = node.lineno
        around = lines[max(0, line - 4) : line]
        if not any("#" in ln and "because" in ln.split("#", 1)[1] for ln in around):
            found.append(f"{path.relative_to(root)}:{line}")
    return found


def test_no_test_forces_ray_auth_mode_without_saying_why() -> None:
    here = Path(__file__).resolve()
    found = [
        place
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if path.resolve() != here
        for place in _settings_without_reason(path)
    ]
    assert found == [], f"{VARIABLE} forced without a reason: {found}"


def test_the_test_command_sets_no_ray_auth_mode() -> None:
    for name in ("run.sh", ".ci/run", "pyproject.toml"):
        assert VARIABLE not in (ROOT / name).read_text("utf-8"), name


def test_the_check_finds_a_forced_mode(tmp_path: Path) -> None:
    """The check itself: a bare setting is found, one with its reason is not."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\n"
        f'os.environ["{VARIABLE}"] = "disabled"\n'
        "# cluster_utils cannot ... because its nodes start before the token exists\n"
        f'os.environ.setdefault("{VARIABLE}", "disabled")\n'
        "\n\n\n"
        f'env = dict({VARIABLE}="disabled")\n'
    )
    assert _settings_without_reason(sample, tmp_path) == ["sample.py:2", "sample.py:8"]
