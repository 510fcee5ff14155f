"""RFC 9162 §2.1 Merkle tree hashing and proofs, with no Django and no storage.

Proof generation is split in two so that storage stays out of the algorithms:

1. *planning*: the RFC recursions (PATH, SUBPROOF) turned into loops that return the
   leaf ranges ``(begin, end)`` whose Merkle tree hashes form the proof;
2. *resolving*: every such range is a right fold of perfect subtrees (one per set bit
   of its length), and each perfect subtree hash is read from a :class:`NodeReader`,
   which only has to serve leaf hashes (level 0) and the cached nodes at every
   ``stride``-th level (8, 16, 24 … by default). Any perfect subtree is then at most
   ``2**(stride-1)`` hashes away from stored data, so a proof in a tree of a million
   leaves reads a few hundred hashes and computes a few hundred more.

Appends go through :class:`CompactRange` (the frontier of perfect subtrees covering
``[0, size)``), which computes each internal node exactly once and hands back the
stride-level nodes for the cache.

Levels are held as *joined* bytes (``n * 32`` bytes) rather than lists of digests: a
million leaves cost 32 MB instead of ~100 MB of small objects, and a parent level is one
slice-and-hash per node.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

HASH_SIZE = 32
STRIDE = 8
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256

Range = tuple[int, int]
# (level, index): the perfect subtree over leaves [index << level, (index + 1) << level)
Piece = tuple[int, int]


class IncompleteTree(LookupError):
    """The node store lacks hashes a proof needs (rows missing or the cache behind)."""


# --- hashing ---------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    return _sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(NODE_PREFIX + left + right).digest()


def joined_leaf_hashes(entries: Iterable[bytes]) -> bytes:
    """Leaf hashes of many entries, joined."""
    return b"".join([_sha256(b"\x00" + data).digest() for data in entries])


def parent_level(level: bytes) -> bytes:
    """Hashes of the parents of a run of sibling nodes that starts at an even index.

    A last, unpaired node has no parent yet and is left out.
    """
    end = (len(level) // 64) * 64
    # A pair of children is one contiguous 64-byte slice: one concatenation per node.
    return b"".join([_sha256(b"\x01" + level[i : i + 64]).digest() for i in range(0, end, 64)])


def fold(hashes: Sequence[bytes]) -> bytes:
    """Merkle tree hash of a range given its perfect subtrees, largest (leftmost) first."""
    result = hashes[-1]
    for h in reversed(hashes[:-1]):
        result = node_hash(h, result)
    return result


def split(n: int) -> int:
    """The RFC's k: the largest power of two smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def hashes_of(joined: bytes) -> list[bytes]:
    return [joined[i : i + HASH_SIZE] for i in range(0, len(joined), HASH_SIZE)]


# --- planning: the RFC recursions as loops over leaf ranges ------------------------


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]): the ranges whose hashes form the audit path, leaf side first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    path: list[Range] = []
    begin, end = 0, size
    while end - begin > 1:
        mid = begin + split(end - begin)
        if index < mid:
            path.append((mid, end))
            end = mid
        else:
            path.append((begin, mid))
            begin = mid
    path.reverse()
    return path


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true), deepest node first."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    proof: list[Range] = []
    begin, end, m, complete = 0, new_size, old_size, True
    while True:
        n = end - begin
        if m == n:
            if not complete:
                proof.append((begin, end))
            break
        k = split(n)
        if m <= k:
            proof.append((begin + k, end))
            end = begin + k
        else:
            proof.append((begin, begin + k))
            begin += k
            m -= k
            complete = False
    proof.reverse()
    return proof


def perfect_pieces(begin: int, end: int) -> list[Piece]:
    """The perfect subtrees, largest first, whose right fold is MTH(D[begin:end]).

    Holds for every range the RFC recursions produce: their ``begin`` is aligned to the
    largest piece.
    """
    pieces: list[Piece] = []
    position, remaining = begin, end - begin
    while remaining:
        level = remaining.bit_length() - 1
        if position & ((1 << level) - 1):
            raise ValueError(f"range [{begin}, {end}) is not a subtree of a Merkle tree")
        pieces.append((level, position >> level))
        position += 1 << level
        remaining -= 1 << level
    return pieces


# --- resolving: perfect subtree hashes from a sparse node store ---------------------


class NodeReader(Protocol):
    def nodes(self, level: int, begin: int, end: int) -> bytes:
        """Joined hashes of the perfect subtrees at ``level`` numbered ``begin`` to ``end - 1``.

        Only asked for level 0 (the leaf hashes) and for multiples of the stride.
        """
        ...


def resolve(pieces: Iterable[Piece], reader: NodeReader, stride: int = STRIDE) -> dict[Piece, bytes]:
    """Hashes of the given perfect subtrees, reading each stored span once."""
    wanted = set(pieces)
    spans: dict[int, list[Range]] = {}
    for level, index in wanted:
        shift = level % stride
        spans.setdefault(level - shift, []).append((index << shift, (index + 1) << shift))

    fetched: dict[int, list[tuple[int, int, bytes]]] = {}
    for base, ranges in spans.items():
        ranges.sort()
        merged: list[list[int]] = []
        for begin, end in ranges:
            if merged and begin <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([begin, end])
        for begin, end in merged:
            data = reader.nodes(base, begin, end)
            if len(data) != (end - begin) * HASH_SIZE:
                raise IncompleteTree(f"level {base} nodes [{begin}, {end}) are not all stored")
            fetched.setdefault(base, []).append((begin, end, data))

    result: dict[Piece, bytes] = {}
    for level, index in wanted:
        shift = level % stride
        base = level - shift
        first, last = index << shift, (index + 1) << shift
        for begin, end, data in fetched[base]:
            if begin <= first and last <= end:
                run = data[(first - begin) * HASH_SIZE : (last - begin) * HASH_SIZE]
                break
        for _ in range(shift):
            run = parent_level(run)
        result[(level, index)] = run
    return result


