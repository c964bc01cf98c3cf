"""Redactor: policies, operators, per-project policies, bad input, audit counts, offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

from ollive.errors import ConfigError
from ollive.redact import DEFAULT_POLICY, Finding, RedactionPolicy, RedactionResult, Redactor

SALT = "0123456789abcdef-salt"


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor(
        projects={
            "acme": RedactionPolicy(entities=("EMAIL_ADDRESS",), default_operator="mask"),
            "hashing": RedactionPolicy(default_operator="hash", hash_salt=SALT),
            "audit-only": RedactionPolicy(default_operator="keep"),
        }
    )


def test_replace_is_the_default_operator(redactor: Redactor) -> None:
    text = "mail ada.lovelace@example.com or call +1 212-555-0147 please"
    result = redactor.redact(text)
    assert result.ok
    assert result.text == "mail <EMAIL_ADDRESS> or call <PHONE_NUMBER> please"
    assert result.counts == {"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}
    email = next(f for f in result.findings if f.entity_type == "EMAIL_ADDRESS")
    assert isinstance(email, Finding)
    assert text[email.start : email.end] == "ada.lovelace@example.com"
    assert 0 < email.score <= 1


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        ("card 2221 0012 3456 7896 expires soon", "CREDIT_CARD"),  # Mastercard 2-series
        ("my visa is 4111-1111-1111-1111", "CREDIT_CARD"),
        ("wire it to DE89 3704 0044 0532 0130 00 today", "IBAN_CODE"),
        ("my SSN is 078-05-1121", "US_SSN"),
        ("client_ip=203.0.113.54 port 443", "IP_ADDRESS"),
        ("from 2001:db8:85a3::8a2e:370:7334 via proxy", "IP_ADDRESS"),
        ("see https://portal.bigbank.co.uk/account/settings.", "URL"),
        ("send BTC to 1BoatSLRHtKNngkdXEeobR76b53LETtpyT now", "CRYPTO"),
    ],
)
def test_default_policy_finds_pattern_entities(redactor: Redactor, text: str, entity: str) -> None:
    assert redactor.redact(text).counts.get(entity) == 1, redactor.redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "def load(self):\n    self.name = path\n    return df.info()",
        "edit setup.py, README.md, train.sh and config.yaml",
        "invoice INV-2024-000123, order #482139575, build 20240115.3",
        "trace 1ece615d-b9a6-442e-9e7d-6b377936d536 took 1705321234567",
        "sha256:cda61fb17bd44bb66176f8157ec4ce4e615139e20d62c0fee9c059dd5abbc23b",
        "2026-11-03 21:07:58,397 INFO [worker-16] std::vector<int> a[::2] v1.26.4",
        "upgrade numpy to 1.26.4 and listen on localhost:8080",
    ],
)
def test_default_policy_leaves_technical_text_alone(redactor: Redactor, text: str) -> None:
    result = redactor.redact(text)
    assert result.findings == () and result.text == text


def test_operators_mask_hash_keep_per_project(redactor: Redactor) -> None:
    text = "mail bob@example.com, phone +44 20 7946 0958"
    masked = redactor.redact(text, project="acme")  # e-mail only, masked
    assert masked.text == "mail " + "*" * len("bob@example.com") + ", phone +44 20 7946 0958"
    hashed = redactor.redact(text, project="hashing")
    again = redactor.redact_batch([text], project="hashing")[0]
    assert "bob@example.com" not in hashed.text and hashed.text == again.text
    kept = redactor.redact(text, project="audit-only")
    assert kept.text == text and kept.counts == {"EMAIL_ADDRESS": 1, "PHONE_NUMBER": 1}
    assert (
        redactor.redact(text, project="unknown").text
        == "mail <EMAIL_ADDRESS>, phone <PHONE_NUMBER>"
    )


def test_policy_validation() -> None:
    with pytest.raises(ConfigError):
        RedactionPolicy(default_operator="shred")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        RedactionPolicy(default_operator="hash", hash_salt="short")
    policy = RedactionPolicy(operators={"URL": "keep"})
    assert policy.operator_for("URL") == "keep" and policy.operator_for("US_SSN") == "replace"
    assert DEFAULT_POLICY.entities is not None and "CREDIT_CARD" in DEFAULT_POLICY.entities
    assert RedactionPolicy.vanilla().entities is None


def test_bad_input_never_sinks_a_batch(redactor: Redactor) -> None:
    huge = ("lorem ipsum 12345 dolor sit amet. " * 32_000) + "contact eve@example.org"
    binary = bytes(range(256)).decode("latin-1") * 8
    surrogates = "user \ud800 mail dan@example.com \udfff end"
    batch = ["", huge, binary, surrogates, None, b"bytes", "ok text"]
    results = redactor.redact_batch(batch)  # type: ignore[arg-type]
    assert [r.ok for r in results] == [True, True, True, True, False, False, True]
    assert results[0] == RedactionResult("", ())
    assert results[1].text.endswith("contact <EMAIL_ADDRESS>") and "eve@" not in results[1].text
    assert results[3].text.encode("utf-8")  # lone surrogates replaced, storable
    assert "<EMAIL_ADDRESS>" in results[3].text
    for failed in results[4:6]:
        assert failed.text == "" and failed.error and failed.findings == ()
    assert results[6].text == "ok text"


def test_batch_is_thread_safe_and_cached_results_are_stable(redactor: Redactor) -> None:
    texts = [
        f"user{i}@example.com called +1 415-555-{2600 + i:04d} from 10.0.{i}.7" for i in range(64)
    ]
    expected = redactor.redact_batch(texts)
    with ThreadPoolExecutor(4) as pool:
        chunks = list(pool.map(redactor.redact_batch, [texts[i::4] for i in range(4)]))
    for i in range(4):
        assert chunks[i] == expected[i::4]
    assert redactor.redact_batch(texts) == expected  # second pass hits the cache


def test_engines_build_and_run_without_network(tmp_path) -> None:
    script = textwrap.dedent(
        """
        import socket
        def refuse(*args, **kwargs):
            raise OSError("network access attempted")
        socket.socket.connect = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        from ollive.redact import Redactor, RedactionPolicy
        for policy in (None, RedactionPolicy.vanilla()):
            r = Redactor(policy)
            out = r.redact("write to someone@example.co.uk or visit www.example.com")
            assert out.ok and "<EMAIL_ADDRESS>" in out.text, out
        print("offline-ok", r.nlp_model)
        """
    )
    env = dict(
        os.environ,
        HTTPS_PROXY="http://127.0.0.1:9",
        HTTP_PROXY="http://127.0.0.1:9",
        XDG_CACHE_HOME=str(tmp_path),
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "offline-ok" in done.stdout
    assert not any(tmp_path.iterdir())  # no public-suffix list cached either


def test_whole_addresses_are_redacted_not_prefixes(redactor: Redactor) -> None:
    text = "peers 2001:db8::1, ::ffff:10.0.0.1 and 1:2:3:4:5:6:1.2.3.4; std::vector a[::2]"
    assert redactor.redact(text).text == (
        "peers <IP_ADDRESS>, <IP_ADDRESS> and <IP_ADDRESS>; std::vector a[::2]"
    )
    phone = "mobile\u00a0+44\u00a020\u00a07946\u00a00958, thanks"
    assert redactor.redact(phone).text == "mobile\u00a0<PHONE_NUMBER>, thanks"


def test_policy_file_gives_a_default_and_per_project_policies(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ollive.errors import ConfigError
    from ollive.redact import Redactor, load_policies

    path = tmp_path / "policies.toml"
    path.write_text(
        '[projects.acme]\nentities = ["EMAIL_ADDRESS"]\noperators = { EMAIL_ADDRESS = "mask" }\n'
    )
    default, projects = load_policies(path)
    redactor = Redactor(default, projects=projects)
    text = "mail jane.doe@example.com or call 212-555-0187"
    acme = redactor.redact_batch([text], project="acme")[0]
    assert "jane.doe@example.com" not in acme.text and "<EMAIL_ADDRESS>" not in acme.text
    assert "212-555-0187" in acme.text  # acme only redacts e-mail addresses
    other = redactor.redact_batch([text], project="other")[0]
    assert "<EMAIL_ADDRESS>" in other.text
    bad = tmp_path / "bad.toml"
    bad.write_text('[projects.x]\noperators = { EMAIL_ADDRESS = "shred" }\n')
    with pytest.raises(ConfigError, match="operator"):
        load_policies(bad)


def test_building_a_redactor_loads_the_numbering_plans_it_validates_against() -> None:
    """The first texts do not pay for phonenumbers' lazy loads: warm() did them (a fresh
    process, so that no other test has loaded them already)."""
    script = textwrap.dedent(
        """
        import json
        from phonenumbers.phonemetadata import PhoneMetadata
        from ollive.redact import Redactor
        before = set(PhoneMetadata._region_metadata)
        Redactor(ner_model=None)
        print(json.dumps(sorted(set(PhoneMetadata._region_metadata) - before)))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    loaded = set(json.loads(out.strip().splitlines()[-1]))
    assert {"US", "GB", "FR", "DE", "ES", "IT", "NL", "BR", "IN", "CA"} <= loaded
