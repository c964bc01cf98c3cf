"""Writer settings: the flush age follows the ack mode unless it is set."""

from __future__ import annotations

from pathlib import Path

from ollive.config import Settings
from serve.args import WriterArgs


def _args(tmp_path: Path, **settings: object) -> WriterArgs:
    return WriterArgs.from_settings(Settings(home=tmp_path, **settings), "ray://warehouse", None)


def test_a_write_ahead_ack_flushes_every_two_seconds(tmp_path: Path) -> None:
    assert _args(tmp_path).flush_age_s == 2.0  # the ack does not wait for the insert


def test_an_insert_ack_flushes_every_fifth_of_a_second(tmp_path: Path) -> None:
    assert _args(tmp_path, writer_ack="insert").flush_age_s == 0.2  # the ack waits for it


def test_a_configured_age_wins(tmp_path: Path) -> None:
    assert _args(tmp_path, writer_flush_age_s=0.5, writer_ack="insert").flush_age_s == 0.5
