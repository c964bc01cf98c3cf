"""Model prices and cost: a dated table as data (``ollive/_data/prices.toml``) plus overrides.

>>> table = PriceTable.load()
>>> table.lookup("openai", "gpt-4o-2024-08-06").model
'gpt-4o'
>>> round(table.cost("openai", "gpt-4o", prompt_tokens=1000, completion_tokens=100), 6)
0.0035
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ollive.errors import PricingError

__all__ = ["ModelPrice", "PriceTable", "default_price_table", "fill_costs"]

_PROVIDER_ALIASES = {
    "azure": "openai",
    "azure_openai": "openai",
    "azure-openai": "openai",
    "vertex": "google",
    "vertexai": "google",
    "vertex_ai": "google",
    "gemini": "google",
    "google_genai": "google",
    "google-genai": "google",
    "bedrock": "anthropic",
    "mistralai": "mistral",
}
# suffixes that version a model name without changing its price, tried in order
_VERSION_SUFFIXES = [
    re.compile(r"-v\d+(:\d+)?$"),  # bedrock: -v1:0
    re.compile(r"[-@]\d{4}-\d{2}-\d{2}$"),  # -2024-08-06
    re.compile(r"[-@]\d{8}$"),  # -20241022, @20240620
    re.compile(r"-(latest|preview|exp)(-[\w-]+)?$"),
    re.compile(r"-\d{3}$"),  # gemini-1.5-pro-002
    re.compile(r"-\d{2}-\d{2}$"),  # gemini-2.5-pro-preview-05-06 after -preview
]


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per 1M tokens for one model."""

    provider: str
    model: str
    input: float
    output: float
    cached_input: float | None = None

    def cost(
        self, prompt_tokens: int, completion_tokens: int, cached_prompt_tokens: int = 0
    ) -> float:
        """Cost in USD; cached prompt tokens at the cached-input price where there is one."""
        cached = min(cached_prompt_tokens, prompt_tokens)
        cached_price = self.input if self.cached_input is None else self.cached_input
        usd = (prompt_tokens - cached) * self.input + cached * cached_price
        return (usd + completion_tokens * self.output) / 1_000_000


class PriceTable:
    """Prices by provider and model, with resolution of dated and versioned names."""

    def __init__(self, prices: Iterable[ModelPrice], as_of: str = "") -> None:
        self.as_of = as_of
        self._by_provider: dict[str, dict[str, ModelPrice]] = {}
        for price in prices:
            self._by_provider.setdefault(price.provider, {})[price.model] = price
        self._cache: dict[tuple[str, str], ModelPrice | None] = {}

    @classmethod
    def load(cls, override: Path | str | None = None) -> PriceTable:
        """The bundled table, with the entries of ``override`` (TOML or JSON) on top."""
        text = resources.files("ollive._data").joinpath("prices.toml").read_text("utf-8")
        data = tomllib.loads(text)
        if override is not None:
            for provider, models in _read_override(Path(override)).items():
                if provider != "as_of":
                    data.setdefault(provider, {}).update(models)
        return cls(_parse(data), as_of=str(data.get("as_of", "")))

    def __len__(self) -> int:
        return sum(len(models) for models in self._by_provider.values())

    def __iter__(self):  # type: ignore[no-untyped-def]
        for models in self._by_provider.values():
            yield from models.values()

    def lookup(self, provider: str, model: str) -> ModelPrice | None:
        """The price of ``model``, resolving aliases, prefixes and version suffixes; or None."""
        key = (provider, model)
        if key not in self._cache:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = self._resolve(provider, model)
        return self._cache[key]

    def cost(
        self,
        provider: str,
        model: str,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        cached_prompt_tokens: int = 0,
    ) -> float | None:
        """Cost in USD, or None when the model is not in the table."""
        price = self.lookup(provider, model)
        if price is None:
            return None
        return price.cost(prompt_tokens, completion_tokens, cached_prompt_tokens)

    def _resolve(self, provider: str, model: str) -> ModelPrice | None:
        provider = provider.strip().lower()
        provider = _PROVIDER_ALIASES.get(provider, provider)
        name = model.strip().lower()
        if "/" in name:  # "openai/gpt-4o", "models/gemini-1.5-pro"
            name = name.rsplit("/", 1)[1]
        name = re.sub(r"^(us|eu|apac)\.", "", name)  # bedrock cross-region prefix
        name = re.sub(r"^(anthropic|openai|google|mistral)\.", "", name)
        found = self._by_provider.get(provider)
        if found is not None and (price := _match(name, found)) is not None:
            return price
        # unknown provider, or a model served by another (a gateway, Vertex's Claude, ...)
        every = {m: p for models in self._by_provider.values() for m, p in models.items()}
        return _match(name, every)


def _match(name: str, candidates: Mapping[str, ModelPrice]) -> ModelPrice | None:
    while True:
        if name in candidates:
            return candidates[name]
        for suffix in _VERSION_SUFFIXES:
            stripped = suffix.sub("", name)
            if stripped != name:
                name = stripped
                break
        else:
            break
    return _longest_prefix(name, candidates)


def _longest_prefix(name: str, candidates: Mapping[str, ModelPrice]) -> ModelPrice | None:
    best = None
    for known in candidates:
        if name.startswith(known + "-") and (best is None or len(known) > len(best)):
            best = known
    return candidates[best] if best else None


def _read_override(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text("utf-8")
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (OSError, ValueError) as exc:
        raise PricingError(
            f"cannot read the price override file {path}: {exc}. It must be TOML or JSON: "
            '[provider]\\n"model" = { input = 2.5, output = 10.0, cached_input = 1.25 }'
        ) from exc
    if not isinstance(data, dict):
        raise PricingError(f"{path}: the top level must be a table of providers")
    return data


def _parse(data: Mapping[str, Any]) -> list[ModelPrice]:
    prices = []
    for provider, models in data.items():
        if provider == "as_of":
            continue
        if not isinstance(models, Mapping):
            raise PricingError(f"prices: [{provider}] must be a table of models")
        for model, entry in models.items():
            try:
                prices.append(
                    ModelPrice(
                        provider=provider.lower(),
                        model=model.lower(),
                        input=float(entry["input"]),
                        output=float(entry["output"]),
                        cached_input=(
                            float(entry["cached_input"]) if "cached_input" in entry else None
                        ),
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise PricingError(
                    f"prices: {provider}/{model} needs numeric input and output prices "
                    f"(USD per 1M tokens): {exc!r}"
                ) from exc
    return prices


@lru_cache(maxsize=4)
def default_price_table(override: Path | None = None) -> PriceTable:
    """The bundled table (with an override file), loaded once per process."""
    return PriceTable.load(override)


def fill_costs(events: Iterable[Any], table: PriceTable | None = None) -> int:
    """Set ``cost_usd`` on every inference event that lacks it; returns how many were priced.

    Events of unknown models get ``cost_usd = 0.0`` and are not counted.
    """
    table = table or default_price_table()
    priced = 0
    for event in events:
        if getattr(event, "log_type", None) != "inference" or event.cost_usd is not None:
            continue
        cost = table.cost(
            event.provider,
            event.model,
            event.prompt_tokens,
            event.completion_tokens,
            event.cached_prompt_tokens,
        )
        event.cost_usd = 0.0 if cost is None else cost
        priced += cost is not None
    return priced
