#!/usr/bin/env python3
"""Offline verifier for Kiln evidence-ledger proof bundles. Standalone: ship this one file.

    python verifier.py bundle.json [--public-key HEX] [--json]

Needs Python 3.9+ and, for the Ed25519 signature, the ``cryptography`` package. Checks:

1. the entry's canonical payload hashes to its leaf hash (RFC 9162 §2.1.1);
2. the payload names the same index the proof is for;
3. the signed tree head's Ed25519 signature, and that its key is the pinned one;
4. the inclusion proof leads from the leaf to the signed root (RFC 9162 §2.1.3.2);
5. if present, the older signed tree head and the consistency proof to the newer one
   (RFC 9162 §2.1.4.2).

The signed message is ``b"kiln-ledger/tree-head/v1\\0" || uint64 tree_size ||
uint64 timestamp_ms || root_hash`` (big-endian integers).

Exit status: 0 the bundle verifies; 1 it does not; 2 the bundle is unreadable or malformed;
3 the ``cryptography`` package is missing.
"""

from __future__ import annotations

import argparse
import gettext
import hashlib
import json
import struct
import sys

_ = gettext.gettext

BUNDLE_FORMAT = "kiln-ledger-proof/1"
TREE_HEAD_TAG = b"kiln-ledger/tree-head/v1\x00"
HASH_SIZE = 32
VALID, INVALID, MALFORMED, NO_CRYPTO = 0, 1, 2, 3


class Malformed(ValueError):
    """The bundle is not a well-formed proof bundle."""


# --- RFC 9162 §2.1 (a copy of the few lines kiln/ledger/merkle.py also has) -------------


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion_proof(leaf, index, size, path):
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_consistency(old_size, new_size, old_root, new_root, path) -> bool:
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not path and old_root == new_root
    if old_size == 0:
        return not path and old_root == hashlib.sha256(b"").digest()
    if not path:
        return False
    nodes = list(path)
    if old_size & (old_size - 1) == 0:
        nodes.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


# --- reading the bundle -------------------------------------------------------------------


def _hex(value, size: int, what: str) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except (TypeError, ValueError):
        raw = b""
    if len(raw) != size:
        raise Malformed(_("%(what)s is not %(size)d bytes of hex") % {"what": what, "size": size})
    return raw


def _int(container: dict, key: str, what: str) -> int:
    value = container.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Malformed(_("%(what)s.%(key)s is not a non-negative integer") % {"what": what, "key": key})
    return value


def _object(container: dict, key: str) -> dict:
    value = container.get(key)
    if not isinstance(value, dict):
        raise Malformed(_("the bundle has no “%(key)s” object") % {"key": key})
    return value


def _path(container: dict, what: str) -> list[bytes]:
    value = container.get("path")
    if not isinstance(value, list):
        raise Malformed(_("%(what)s.path is not a list") % {"what": what})
    return [_hex(h, HASH_SIZE, f"{what}.path[{i}]") for i, h in enumerate(value)]


def tree_head_message(tree_size: int, timestamp_ms: int, root_hash: bytes) -> bytes:
    return TREE_HEAD_TAG + struct.pack(">QQ", tree_size, timestamp_ms) + root_hash


# --- checking ---------------------------------------------------------------------------------


class Checks:
    def __init__(self):
        self.results: list[tuple[bool, str]] = []

    def check(self, passed: bool, message: str) -> bool:
        self.results.append((bool(passed), message))
        return passed

    @property
    def ok(self) -> bool:
        return all(passed for passed, _message in self.results)


def _check_tree_head(checks: Checks, head: dict, what: str, pinned: bytes | None) -> tuple[int, bytes]:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    size = _int(head, "tree_size", what)
    timestamp = _int(head, "timestamp", what)
    root = _hex(head.get("root_hash"), HASH_SIZE, f"{what}.root_hash")
    signature = _hex(head.get("signature"), 64, f"{what}.signature")
    public_key = _hex(head.get("public_key"), 32, f"{what}.public_key")
    checks.check(
        head.get("key_id") == hashlib.sha256(public_key).hexdigest(),
        _("%(what)s: key_id is the SHA-256 of its public key") % {"what": what},
    )
    if pinned is not None:
        checks.check(public_key == pinned, _("%(what)s: signed by the pinned public key") % {"what": what})
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            signature, tree_head_message(size, timestamp, root)
        )
        valid = True
    except (InvalidSignature, ValueError):
        valid = False
    checks.check(
        valid,
        _("%(what)s: Ed25519 signature over size %(size)d and root %(root)s")
        % {"what": what, "size": size, "root": root.hex()},
    )
    return size, root


