"""The run file says how the platform's Ray authenticates; a joining process follows it."""

from __future__ import annotations

from pathlib import Path

from ollive.config.runfile import ray_auth_env, ray_auth_record


def test_record_names_the_mode_and_a_non_default_token_file(tmp_path: Path) -> None:
    assert ray_auth_record({}) == {"ray_auth_mode": "disabled"}
    assert ray_auth_record({"RAY_AUTH_MODE": "token"}) == {"ray_auth_mode": "token"}
    token = tmp_path / "token"
    record = ray_auth_record({"RAY_AUTH_MODE": "TOKEN", "RAY_AUTH_TOKEN_PATH": str(token)})
    assert record == {"ray_auth_mode": "token", "ray_auth_token_path": str(token.resolve())}


def test_a_joining_process_takes_token_mode_unless_it_chose_itself() -> None:
    run = {"ray_auth_mode": "token", "ray_auth_token_path": "/srv/ray/token"}
    assert ray_auth_env(run, {}) == {
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN_PATH": "/srv/ray/token",
    }
    assert ray_auth_env({"ray_auth_mode": "token"}, {}) == {"RAY_AUTH_MODE": "token"}
    # what the process set itself wins
    assert ray_auth_env(run, {"RAY_AUTH_MODE": "disabled"}) == {}
    assert ray_auth_env(run, {"RAY_AUTH_TOKEN": "secret"}) == {"RAY_AUTH_MODE": "token"}
    # a platform without auth, or a run file of an older version, asks for nothing
    assert ray_auth_env({"ray_auth_mode": "disabled"}, {}) == {}
    assert ray_auth_env({}, {}) == {}
