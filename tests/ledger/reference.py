"""RFC 9162 §2.1 written as literally as possible (recursive, slow): the oracle for kiln.ledger.merkle."""

from __future__ import annotations

import hashlib


def leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(hashes: list[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes."""
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashes[0]
    k = _k(n)
    return node(mth(hashes[:k]), mth(hashes[k:]))


def path(m: int, hashes: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) — §2.1.3.1."""
    n = len(hashes)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return path(m, hashes[:k]) + [mth(hashes[k:])]
    return path(m - k, hashes[k:]) + [mth(hashes[:k])]


def subproof(m: int, hashes: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) — §2.1.4.1."""
    n = len(hashes)
    if m == n:
        return [] if b else [mth(hashes)]
    k = _k(n)
    if m <= k:
        return subproof(m, hashes[:k], b) + [mth(hashes[k:])]
    return subproof(m - k, hashes[k:], False) + [mth(hashes[:k])]


def proof(m: int, hashes: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) for 0 < m < n; empty otherwise."""
    if m in (0, len(hashes)):
        return []
    return subproof(m, hashes, True)