def verify_bundle(bundle, pinned_key: bytes | None = None) -> Checks:
    """Run every check on a parsed bundle; raises :class:`Malformed` when it cannot be read."""
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        raise Malformed(_("not a %(format)s bundle") % {"format": BUNDLE_FORMAT})
    checks = Checks()
    entry, inclusion, head = (
        _object(bundle, "entry"),
        _object(bundle, "inclusion"),
        _object(bundle, "tree_head"),
    )
    index = _int(inclusion, "leaf_index", "inclusion")

    payload = entry.get("payload")
    stated = entry.get("leaf_hash")
    if payload is None and stated is None:
        raise Malformed(_("the entry has neither a payload nor a leaf hash"))
    if payload is not None:
        if not isinstance(payload, str):
            raise Malformed(_("entry.payload is not a string"))
        leaf = leaf_hash(payload.encode("utf-8"))
        if stated is not None:
            checks.check(
                leaf == _hex(stated, HASH_SIZE, "entry.leaf_hash"),
                _("entry: the payload hashes to the stated leaf hash"),
            )
        try:
            claimed = json.loads(payload).get("index")
        except (ValueError, AttributeError):
            claimed = None
        checks.check(claimed == index, _("entry: the payload names index %(index)d") % {"index": index})
    else:
        leaf = _hex(stated, HASH_SIZE, "entry.leaf_hash")

    size, root = _check_tree_head(checks, head, "tree_head", pinned_key)
    checks.check(
        _int(inclusion, "tree_size", "inclusion") == size,
        _("inclusion: proof is for the signed tree size %(size)d") % {"size": size},
    )
    computed = root_from_inclusion_proof(leaf, index, size, _path(inclusion, "inclusion"))
    checks.check(
        computed == root,
        _("inclusion: entry %(index)d is in the signed tree of %(size)d entries")
        % {"index": index, "size": size},
    )

    if bundle.get("consistency") is not None:
        consistency = _object(bundle, "consistency")
        old_size, old_root = _check_tree_head(
            checks, _object(consistency, "old_tree_head"), "old_tree_head", pinned_key
        )
        checks.check(
            verify_consistency(old_size, size, old_root, root, _path(consistency, "consistency")),
            _("consistency: the tree of %(new)d entries extends the tree of %(old)d")
            % {"old": old_size, "new": size},
        )
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=_("Verify a Kiln evidence-ledger proof bundle offline."))
    parser.add_argument("bundle", help=_("the proof bundle (JSON file, or - for standard input)"))
    parser.add_argument("--public-key", help=_("the platform's published Ed25519 public key (hex) to pin"))
    parser.add_argument("--json", action="store_true", help=_("print the results as JSON"))
    args = parser.parse_args(argv)

    try:
        import cryptography  # noqa: F401
    except ImportError:
        print(_("error: the 'cryptography' package is needed: pip install cryptography"), file=sys.stderr)
        return NO_CRYPTO
    try:
        pinned = _hex(args.public_key, 32, "--public-key") if args.public_key else None
        if args.bundle == "-":
            bundle = json.load(sys.stdin)
        else:
            with open(args.bundle, encoding="utf-8") as handle:
                bundle = json.load(handle)
        checks = verify_bundle(bundle, pinned)
    except (OSError, ValueError) as exc:
        print(_("error: %(problem)s") % {"problem": exc}, file=sys.stderr)
        return MALFORMED

    if args.json:
        print(json.dumps({"valid": checks.ok, "checks": [{"ok": p, "check": m} for p, m in checks.results]}))
    else:
        for passed, message in checks.results:
            print(("OK    " if passed else "FAIL  ") + message)
        if pinned is None:
            print(
                _("note: the bundle's own public key was trusted; pin the platform's key with --public-key")
            )
        print(_("VALID") if checks.ok else _("INVALID"))
    return VALID if checks.ok else INVALID


if __name__ == "__main__":
    sys.exit(main())
