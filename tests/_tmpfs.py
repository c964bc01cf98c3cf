"""A real small filesystem for the full-disk tests: a tmpfs of a given size, mounted over a
directory the test made (root only; the tests skip where mounting is not allowed)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


@contextmanager
def small_filesystem(directory: Path, size: str) -> Iterator[Path]:
    """``directory`` backed by a tmpfs of ``size`` (``"1m"``) for the block."""
    directory.mkdir(parents=True, exist_ok=True)
    mounted = _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], capture_output=True, check=False)


def resize(directory: Path, size: str) -> None:
    """Give the tmpfs at ``directory`` a new size (space returns without unmounting)."""
    out = _mount("-o", f"remount,size={size}", str(directory))
    assert out.returncode == 0, out.stderr
