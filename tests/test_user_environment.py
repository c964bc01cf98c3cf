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


def _sets_the_variable(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """True where ``node`` (the name as a string or a keyword) puts it into an environment:
    ``env["X"] = …``, ``setenv("X", …)``/``setdefault``/``putenv``, ``update(X=…)``, or a
    dict literal that is assigned or passed as ``env=``. A dict passed positionally (the
    input of a function under test) or compared is not a setting."""
    if isinstance(node, ast.keyword):
        return node.arg == VARIABLE
    if not (isinstance(node, ast.Constant) and node.value == VARIABLE):
        return False
    parent = parents.get(node)
    if isinstance(parent, ast.Subscript):
        return isinstance(parent.ctx, ast.Store)
    if isinstance(parent, ast.Call) and node in parent.args[:1]:
        func = parent.func
        return isinstance(func, ast.Attribute) and func.attr in ("setenv", "setdefault", "putenv")
    if isinstance(parent, ast.Dict) and node in parent.keys:
        holder = parents.get(parent)
        return isinstance(holder, ast.Assign | ast.AnnAssign) or (
            isinstance(holder, ast.keyword) and holder.arg == "env"
        )
    return False


def _settings_without_reason(path: Path, root: Path = ROOT) -> list[str]:
    """``file:line`` of each place in ``path`` that sets the variable with no "because"
    comment on its line or in the three lines above."""
    text = path.read_text("utf-8")
    lines = text.splitlines()
    tree = ast.parse(text)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if not _sets_the_variable(node, parents):
            continue
        line = node.lineno
        around = lines[max(0, line - 4) : line]
        if not any("#" in ln and "because" in ln.split("#", 1)[1] for ln in around):
            found.append(f"{path.relative_to(root)}:{line}")
    return sorted(found, key=lambda place: int(place.rsplit(":", 1)[1]))


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
        f'subprocess.run(["ray"], env={{"{VARIABLE}": "disabled"}})\n'
        f'assert check({{"{VARIABLE}": "token"}}) == {{"{VARIABLE}": "token"}}\n'
    )
    assert _settings_without_reason(sample, tmp_path) == [
        "sample.py:2",
        "sample.py:8",
        "sample.py:9",
    ]
