"""One table maps Ollive's errors to ingest's HTTP answers."""

from __future__ import annotations

import pytest

from ollive.errors import (
    AuthError,
    BackpressureError,
    ContractError,
    MediaTypeError,
    OlliveError,
    PayloadTooLargeError,
    StorageError,
    WarehouseUnavailableError,
)
from ollive.ingest.errors import answer_for
from ollive.ingest.validate import BatchTooLargeError


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (AuthError("unknown key"), 401),
        (ContractError("bad body"), 400),
        (MediaTypeError("text/plain"), 415),
        (PayloadTooLargeError("too big"), 413),
        (BatchTooLargeError("10001 events"), 413),
        (BackpressureError("busy", 3.4), 429),
        (WarehouseUnavailableError("down"), 503),
        (StorageError("insert failed"), 503),
        (OlliveError("unexpected"), 500),
    ],
)
def test_each_error_has_its_status(error: OlliveError, status: int) -> None:
    assert answer_for(error).status == status


def test_answers_carry_what_the_client_needs_to_act() -> None:
    assert answer_for(AuthError("no key")).headers == {"WWW-Authenticate": "Bearer"}
    assert answer_for(BackpressureError("busy", 3.4)).headers == {"Retry-After": "3"}
    assert answer_for(BackpressureError("busy", 0.1)).headers == {"Retry-After": "1"}
    storage = answer_for(WarehouseUnavailableError("actor gone"))
    assert storage.headers == {"Retry-After": "2"}
    assert storage.detail == "storage unavailable: actor gone"
    assert answer_for(ContractError("events[0].model: required")).detail == (
        "events[0].model: required"
    )
