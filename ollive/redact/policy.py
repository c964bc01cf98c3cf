"""Redaction policies: which entity types to look for, what to do with each, per project.

::

    from ollive.redact import Policy, load_policies

    policy = Policy(entities=["EMAIL_ADDRESS"], operators={"EMAIL_ADDRESS": "hash"},
                    hash_salt="a-salt-of-16-bytes-or-more")
    default, projects = load_policies("redaction.toml")   # OLLIVE_REDACTION_POLICY_FILE

A :class:`Policy` is a frozen value (hashable: the redactor keys its operator tables on
it). Operators are ``replace`` (with ``<ENTITY_TYPE>``), ``mask``, salted ``hash`` and
``keep``. :data:`DEFAULT_POLICY` uses Ollive's recognizers tuned for LLM text;
``Policy.vanilla()`` is plain Presidio with its default English recognizers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ollive.errors import ConfigError

__all__ = [
    "DEFAULT_LOCALES",
    "DEFAULT_POLICY",
    "LOCALE_REGIONS",
    "NER_ENTITIES",
    "PATTERN_ENTITIES",
    "Operator",
    "Policy",
    "RedactionPolicy",
    "load_policies",
    "operator_config",
    "regions_for",
]

Operator = Literal["replace", "mask", "hash", "keep"]
_OPERATORS = ("replace", "mask", "hash", "keep")


LOCALE_REGIONS: dict[str, str] = {
    "en_US": "US",
    "en_GB": "GB",
    "fr_FR": "FR",
    "de_DE": "DE",
    "es_ES": "ES",
    "it_IT": "IT",
    "nl_NL": "NL",
    "pt_BR": "BR",
    "en_IN": "IN",
    "en_CA": "CA",
    "fr_CA": "CA",
    "en_AU": "AU",
    "en_IE": "IE",
    "de_AT": "AT",
    "de_CH": "CH",
    "fr_CH": "CH",
    "fr_BE": "BE",
    "nl_BE": "BE",
    "pt_PT": "PT",
    "es_MX": "MX",
    "pl_PL": "PL",
    "sv_SE": "SE",
    "da_DK": "DK",
    "he_IL": "IL",
    "ja_JP": "JP",
}
"""Phone-number region of each supported policy locale."""

DEFAULT_LOCALES: tuple[str, ...] = (
    "en_US",
    "en_GB",
    "fr_FR",
    "de_DE",
    "es_ES",
    "it_IT",
    "nl_NL",
    "pt_BR",
    "en_IN",
)
"""The locales a policy covers unless it names its own."""


def regions_for(locales: tuple[str, ...]) -> tuple[str, ...]:
    """Phone regions for ``locales`` (in order, no repeats); unknown locales raise."""
    regions: list[str] = []
    for locale in locales:
        region = LOCALE_REGIONS.get(locale)
        if region is None:
            raise ConfigError(
                f"unknown redaction locale {locale!r}; use one of {', '.join(LOCALE_REGIONS)}"
            )
        if region not in regions:
            regions.append(region)
    return tuple(regions)


PATTERN_ENTITIES: tuple[str, ...] = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "IP_ADDRESS",
    "US_SSN",
    "URL",
    "CRYPTO",
)
"""What the default policy redacts: entity types found by patterns and checksums."""

NER_ENTITIES: tuple[str, ...] = ("PERSON", "LOCATION", "NRP")
"""Entity types only spaCy NER finds; a policy that lists one of them runs NER (opt-in:
on LLM-style text the small English model flags many clean texts, see docs/redaction.md)."""


def _default_entities() -> tuple[str, ...]:
    return PATTERN_ENTITIES


@dataclass(frozen=True)
class Policy:
    """What to redact and how.

    ``entities``: entity types to detect (``None``: every type the recognizers support).
    ``operators``: per-entity operator, else ``default_operator``. ``replace`` gives
    ``<ENTITY_TYPE>``; ``mask`` replaces every character with ``mask_char``; ``hash`` gives
    ``sha256(value + hash_salt)`` (a salt of at least 16 characters makes hashes
    reproducible and joinable across events; without one Presidio salts each value at
    random); ``keep`` detects and counts without changing the text.
    ``recognizers``: ``"tuned"`` (Ollive's, for LLM text) or ``"presidio"`` (vanilla).
    ``locales``: whose phone numbers to recognise in national form (``+`` numbers are
    recognised from every country); IBANs of every country are checked by their checksum.
    """

    entities: tuple[str, ...] | None = field(default_factory=_default_entities)
    operators: tuple[tuple[str, Operator], ...] | Mapping[str, Operator] = ()
    default_operator: Operator = "replace"
    score_threshold: float = 0.0
    hash_salt: str = ""
    mask_char: str = "*"
    recognizers: Literal["tuned", "presidio"] = "tuned"
    locales: tuple[str, ...] = DEFAULT_LOCALES

    def __post_init__(self) -> None:
        object.__setattr__(self, "locales", tuple(self.locales))
        regions_for(self.locales)  # unknown locales fail here, with the list of known ones
        ops = self.operators
        pairs = tuple(sorted(ops.items())) if isinstance(ops, Mapping) else tuple(ops)
        object.__setattr__(self, "operators", pairs)
        if self.entities is not None:
            object.__setattr__(self, "entities", tuple(self.entities))
        for name in [self.default_operator, *(op for _, op in pairs)]:
            if name not in _OPERATORS:
                raise ConfigError(
                    f"unknown redaction operator {name!r}; use one of {', '.join(_OPERATORS)}"
                )
        if self.hash_salt and len(self.hash_salt.encode()) < 16:
            raise ConfigError(
                "hash_salt must be at least 16 bytes (or empty for a random salt per value)"
            )
        if self.recognizers not in ("tuned", "presidio"):
            raise ConfigError("recognizers must be 'tuned' or 'presidio'")
        if len(self.mask_char) != 1:
            raise ConfigError("mask_char must be one character")

    def with_ner(self) -> Policy:
        """This policy plus PERSON, LOCATION and NRP (found by the installed spaCy model)."""
        from dataclasses import replace

        current = tuple(self.entities or ())
        return replace(self, entities=current + tuple(e for e in NER_ENTITIES if e not in current))

    @classmethod
    def vanilla(cls) -> Policy:
        """Plain Presidio: its default English recognizers, every entity, no threshold."""
        return cls(entities=None, recognizers="presidio")

    def operator_for(self, entity_type: str) -> Operator:
        """The operator applied to ``entity_type``."""
        return dict(self.operators).get(entity_type, self.default_operator)  # type: ignore[arg-type]


def load_policies(path: str | Path) -> tuple[Policy, dict[str, Policy]]:
    """The default policy and per-project policies from a TOML or JSON file::

        [default]                       # optional: overrides DEFAULT_POLICY's fields
        default_operator = "replace"
        [projects.acme]                 # one table per project, Policy's fields
        entities = ["EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD"]
        operators = { EMAIL_ADDRESS = "hash" }
        hash_salt = "a-salt-of-16-bytes-or-more"

    Ingest reads it from ``OLLIVE_REDACTION_POLICY_FILE``.
    """
    import json
    import tomllib

    path = Path(path)
    try:
        text = path.read_text("utf-8")
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        default = Policy(**data.get("default", {}))
        projects = {name: Policy(**fields) for name, fields in data.get("projects", {}).items()}
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"redaction policy file {path}: {exc}") from exc
    return default, projects


RedactionPolicy = Policy
"""The name :class:`Policy` had before ``ollive.redact`` (public, kept as an alias)."""

DEFAULT_POLICY = Policy()
"""The eight pattern entities with tuned recognizers, phone numbers of the nine default
locales, every value replaced by ``<ENTITY_TYPE>``. ``DEFAULT_POLICY.with_ner()`` (or
``entities`` listing PERSON/LOCATION/NRP in a policy file) adds NER."""


def operator_config(policy: Policy, operator: Operator, entity: str | None) -> Any:
    """Presidio's ``OperatorConfig`` for ``operator`` under ``policy`` (``entity`` names the tag)."""
    from presidio_anonymizer.entities import OperatorConfig

    if operator == "replace":
        return OperatorConfig("replace", {"new_value": f"<{entity}>"} if entity else {})
    if operator == "mask":
        return OperatorConfig(
            "mask", {"masking_char": policy.mask_char, "chars_to_mask": 1 << 30, "from_end": False}
        )
    if operator == "hash":
        params: dict[str, Any] = {"hash_type": "sha256"}
        if policy.hash_salt:
            params["salt"] = policy.hash_salt
        return OperatorConfig("hash", params)
    return OperatorConfig("keep", {})
