"""Parsing and validating ``POST /v1/logs`` bodies, Ray-free."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from ollive.errors import AuthError, ContractError
from ollive.ingest import BatchTooLargeError, KeyRing, decode_body, parse_body


def test_one_event_or_a_batch(make_inference: Any) -> None:
    assert len(parse_body(json.dumps(make_inference()).encode(), 10).events) == 1
    body = json.dumps({"events": [make_inference(), make_inference()]}).encode()
    assert len(parse_body(body, 10).events) == 2


def test_bad_event_is_listed_by_index_and_field_path_and_spares_its_batch_mates(
    make_inference: Any,
) -> None:
    body = json.dumps(
        {"events": [make_inference(), make_inference(prompt_tokens=-1), {"log_type": "nope"}]}
    )
    parsed = parse_body(body.encode(), 10)
    assert parsed.indexes == [0]
    assert [r.index for r in parsed.rejected] == [1, 2]
    assert parsed.rejected[0].errors[0]["loc"] == "prompt_tokens"


def test_body_project_is_ignored(make_inference: Any) -> None:
    body = json.dumps({"project": "evil", "events": [make_inference(project="evil")]}).encode()
    parsed = parse_body(body, 10)
    assert len(parsed.events) == 1 and not parsed.rejected


@pytest.mark.parametrize(
    "body", [b"{not json", b"[1, 2]", b'{"events": 3}', b'{"events": [], "x": 1}']
)
def test_malformed_bodies_raise_contract_errors(body: bytes) -> None:
    with pytest.raises(ContractError):
        parse_body(body, 10)


def test_too_many_events(make_inference: Any) -> None:
    with pytest.raises(BatchTooLargeError):
        parse_body(json.dumps({"events": [make_inference()] * 3}).encode(), 2)


def test_gzip_is_decoded_within_the_limit(make_inference: Any) -> None:
    raw = json.dumps(make_inference()).encode()
    assert decode_body(gzip.compress(raw), "gzip", 10_000) == raw
    with pytest.raises(BatchTooLargeError):
        decode_body(gzip.compress(b" " * 100_000), "gzip", 10_000)  # a small zip bomb
    with pytest.raises(ContractError):
        decode_body(b"not gzip", "gzip", 10_000)
    with pytest.raises(BatchTooLargeError):
        decode_body(raw, None, 10)


def test_keys_map_to_projects(make_inference: Any) -> None:
    keys = KeyRing()
    assert keys.project_for("Bearer ollive-demo") == "demo"
    for header in (None, "", "Bearer", "Basic ollive-demo", "Bearer wrong"):
        with pytest.raises(AuthError):
            keys.project_for(header)
