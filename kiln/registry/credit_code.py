"""统一社会信用代码 (unified social credit code) per GB 32100-2015.

An 18-character code: registration authority (1), organisation type (1),
administrative division (6, GB/T 2260), organisation body code (9) and a check
character computed modulo 31 over the first 17 characters. The alphabet omits
I, O, S, V and Z.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def check_character(first17: str) -> str:
    """The 18th character for the given first 17 (GB 32100-2015 §5)."""
    total = sum(VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """Why ``code`` is not a valid credit code (a stable reason code), or ``None``."""
    if len(code) != 18:
        return "length"
    if any(ch not in VALUE for ch in code):
        return "charset"
    if not code[2:8].isdigit():
        return "region"
    if check_character(code[:17]) != code[17]:
        return "checksum"
    return None


def is_valid(code: str) -> bool:
    return problem(code) is None


def make(authority: str, org_type: str, region_code: str, body: str) -> str:
    """Build a valid code from its parts (used by the demo generator and tests)."""
    first17 = f"{authority}{org_type}{region_code}{body}"
    if len(first17) != 17:
        raise ValueError("a credit code has 17 characters before its check character")
    return first17 + check_character(first17)
