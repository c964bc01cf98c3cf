"""Price table: resolution of dated and versioned names, cost, overrides."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ollive.errors import PricingError
from ollive.events import parse_event
from ollive.pricing import PriceTable, fill_costs


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.load()


@pytest.mark.parametrize(
    ("provider", "name", "expected"),
    [
        ("openai", "gpt-4o-2024-08-06", "gpt-4o"),
        ("openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("azure", "gpt-4.1-mini", "gpt-4.1-mini"),
        ("anthropic", "claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
        ("anthropic", "claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", "claude-3-5-sonnet"),
        ("vertex", "claude-3-5-sonnet@20240620", "claude-3-5-sonnet"),
        ("google", "gemini-1.5-pro-002", "gemini-1.5-pro"),
        ("google", "models/gemini-2.5-pro-preview-05-06", "gemini-2.5-pro"),
        ("openrouter", "openai/gpt-4o", "gpt-4o"),
    ],
)
def test_dated_and_versioned_names_resolve(
    table: PriceTable, provider: str, name: str, expected: str
) -> None:
    price = table.lookup(provider, name)
    assert price is not None and price.model == expected


def test_covers_three_big_providers(table: PriceTable) -> None:
    providers = {p.provider for p in table}
    assert {"openai", "anthropic", "google"} <= providers
    assert len(table) >= 25 and table.as_of


def test_cost_uses_cached_input_price(table: PriceTable) -> None:
    assert table.cost("openai", "gpt-4o", 1_000_000, 0) == pytest.approx(2.50)
    assert table.cost(
        "openai", "gpt-4o", 1_000_000, 1_000_000, cached_prompt_tokens=1_000_000
    ) == pytest.approx(1.25 + 10.0)
    assert table.lookup("nobody", "unknown-model") is None
    assert table.cost("nobody", "unknown-model", 10, 10) is None


def test_override_file_wins_and_adds(tmp_path: Path) -> None:
    override = tmp_path / "prices.toml"
    override.write_text(
        '[openai]\n"gpt-4o" = { input = 1.0, output = 2.0 }\n[acme]\n"acme-1" = { input = 3, output = 4 }\n'
    )
    table = PriceTable.load(override)
    assert table.cost("openai", "gpt-4o", 1_000_000, 1_000_000) == pytest.approx(3.0)
    assert table.cost("acme", "acme-1-2025-01-01", 1_000_000, 0) == pytest.approx(3.0)


def test_bad_override_file_says_what_to_write(tmp_path: Path) -> None:
    bad = tmp_path / "prices.toml"
    bad.write_text('[openai]\n"gpt-4o" = { input = "cheap" }\n')
    with pytest.raises(PricingError, match="numeric input and output"):
        PriceTable.load(bad)
    with pytest.raises(PricingError, match="TOML or JSON"):
        PriceTable.load(tmp_path / "missing.toml")


def test_fill_costs_only_where_missing(table: PriceTable) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC).isoformat()
    base = {
        "log_type": "inference",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "started_at": now,
        "finished_at": now,
        "prompt_tokens": 1000,
        "completion_tokens": 1000,
    }
    a = parse_event({**base, "request_id": "01900000-0000-7000-8000-000000000001"})
    b = parse_event({**base, "request_id": "01900000-0000-7000-8000-000000000002", "cost_usd": 9.0})
    c = parse_event(
        {**base, "request_id": "01900000-0000-7000-8000-000000000003", "model": "mystery"}
    )
    assert fill_costs([a, b, c], table) == 1
    assert a.cost_usd == pytest.approx((1000 * 0.15 + 1000 * 0.60) / 1e6)  # type: ignore[union-attr]
    assert b.cost_usd == 9.0  # type: ignore[union-attr]
    assert c.cost_usd == 0.0  # type: ignore[union-attr]