def range_hashes(ranges: Sequence[Range], reader: NodeReader, stride: int = STRIDE) -> list[bytes]:
    """MTH(D[begin:end]) for each range, resolving all their perfect subtrees together."""
    plans = [perfect_pieces(begin, end) for begin, end in ranges]
    table = resolve((piece for plan in plans for piece in plan), reader, stride)
    return [fold([table[piece] for piece in plan]) for plan in plans]


def root(size: int, reader: NodeReader, stride: int = STRIDE) -> bytes:
    if size == 0:
        return EMPTY_ROOT
    return range_hashes([(0, size)], reader, stride)[0]


def inclusion_proof(index: int, size: int, reader: NodeReader, stride: int = STRIDE) -> list[bytes]:
    return range_hashes(inclusion_ranges(index, size), reader, stride)


def consistency_proof(old_size: int, new_size: int, reader: NodeReader, stride: int = STRIDE) -> list[bytes]:
    return range_hashes(consistency_ranges(old_size, new_size), reader, stride)


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2, step by step) ---------------------


def _well_formed(*hashes: bytes) -> bool:
    return all(isinstance(h, bytes | bytearray) and len(h) == HASH_SIZE for h in hashes)


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes | None:
    """The root an inclusion proof leads to, or None when the proof cannot be for this position."""
    if not 0 <= index < size or not _well_formed(leaf, *path):
        return None
    fn, sn, r = index, size - 1, bytes(leaf)
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


def verify_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes], root_hash: bytes) -> bool:
    computed = root_from_inclusion_proof(leaf, index, size, path)
    return computed is not None and computed == root_hash


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]
) -> bool:
    if not 0 <= old_size <= new_size or not _well_formed(old_root, new_root, *path):
        return False
    if old_size == new_size:
        return not path and old_root == new_root
    if old_size == 0:
        # Every tree extends the empty one; its only valid head is the hash of nothing.
        return not path and old_root == EMPTY_ROOT
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


# --- whole trees in memory ------------------------------------------------------------


class MemoryTree:
    """Every level of a tree as joined bytes: the full recomputation behind verification and tests.

    Level ``k`` holds the ``size >> k`` perfect subtrees of height ``k``; it serves any
    level, so it is also a :class:`NodeReader` for every stride.
    """

    def __init__(self, leaves: bytes):
        if len(leaves) % HASH_SIZE:
            raise ValueError("leaf hashes must be a multiple of 32 bytes")
        self.levels = [bytes(leaves)]
        while len(self.levels[-1]) >= 2 * HASH_SIZE:
            self.levels.append(parent_level(self.levels[-1]))

    @classmethod
    def from_hashes(cls, leaves: Iterable[bytes]) -> MemoryTree:
        return cls(b"".join(leaves))

    @property
    def size(self) -> int:
        return len(self.levels[0]) // HASH_SIZE

    def nodes(self, level: int, begin: int, end: int) -> bytes:
        if level >= len(self.levels):
            return b""
        return self.levels[level][begin * HASH_SIZE : end * HASH_SIZE]

    def node(self, level: int, index: int) -> bytes:
        return self.nodes(level, index, index + 1)

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} is beyond the {self.size} leaves held")
        if size == 0:
            return EMPTY_ROOT
        return fold([self.node(level, index) for level, index in perfect_pieces(0, size)])


# --- appending --------------------------------------------------------------------------


class CompactRange:
    """The perfect subtrees covering leaves ``[0, size)``: one per set bit of ``size``, largest first.

    It is all an append needs (no old leaf is read) and it gives the root at once.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()):
        if len(hashes) != size.bit_count() or not _well_formed(*hashes):
            raise ValueError(f"a compact range of size {size} has {size.bit_count()} hashes")
        self.size = size
        self.hashes = [bytes(h) for h in hashes]

    @classmethod
    def from_bytes(cls, size: int, blob: bytes) -> CompactRange:
        return cls(size, hashes_of(bytes(blob)))

    def to_bytes(self) -> bytes:
        return b"".join(self.hashes)

    def levels(self) -> list[int]:
        return [level for level in reversed(range(self.size.bit_length())) if self.size >> level & 1]

    def root(self) -> bytes:
        return fold(self.hashes) if self.hashes else EMPTY_ROOT

    def extend(self, leaves: bytes, stride: int = STRIDE) -> list[tuple[int, int, bytes]]:
        """Append joined leaf hashes; return the new nodes at stride levels as (level, index, hash).

        Level by level, the frontier node at that level (if any) and the newly completed
        nodes form one run of siblings starting at an even index; its pairs are the next
        level's new nodes and an odd last one becomes the new frontier node.
        """
        if len(leaves) % HASH_SIZE:
            raise ValueError("leaf hashes must be a multiple of 32 bytes")
        old_size = self.size
        new_size = old_size + len(leaves) // HASH_SIZE
        frontier = dict(zip(self.levels(), self.hashes, strict=True))
        cache: list[tuple[int, int, bytes]] = []
        new_frontier: dict[int, bytes] = {}
        fresh = leaves
        for level in range(new_size.bit_length()):
            if fresh and level and level % stride == 0:
                first = old_size >> level
                cache.extend((level, first + i, h) for i, h in enumerate(hashes_of(fresh)))
            run = frontier.get(level, b"") + fresh
            if len(run) // HASH_SIZE % 2:
                new_frontier[level] = run[-HASH_SIZE:]
            fresh = parent_level(run)
        self.size = new_size
        self.hashes = [new_frontier[level] for level in sorted(new_frontier, reverse=True)]
        return cache
