"""Realistic PII values with valid checksums, and the look-alikes that are not PII.

Every value generator takes a seeded :class:`random.Random` and returns one string. The
values are fake but structurally valid: cards pass Luhn and carry real IIN ranges
(Mastercard 2-series included), IBANs pass mod-97, Bitcoin addresses carry valid
Base58Check or bech32 checksums, SSNs respect the SSA's allocation rules, phone numbers
are valid for their region according to ``phonenumbers`` when it is installed.
"""

from __future__ import annotations

import hashlib
import random
import string
import uuid
from collections.abc import Callable

FIRST = [
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "niaj",
    "olivia",
    "peggy",
    "rupert",
    "sybil",
    "trent",
    "victor",
    "wendy",
    "maria",
    "jose",
    "wei",
    "priya",
    "lukas",
    "sofia",
    "omar",
    "yuki",
    "chloe",
    "noah",
]
LAST = [
    "smith",
    "johnson",
    "garcia",
    "miller",
    "davis",
    "martinez",
    "lopez",
    "wilson",
    "anderson",
    "thomas",
    "moore",
    "jackson",
    "martin",
    "lee",
    "walker",
    "hall",
    "young",
    "nguyen",
    "kowalski",
    "schmidt",
    "rossi",
    "dubois",
    "tanaka",
    "patel",
    "okafor",
]
DOMAINS = [
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "acme-corp.com",
    "example.org",
    "contoso.net",
    "mail.utoronto.ca",
    "bigbank.co.uk",
    "startup.io",
    "uni-bonn.de",
    "proton.me",
    "company.com.br",
    "fastmail.fm",
    "hospital.org",
    "agency.gov",
]


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    """Digits starting with ``prefix``, ``length`` long, whose last digit makes Luhn pass."""
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def credit_card(rng: random.Random) -> str:
    """A Luhn-valid card number of a real brand, in one of the usual layouts."""
    brand = rng.choice(["visa", "visa", "mc5", "mc2", "mc2", "amex", "discover"])
    if brand == "visa":
        number = luhn_complete("4", 16, rng)
    elif brand == "mc5":
        number = luhn_complete(str(rng.randint(51, 55)), 16, rng)
    elif brand == "mc2":
        number = luhn_complete(str(rng.randint(2221, 2720)), 16, rng)
    elif brand == "amex":
        number = luhn_complete(rng.choice(["34", "37"]), 15, rng)
    else:
        number = luhn_complete("6011", 16, rng)
    layout = rng.choice(["plain", "space", "dash", "space"])
    if layout == "plain":
        return number
    sep = " " if layout == "space" else "-"
    if len(number) == 15:
        return sep.join([number[:4], number[4:10], number[10:]])
    return sep.join(number[i : i + 4] for i in range(0, 16, 4))


_IBAN_FORMATS = {
    "DE": ("n", 18),
    "GB": ("GB", 0),
    "FR": ("n", 23),
    "NL": ("NL", 0),
    "ES": ("n", 20),
    "IT": ("IT", 0),
    "BE": ("n", 12),
    "CH": ("n", 17),
}


def _iban_bban(country: str, rng: random.Random) -> str:
    digits = string.digits
    if country == "GB":
        return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + "".join(
            rng.choice(digits) for _ in range(14)
        )
    if country == "NL":
        return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + "".join(
            rng.choice(digits) for _ in range(10)
        )
    if country == "IT":
        return (
            rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
            + "".join(rng.choice(digits) for _ in range(10))
            + "".join(rng.choice(digits) for _ in range(12))
        )
    return "".join(rng.choice(digits) for _ in range(_IBAN_FORMATS[country][1]))


def iban(rng: random.Random) -> str:
    """An IBAN with valid mod-97 check digits, compact or printed in groups of four."""
    country = rng.choice(list(_IBAN_FORMATS))
    bban = _iban_bban(country, rng)
    rearranged = bban + country + "00"
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    check = 98 - int(numeric) % 97
    value = f"{country}{check:02d}{bban}"
    if rng.random() < 0.5:
        return " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    return value


