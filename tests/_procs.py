"""Shared by tests that inject faults into processes: find them by their command line."""

from __future__ import annotations

import psutil


def pids_matching(*parts: str) -> set[int]:
    """Pids of the running processes whose command line contains every one of ``parts``."""
    pids = set()
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if all(part in cmd for part in parts):
            pids.add(proc.pid)
    return pids
