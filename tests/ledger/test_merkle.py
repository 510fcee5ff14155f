"""kiln.ledger.merkle against the RFC's published vectors and a literal recursive implementation."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiln.ledger import merkle
from tests.ledger import reference

# Certificate Transparency's reference leaves and tree heads (RFC 6962 / RFC 9162 hashing), as
# published with the CT and transparency-dev/merkle test suites.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = {
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (0, 1): [],
}
CT_CONSISTENCY = {
    (1, 1): [],
    (2, 8): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}


def ct_tree() -> merkle.MemoryTree:
    return merkle.MemoryTree(merkle.joined_leaf_hashes(CT_LEAVES))


def hashes(n: int, salt: bytes = b"") -> list[bytes]:
    return [merkle.leaf_hash(salt + i.to_bytes(4, "big")) for i in range(n)]


class SparseStore:
    """What the database holds: leaf hashes and the stride-level nodes CompactRange produced."""

    def __init__(self, leaves: list[bytes], stride: int, chunk: int = 5):
        self.leaves = leaves
        self.stored: dict[tuple[int, int], bytes] = {}
        self.range = merkle.CompactRange()
        for start in range(0, len(leaves), chunk):
            for level, index, h in self.range.extend(b"".join(leaves[start : start + chunk]), stride):
                assert (level, index) not in self.stored
                self.stored[(level, index)] = h

    def nodes(self, level: int, begin: int, end: int) -> bytes:
        if level == 0:
            return b"".join(self.leaves[begin:end])
        return b"".join(self.stored[(level, i)] for i in range(begin, end) if (level, i) in self.stored)


# --- the published vectors --------------------------------------------------------------------


def test_empty_tree_is_the_hash_of_nothing():
    assert merkle.EMPTY_ROOT.hex() == CT_ROOTS[0] == hashlib.sha256(b"").hexdigest()
    assert merkle.CompactRange().root() == merkle.EMPTY_ROOT
    assert merkle.MemoryTree(b"").root() == merkle.EMPTY_ROOT


def test_leaf_and_node_hashes_use_the_domain_prefixes():
    assert merkle.leaf_hash(b"").hex() == CT_ROOTS[1]
    a, b = merkle.leaf_hash(b""), merkle.leaf_hash(b"\x00")
    assert merkle.node_hash(a, b).hex() == CT_ROOTS[2]


@pytest.mark.parametrize("size", range(9))
def test_roots_match_the_published_tree_heads(size):
    tree = ct_tree()
    assert tree.root(size).hex() == CT_ROOTS[size]
    assert merkle.root(size, tree).hex() == CT_ROOTS[size]
    compact = merkle.CompactRange()
    compact.extend(merkle.joined_leaf_hashes(CT_LEAVES[:size]))
    assert compact.root().hex() == CT_ROOTS[size]


@pytest.mark.parametrize(("index", "size"), CT_INCLUSION)
def test_inclusion_proofs_match_the_published_ones(index, size):
    tree = ct_tree()
    expected = CT_INCLUSION[(index, size)]
    assert [h.hex() for h in merkle.inclusion_proof(index, size, tree)] == expected
    leaf = merkle.leaf_hash(CT_LEAVES[index])
    assert merkle.verify_inclusion(leaf, index, size, [bytes.fromhex(h) for h in expected], tree.root(size))


@pytest.mark.parametrize(("old", "new"), CT_CONSISTENCY)
def test_consistency_proofs_match_the_published_ones(old, new):
    tree = ct_tree()
    expected = CT_CONSISTENCY[(old, new)]
    assert [h.hex() for h in merkle.consistency_proof(old, new, tree)] == expected
    assert merkle.verify_consistency(
        old, new, tree.root(old), tree.root(new), [bytes.fromhex(h) for h in expected]
    )


def test_split_is_the_largest_power_of_two_below_n():
    assert [merkle.split(n) for n in (2, 3, 4, 5, 8, 9, 1000)] == [1, 2, 2, 4, 4, 8, 512]
    assert merkle.split((1 << 63) + 1) == 1 << 63


# --- every proof of every small tree against the literal RFC ------------------------------------

SIZES = range(1, 71)


@pytest.mark.parametrize("stride", [1, 2, 3, 8])
def test_every_inclusion_proof_for_sizes_1_to_70(stride):
    leaves = hashes(70)
    store = SparseStore(leaves, stride)
    for n in SIZES:
        root = reference.mth(leaves[:n])
        assert merkle.root(n, store, stride) == root
        for m in range(n):
            proof = merkle.inclusion_proof(m, n, store, stride)
            assert proof == reference.path(m, leaves[:n]), (m, n)
            assert merkle.verify_inclusion(leaves[m], m, n, proof, root)


@pytest.mark.parametrize("stride", [1, 2, 3, 8])
def test_every_consistency_proof_for_sizes_1_to_70(stride):
    leaves = hashes(70)
    store = SparseStore(leaves, stride)
    roots = [reference.mth(leaves[:n]) for n in range(71)]
    for n in SIZES:
        for m in range(0, n + 1):
            proof = merkle.consistency_proof(m, n, store, stride)
            assert proof == reference.proof(m, leaves[:n]), (m, n)
            assert merkle.verify_consistency(m, n, roots[m], roots[n], proof)


def _flip(h: bytes, position: int = 0) -> bytes:
    return h[:position] + bytes([h[position] ^ 0x01]) + h[position + 1 :]


def test_tampered_inclusion_proofs_fail():
    leaves = hashes(70, b"t")
    tree = merkle.MemoryTree.from_hashes(leaves)
    for n in SIZES:
        root = tree.root(n)
        for m in range(n):
            proof = merkle.inclusion_proof(m, n, tree)
            assert not merkle.verify_inclusion(_flip(leaves[m]), m, n, proof, root)
            assert not merkle.verify_inclusion(leaves[m], m, n, proof, _flip(root, 31))
            for i in range(len(proof)):
                assert not merkle.verify_inclusion(
                    leaves[m], m, n, [*proof[:i], _flip(proof[i], i), *proof[i + 1 :]], root
                )
            if proof:
                assert not merkle.verify_inclusion(leaves[m], m, n, proof[:-1], root)
            assert not merkle.verify_inclusion(leaves[m], m, n, [*proof, leaves[0]], root)
            assert not merkle.verify_inclusion(leaves[m], n, n, proof, root)
            if n > 1:
                other = (m + 1) % n
                assert not merkle.verify_inclusion(leaves[m], other, n, proof, root)
            if len(proof) >= 2 and proof[0] != proof[1]:
                assert not merkle.verify_inclusion(leaves[m], m, n, [proof[1], proof[0], *proof[2:]], root)


def test_tampered_consistency_proofs_fail():
    leaves = hashes(70, b"c")
    tree = merkle.MemoryTree.from_hashes(leaves)
    for n in range(2, 71):
        for m in range(1, n):
            proof = merkle.consistency_proof(m, n, tree)
            old, new = tree.root(m), tree.root(n)
            assert not merkle.verify_consistency(m, n, _flip(old), new, proof)
            assert not merkle.verify_consistency(m, n, old, _flip(new), proof)
            for i in range(len(proof)):
                assert not merkle.verify_consistency(
                    m, n, old, new, [*proof[:i], _flip(proof[i], 7), *proof[i + 1 :]]
                )
            assert not merkle.verify_consistency(m, n, old, new, proof[:-1])
            assert not merkle.verify_consistency(m, n, old, new, [*proof, old])
            assert not merkle.verify_consistency(n, m, new, old, proof)


def test_degenerate_consistency_cases():
    tree = merkle.MemoryTree.from_hashes(hashes(9))
    assert merkle.verify_consistency(4, 4, tree.root(4), tree.root(4), [])
    assert not merkle.verify_consistency(4, 4, tree.root(4), tree.root(5), [])
    assert not merkle.verify_consistency(4, 4, tree.root(4), tree.root(4), [tree.root(4)])
    assert merkle.verify_consistency(0, 9, merkle.EMPTY_ROOT, tree.root(9), [])
    assert not merkle.verify_consistency(0, 9, tree.root(1), tree.root(9), [])
    assert not merkle.verify_consistency(3, 9, tree.root(3), tree.root(9), [])
    assert not merkle.verify_consistency(
        3, 9, tree.root(3)[:31], tree.root(9), merkle.consistency_proof(3, 9, tree)
    )


def test_planning_rejects_impossible_requests():
    with pytest.raises(ValueError):
        merkle.inclusion_ranges(5, 5)
    with pytest.raises(ValueError):
        merkle.consistency_ranges(6, 5)
    with pytest.raises(ValueError):
        merkle.perfect_pieces(1, 3)  # [1, 3) is no subtree of any Merkle tree


def test_missing_stored_nodes_are_reported_not_guessed():
    leaves = hashes(20)
    store = SparseStore(leaves, 2)
    store.leaves = leaves[:10]
    with pytest.raises(merkle.IncompleteTree):
        merkle.inclusion_proof(15, 20, store, 2)  # needs leaf 14


# --- appends ------------------------------------------------------------------------------------


@pytest.mark.parametrize("stride", [1, 2, 8])
def test_compact_range_caches_every_stride_node_exactly_once(stride):
    leaves = hashes(1100)
    tree = merkle.MemoryTree.from_hashes(leaves)
    store = SparseStore(leaves, stride, chunk=37)
    expected = {
        (level, index): tree.node(level, index)
        for level in range(stride, 11, stride)
        for index in range(len(leaves) >> level)
    }
    assert store.stored == expected
    assert store.range.root() == tree.root()
    restored = merkle.CompactRange.from_bytes(store.range.size, store.range.to_bytes())
    assert restored.root() == tree.root() and restored.levels() == [10, 6, 3, 2]


@settings(max_examples=60, deadline=None)
@given(chunks=st.lists(st.integers(0, 40), max_size=25), stride=st.integers(1, 4))
def test_any_chunking_of_appends_gives_the_same_tree(chunks, stride):
    leaves = hashes(sum(chunks), b"h")
    compact, stored = merkle.CompactRange(), {}
    position = 0
    for count in chunks:
        for level, index, h in compact.extend(b"".join(leaves[position : position + count]), stride):
            stored[(level, index)] = h
        position += count
        assert compact.root() == reference.mth(leaves[:position])
    tree = merkle.MemoryTree.from_hashes(leaves)
    assert all(tree.node(level, index) == h for (level, index), h in stored.items())


@settings(max_examples=150, deadline=None)
@given(data=st.data(), size=st.integers(1, 600), stride=st.integers(1, 9))
def test_proofs_in_larger_trees_agree_with_the_rfc(data, size, stride):
    leaves = hashes(size, b"p")
    store = SparseStore(leaves, stride, chunk=data.draw(st.integers(1, 300)))
    index = data.draw(st.integers(0, size - 1))
    old = data.draw(st.integers(0, size))
    root = reference.mth(leaves)
    inclusion = merkle.inclusion_proof(index, size, store, stride)
    assert inclusion == reference.path(index, leaves)
    assert merkle.verify_inclusion(leaves[index], index, size, inclusion, root)
    consistency = merkle.consistency_proof(old, size, store, stride)
    assert consistency == reference.proof(old, leaves)
    assert merkle.verify_consistency(old, size, reference.mth(leaves[:old]), root, consistency)


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(1, 200),
    index=st.integers(0, 199),
    path=st.lists(st.binary(min_size=32, max_size=32), max_size=9),
)
def test_random_paths_do_not_verify(size, index, path):
    leaves = hashes(size, b"r")
    root = reference.mth(leaves)
    index %= size
    if path != reference.path(index, leaves):
        assert not merkle.verify_inclusion(leaves[index], index, size, path, root)