def ssn(rng: random.Random) -> str:
    """A US SSN in an allocatable range (no 000/666/9xx area, no 00 group, no 0000 serial)."""
    area = rng.choice([a for a in range(1, 900) if a != 666])
    group, serial = rng.randint(1, 99), rng.randint(1, 9999)
    sep = rng.choice(["-", "-", "-", " "])
    return f"{area:03d}{sep}{group:02d}{sep}{serial:04d}"


def email(rng: random.Random) -> str:
    """A personal or work e-mail address."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    local = rng.choice(
        [
            f"{first}.{last}",
            f"{first}{last[0]}",
            f"{first}_{last}{rng.randint(1, 99)}",
            f"{first[0]}{last}",
            f"{first}+billing",
        ]
    )
    return f"{local}@{rng.choice(DOMAINS)}"


def url(rng: random.Random) -> str:
    """A web address: with scheme, with www., or a bare domain with a path."""
    host = rng.choice(
        [
            "shop.example.com",
            "www.acme-corp.com",
            "docs.contoso.net",
            "portal.bigbank.co.uk",
            "myblog.org",
            "files.startup.io",
            "uni-bonn.de",
            "tickets.agency.gov",
            "app.company.com.br",
        ]
    )
    path = rng.choice(
        [
            "",
            "/account/settings",
            f"/orders/{rng.randint(1000, 99999)}",
            f"/u/{rng.choice(FIRST)}",
            f"/reset?token={uuid.UUID(int=rng.getrandbits(128)).hex[:16]}",
        ]
    )
    form = rng.choice(["https", "https", "http", "www", "bare"])
    if form in ("https", "http"):
        return f"{form}://{host}{path}"
    if form == "www":
        return f"www.{host.removeprefix('www.')}{path}"
    return f"{host.removeprefix('www.')}{path or '/contact'}"


def ipv4(rng: random.Random) -> str:
    """A public or private IPv4 address."""
    first = rng.choice([10, 172, 192, 34, 52, 81, 104, 185, 203])
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def ipv6(rng: random.Random) -> str:
    """An IPv6 address, full or compressed."""
    groups = [f"{rng.getrandbits(16):x}" for _ in range(8)]
    if rng.random() < 0.5:
        return ":".join(["2001", "db8"] + groups[2:])
    return f"2001:db8:{groups[2]}::{groups[7]}"


def ip_address(rng: random.Random) -> str:
    """IPv4 (70%) or IPv6."""
    return ipv4(rng) if rng.random() < 0.7 else ipv6(rng)


_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _base58check(payload: bytes) -> str:
    data = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = _B58[r] + out
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + out


def _bech32_polymod(values: list[int]) -> int:
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if ((top >> i) & 1) else 0
    return chk


def _bech32_address(program: bytes) -> str:
    hrp = "bc"
    acc, bits, data = 0, 0, [0]  # witness version 0
    for b in program:
        acc = (acc << 8) | b
        bits += 8
        while bits >= 5:
            bits -= 5
            data.append((acc >> bits) & 31)
    if bits:
        data.append((acc << (5 - bits)) & 31)
    expanded = [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]
    polymod = _bech32_polymod(expanded + data + [0] * 6) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_BECH32[d] for d in data + checksum)


def crypto(rng: random.Random) -> str:
    """A Bitcoin address: P2PKH (1...), P2SH (3...) or bech32 (bc1q...)."""
    body = bytes(rng.getrandbits(8) for _ in range(20))
    kind = rng.choice(["p2pkh", "p2sh", "bech32"])
    if kind == "bech32":
        return _bech32_address(body)
    return _base58check((b"\x00" if kind == "p2pkh" else b"\x05") + body)


_PHONE_REGIONS = ["US", "US", "US", "GB", "DE", "IN", "BR", "CA"]


def phone(rng: random.Random) -> str:
    """A phone number valid for its region, printed the way people write them."""
    try:
        import phonenumbers
    except ImportError:  # pragma: no cover - phonenumbers ships with presidio
        return f"({rng.randint(201, 989)}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}"
    region = rng.choice(_PHONE_REGIONS)
    example = phonenumbers.example_number_for_type(
        region,
        rng.choice([phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]),
    )
    assert example is not None
    national = str(example.national_number)
    for _ in range(50):
        keep = 3 if region in ("US", "CA") else 4
        candidate = national[:keep] + "".join(
            rng.choice(string.digits) for _ in range(len(national) - keep)
        )
        num = phonenumbers.parse(f"+{example.country_code}{candidate}")
        if phonenumbers.is_valid_number(num):
            break
    else:
        num = example
    fmt = phonenumbers.PhoneNumberFormat
    style = rng.choice(["intl", "national", "national", "e164"])
    if region in ("US", "CA") and style == "national" and rng.random() < 0.5:
        digits = str(num.national_number)
        return rng.choice(
            [f"{digits[:3]}-{digits[3:6]}-{digits[6:]}", f"{digits[:3]}.{digits[3:6]}.{digits[6:]}"]
        )
    if style == "intl":
        return phonenumbers.format_number(num, fmt.INTERNATIONAL)
    if style == "e164":
        return phonenumbers.format_number(num, fmt.E164)
    return phonenumbers.format_number(num, fmt.NATIONAL)


VALUE_MAKERS: dict[str, Callable[[random.Random], str]] = {
    "EMAIL_ADDRESS": email,
    "PHONE_NUMBER": phone,
    "CREDIT_CARD": credit_card,
    "IBAN_CODE": iban,
    "IP_ADDRESS": ip_address,
    "US_SSN": ssn,
    "URL": url,
    "CRYPTO": crypto,
}
"""One generator per labelled entity type."""


def hard_negative(rng: random.Random) -> str:
    """Something technical that looks like PII to a naive recognizer but is not."""
    kind = rng.randrange(14)
    if kind == 0:
        return f"v{rng.randint(0, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 20)}"
    if kind == 1:
        return hashlib.sha1(rng.randbytes(8)).hexdigest()
    if kind == 2:
        return str(uuid.UUID(int=rng.getrandbits(128)))
    if kind == 3:
        return rng.choice(
            [
                "config.yaml",
                "model.py",
                "README.md",
                "data.json",
                "train.sh",
                "index.js",
                "main.rs",
                "report.pdf",
                "notes.txt",
                "setup.cfg",
            ]
        )
    if kind == 4:
        return rng.choice(
            [
                "self.name",
                "df.info()",
                "np.random.seed",
                "os.path.join",
                "obj.attr",
                "user.email",
                "resp.status",
                "model.fit",
                "app.run",
                "ctx.team",
            ]
        )
    if kind == 5:
        return f"INV-{rng.randint(2019, 2026)}-{rng.randint(0, 999999):06d}"
    if kind == 6:
        return f"build {rng.randint(20190101, 20261231)}.{rng.randint(1, 40)}"
    if kind == 7:
        return f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"
    if kind == 8:
        return str(rng.randint(1_600_000_000_000, 1_800_000_000_000))
    if kind == 9:
        return f"order #{rng.randint(100_000_000, 999_999_999)}"
    if kind == 10:
        return f"localhost:{rng.choice([3000, 5432, 6379, 8000, 8080, 8123])}"
    if kind == 11:
        return f"sha256:{hashlib.sha256(rng.randbytes(8)).hexdigest()}"
    if kind == 12:
        return f"{rng.randint(1, 9999)}.{rng.randint(0, 99):02d} USD"
    return f"ticket {rng.choice('ABCDEFGHJK')}{rng.choice('ABCDEFGHJK')}-{rng.randint(100, 99999)}"
